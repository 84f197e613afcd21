"""Ten years of a 150-charge-point site on disk, and how fast its history answers.

Builds what the hub's retention leaves after ``--years`` of operation, with the default
store settings: in ``core.db`` every session (3 a day per charge point), members and
badges; in ``samples.db`` per connector the series the hub asks for (energy register,
power, three currents, Current.Offered, voltage every 60 s; the EMS's Current.Limit
every 10 s) raw for 35 days, in 15-minute buckets to 90 days, hourly to 730 days, daily
beyond; the EMS's per-node series (4 measurands × 3 phases every 10 s, 5 nodes); the OCPP
log (a week of MeterValues and Heartbeats, 90 days of the rest). Then it times the history's
queries on it (median of three) and prints the size of each file.

Samples are generated for ``--scale`` of the charge points (default 0.1: 15 of them) and
scaled up linearly (the per-connector part grows with the number of series; the site's
own series are built once); ``--scale 1`` builds the whole site. Sessions are always
built whole.
``python -m bench.storage_history [--charge-points 150] [--years 10] [--scale 0.1]``
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub_engine.clock import FakeClock, iso_utc
from hub_engine.config import StoreConfig, parse_config
from hub_engine.history import Query, energy_by, site_energy
from hub_engine.history.excel import workbook
from hub_engine.store import Store

RESULTS = Path(__file__).parent / "results"
NOW = datetime(2036, 12, 1, tzinfo=UTC)
DAY_MS = 86_400_000
SERIES = (("Energy.Active.Import.Register", "", "Wh"), ("Power.Active.Import", "", "W"),
          ("Current.Import", "L1", "A"), ("Current.Import", "L2", "A"),
          ("Current.Import", "L3", "A"), ("Current.Offered", "", "A"), ("Voltage", "", "V"))
FRAME = ('[2,"{id}","MeterValues",{{"connectorId":1,"transactionId":{tx},"meterValue":[{{'
         '"timestamp":"2036-01-01T00:00:00Z","sampledValue":[{{"value":"{wh}","measurand":'
         '"Energy.Active.Import.Register","unit":"Wh"}},{{"value":"7360","measurand":'
         '"Power.Active.Import","unit":"W"}},{{"value":"16.0","measurand":"Current.Import",'
         '"phase":"L1","unit":"A"}},{{"value":"16.0","measurand":"Current.Import","phase":'
         '"L2","unit":"A"}},{{"value":"16.0","measurand":"Current.Import","phase":"L3",'
         '"unit":"A"}},{{"value":"16.0","measurand":"Current.Offered","unit":"A"}}]}}]}}]')


def site_yaml(n: int) -> str:
    boards = "\n".join(
        f"        - {{id: b{b}, limit_a: 250, charge_points: ["
        + ", ".join(f"{{id: CP{b * 30 + k + 1:03d}}}" for k in range(min(30, n - b * 30)))
        + "]}" for b in range((n + 29) // 30))
    return ("sites:\n  - id: s1\n    grid:\n      id: grid\n      limit_a: 1000\n"
            f"      children:\n{boards}\n")


def _tiers(start_ms: int, end_ms: int, step_ms: int) -> Iterator[int]:
    yield from range(start_ms - start_ms % step_ms, end_ms, step_ms)


def build(folder: Path, n_cp: int, years: int, scale: float) -> dict[str, Any]:
    """The retained state; row counts per table (at the built scale)."""
    store = Store(StoreConfig(), folder, FakeClock(NOW))

    async def init() -> None:
        await store.start()
        await store.stop()
    asyncio.run(init())
    rng = random.Random(1)
    now_ms = int(NOW.timestamp() * 1000)
    first = NOW - timedelta(days=365 * years)
    core = sqlite3.connect(folder / "core.db")
    core.execute("PRAGMA synchronous=OFF")
    with core:
        for m in range(600):
            core.execute("INSERT INTO members (name, grp, created_at) VALUES (?, ?, ?)",
                         [f"member{m}", f"g{m % 12}", iso_utc(first)])
            core.execute("INSERT INTO badges (id_tag, member_id) VALUES (?, ?)",
                         [f"TAG{m:05d}", m + 1])
        rows = []
        day = first
        while day < NOW:
            for cp in range(n_cp):
                for k in range(3):
                    start = day + timedelta(hours=7 + 4 * k, minutes=rng.randrange(60))
                    wh = rng.randrange(3000, 30000)
                    rows.append((f"CP{cp + 1:03d}", 1, f"TAG{rng.randrange(600):05d}", 0,
                                 iso_utc(start), wh, iso_utc(start + timedelta(hours=3)), wh))
            if len(rows) > 200_000:
                core.executemany("INSERT INTO transactions (charge_point_id, connector_id,"
                                 " id_tag, meter_start_wh, started_at, meter_stop_wh,"
                                 " stopped_at, energy_wh) VALUES (?,?,?,?,?,?,?,?)", rows)
                rows.clear()
            day += timedelta(days=1)
        core.executemany("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                         " meter_start_wh, started_at, meter_stop_wh, stopped_at, energy_wh)"
                         " VALUES (?,?,?,?,?,?,?,?)", rows)
    core.close()
    built = max(1, round(n_cp * scale))
    cfg = StoreConfig()
    raw_from = now_ms - cfg.samples_full_resolution_days * DAY_MS
    q15_from = now_ms - cfg.samples_hourly_after_days * DAY_MS
    h_from = now_ms - cfg.samples_daily_after_days * DAY_MS
    d_from = int(first.timestamp() * 1000)
    samples = sqlite3.connect(folder / "samples.db")
    samples.execute("PRAGMA synchronous=OFF")
    counts: dict[str, Any] = {"raw": 0, "agg": 0, "ocpp_log": 0}

    def series(source: str, measurand: str, phase: str, unit: str) -> int:
        cur = samples.execute("INSERT INTO series (source, measurand, phase, unit)"
                              " VALUES (?, ?, ?, ?)", [source, measurand, phase, unit])
        return int(cur.lastrowid or 0)

    def fill(sid: int, every_ms: int, value: Callable[[int], float]) -> None:
        raw = [(sid, ts, value(ts)) for ts in range(raw_from, now_ms, every_ms)]
        samples.executemany("INSERT INTO samples VALUES (?, ?, ?)", raw)
        agg = []
        for lo, hi, width in ((d_from, h_from, 86_400), (h_from, q15_from, 3600),
                              (q15_from, raw_from, 900)):
            for b in _tiers(lo, hi, width * 1000):
                v = value(b)
                agg.append((sid, b, width, v, v * 0.9, v * 1.1, width * 1000 // every_ms))
        samples.executemany("INSERT OR IGNORE INTO samples_agg VALUES (?, ?, ?, ?, ?, ?, ?)",
                            agg)
        counts["raw"] += len(raw)
        counts["agg"] += len(agg)
    def checkpoint() -> float:
        samples.commit()
        samples.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return (folder / "samples.db").stat().st_size / 1e6
    for cp in range(built):
        source = f"CP{cp + 1:03d}/1"
        for measurand, phase, unit in SERIES:
            register = measurand.startswith("Energy")
            fill(series(source, measurand, phase, unit), 60_000,
                 (lambda ts: ts / 3_600_000 * 2000.0) if register
                 else (lambda ts: float(ts // 60_000 % 32)))
        fill(series(source, "Current.Limit", "", "A"), 10_000, lambda ts: 16.0)
        # The OCPP log: a week of the routine (MeterValues each minute, Heartbeat every
        # 5 min, both ways), 90 days of the rest (statuses, sessions: ~40 frames a day).
        frames = []
        cp_id = f"CP{cp + 1:03d}"
        for ts in range(now_ms - 7 * DAY_MS, now_ms, 60_000):
            frames.append((ts, cp_id, "in", FRAME.format(id=ts, tx=cp, wh=ts // 1000),
                           "MeterValues"))
            frames.append((ts + 40, cp_id, "out", f'[3,"{ts}",{{}}]', "MeterValues"))
            if ts % 300_000 == 0:
                frames.append((ts + 1, cp_id, "in", f'[2,"h{ts}","Heartbeat",{{}}]',
                                "Heartbeat"))
                frames.append((ts + 41, cp_id, "out", f'[3,"h{ts}",{{"currentTime":'
                               '"2036-01-01T00:00:00.000Z"}]', "Heartbeat"))
        for ts in range(now_ms - 90 * DAY_MS, now_ms, DAY_MS // 20):
            frames.append((ts + 2, cp_id, "in", f'[2,"s{ts}","StatusNotification",'
                           '{"connectorId":1,"errorCode":"NoError","status":"Charging",'
                           '"timestamp":"2036-01-01T00:00:00Z"}]', "StatusNotification"))
            frames.append((ts + 42, cp_id, "out", f'[3,"s{ts}",{{}}]', "StatusNotification"))
        samples.executemany("INSERT INTO ocpp_log (ts_ms, charge_point_id, direction,"
                            " message, action) VALUES (?, ?, ?, ?, ?)", frames)
        counts["ocpp_log"] += len(frames)
    per_cp_mb = checkpoint()
    for node in ["grid", *[f"b{b}" for b in range((n_cp + 29) // 30)]]:
        for measurand in ("Current.Import", "Current.NonEV", "Current.Charging",
                          "Current.Capacity"):
            for phase in ("L1", "L2", "L3"):
                fill(series(f"ems/{node}", measurand, phase, "A"), 10_000,
                     lambda ts: 100.0 + ts // 10_000 % 50)
    counts["site_series_mb"] = round(checkpoint() - per_cp_mb, 1)
    counts["per_cp_series_mb"] = round(per_cp_mb, 1)
    samples.close()
    return {"charge_points_sampled": built, **counts}


def timed(fn: Callable[[], Any], repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=150)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--scale", type=float, default=0.1)
    parser.add_argument("--keep", help="build in this folder and keep it")
    parser.add_argument("--reuse", action="store_true",
                        help="time the queries on what --keep built before")
    args = parser.parse_args()
    tmp = tempfile.TemporaryDirectory(prefix="storage-bench-")
    folder = Path(args.keep or tmp.name)
    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    built_file = folder / "built.json"
    if args.reuse and built_file.exists():
        counts = json.loads(built_file.read_text())
    else:
        counts = build(folder, args.charge_points, args.years, args.scale)
        built_file.write_text(json.dumps(counts))
    build_s = time.perf_counter() - t0
    factor = args.charge_points / counts["charge_points_sampled"]
    core_mb = (folder / "core.db").stat().st_size / 1e6
    samples_mb = (folder / "samples.db").stat().st_size / 1e6
    site_samples_mb = counts["per_cp_series_mb"] * factor + counts["site_series_mb"]
    config = parse_config(site_yaml(args.charge_points))
    store = Store(StoreConfig(), folder, FakeClock(NOW))
    rows = store.rows
    year = Query(NOW - timedelta(days=365), NOW, "day", "site")
    all_years = Query(NOW - timedelta(days=365 * args.years), NOW, "month", "charge_point")
    month = Query(NOW - timedelta(days=30), NOW, "day", "charge_point")
    queries = {
        "energy per month and charge point, all years": lambda: energy_by(rows, config,
                                                                          all_years),
        "energy per month and member, all years": lambda: energy_by(
            rows, config, Query(all_years.since, NOW, "month", "member")),
        "energy per day, last year": lambda: energy_by(rows, config, year),
        "site consumption and charging per day, last year": lambda: site_energy(rows, config,
                                                                                year),
        "site consumption and charging per month, all years": lambda: site_energy(
            rows, config, Query(all_years.since, NOW, "month")),
        "sessions page (newest 50)": lambda: rows(
            "SELECT * FROM transactions ORDER BY started_at DESC LIMIT 50"),
        "Excel workbook of the last month": lambda: workbook(rows, config, month, "en"),
    }
    timings = {name: round(timed(fn) * 1000, 1) for name, fn in queries.items()}
    sessions = rows("SELECT count(*) FROM transactions")[0][0]
    result = {
        "charge_points": args.charge_points, "years": args.years, "scale": args.scale,
        "sessions": sessions, "build_s": round(build_s, 1),
        "rows_built": counts,
        "core_db_mb": round(core_mb, 1),
        "samples_db_mb_built": round(samples_mb, 1),
        "samples_db_mb_site": round(site_samples_mb, 1),
        "total_mb_site": round(core_mb + site_samples_mb, 1),
        "query_ms": timings,
    }
    print(f"{args.years} years of {args.charge_points} charge points "
          f"({sessions:,} sessions; samples built for {counts['charge_points_sampled']}, "
          f"×{factor:g}):")
    print(f"  core.db     {core_mb:9.1f} MB")
    print(f"  samples.db  {site_samples_mb:9.1f} MB  (built: {samples_mb:.1f} MB; raw "
          f"{counts['raw']:,}, buckets {counts['agg']:,}, OCPP log {counts['ocpp_log']:,} "
          "rows)")
    print(f"  total       {result['total_mb_site']:9.1f} MB")
    for name, ms in timings.items():
        print(f"  {ms:9.1f} ms  {name}")
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "storage_history.json").write_text(json.dumps(result, indent=2))
    store_files = [p.name for p in folder.iterdir()]
    if args.keep:
        print(f"kept in {folder}: {', '.join(sorted(store_files))}")


if __name__ == "__main__":
    main()
