"""Retention for decades: raw samples become 15-minute, then hourly, then daily buckets
with the same energy totals; a size cap deletes the oldest curves first; after
``pseudonymise_after_years`` badges and idle members become pseudonyms, totals stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub_engine.clock import FakeClock, iso_utc
from hub_engine.config import StoreConfig, parse_config
from hub_engine.history import Query, energy_by, site_energy
from hub_engine.store import Store
from hub_engine.store.gdpr import pseudonym

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SITE = "sites: [{id: s1, grid: {id: g, limit_a: 63, charge_points: [{id: CP1}]}}]\n"


async def _store(tmp_path: Path, **cfg: Any) -> Store:
    store = Store(StoreConfig(**cfg), tmp_path, FakeClock(NOW))
    await store.start()
    return store


async def test_three_years_of_a_register_fold_into_tiers_with_the_same_energy(
        tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        start = NOW - timedelta(days=3 * 365)
        step = timedelta(minutes=10)
        n = int((NOW - start) / step)

        def seed(db: Any) -> None:
            db.execute("INSERT INTO series (source, measurand, unit) VALUES"
                       " ('CP1/1', 'Energy.Active.Import.Register', 'Wh')")
            db.conn.executemany("INSERT INTO samples VALUES (1, ?, ?)", (
                (int((start + i * step).timestamp() * 1000), 1000.0 + 7 * i + 3 * (i % 2))
                for i in range(n)))
        await store.samples.write(seed)
        config = parse_config(SITE)
        # From a UTC midnight: the register before it is the same raw or folded.
        q = Query((start + timedelta(days=2)).replace(hour=0), NOW, "year")
        rows = store.rows

        def charged() -> list[tuple[str, int]]:
            return [(s["period"], s["charging_wh"]) for s in site_energy(rows, config, q)]
        before = charged()
        report = await store.apply_retention()
        assert report["samples"] > 0 and report["hourly"] > 0 and report["daily"] > 0
        tiers = dict(store.rows("SELECT interval_s, count(*) FROM samples_agg GROUP BY 1",
                                db="samples"))
        assert set(tiers) == {900, 3600, 86400}
        # Raw for 35 days, 15 minutes to 90, hours to 730, then days.
        raw = store.rows("SELECT count(*) FROM samples", db="samples")[0][0]
        assert raw <= 35 * 144 + 1
        assert tiers[86400] <= 366 and tiers[3600] <= 640 * 24 + 24  # whole days only
        # Per year (whole UTC days at the tier edges: Paris years start at 23:00 UTC, so
        # the test compares the three years' total and each local year within a day).
        after = charged()
        assert sum(wh for _, wh in after) == sum(wh for _, wh in before)
        for (p1, a), (p2, b) in zip(before, after, strict=True):
            assert p1 == p2 and abs(a - b) <= 24 * 6 * 20, (p1, a, b)
        assert not any((await store.apply_retention()).values())  # nothing left to do
    finally:
        await store.stop()


async def test_a_size_cap_deletes_the_oldest_curves_first(tmp_path: Path) -> None:
    store = await _store(tmp_path, samples_max_mb=1)
    try:
        def seed(db: Any) -> None:
            db.execute("INSERT INTO series (source, measurand, unit) VALUES ('m', 'P', 'W')")
            db.conn.executemany("INSERT INTO samples VALUES (1, ?, ?)", (
                (int((NOW - timedelta(minutes=i)).timestamp() * 1000), float(i))
                for i in range(120_000)))
        await store.samples.write(seed)
        report = await store.apply_retention()
        assert report["purged"] > 0
        newest = store.rows("SELECT max(ts_ms) FROM samples", db="samples")[0][0]
        assert newest == int(NOW.timestamp() * 1000)  # the latest kept, the oldest gone
        left = store.rows("SELECT count(*) FROM samples", db="samples")[0][0]
        assert 0 < left < 120_000
    finally:
        await store.stop()


async def test_old_badges_and_idle_members_become_pseudonyms(tmp_path: Path) -> None:
    store = await _store(tmp_path, pseudonymise_after_years=3)
    try:
        old, recent = iso_utc(NOW - timedelta(days=4 * 365)), iso_utc(NOW - timedelta(days=30))

        def seed(db: Any) -> None:
            for name, tag in (("gone", "GONE1"), ("here", "HERE1")):
                cur = db.execute("INSERT INTO members (name, grp, created_at) VALUES (?, 'g', ?)",
                                 [name, old])
                db.execute("INSERT INTO badges (id_tag, member_id) VALUES (?, ?)",
                           [tag, cur.lastrowid])
            for tag, started, wh in (("GONE1", old, 1000), ("gone1", old, 2000),
                                     ("HERE1", old, 3000), ("HERE1", recent, 4000)):
                db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                           " meter_start_wh, started_at, stopped_at, energy_wh)"
                           " VALUES ('CP1', 1, ?, 0, ?, ?, ?)", [tag, started, started, wh])
            db.execute("INSERT INTO unknown_badges VALUES ('STRANGER', 'CP1', ?, ?, 1)",
                       [old, old])
        await store.core.write(seed)
        totals_before = energy_by(store.rows, parse_config(SITE),
                                  Query(NOW - timedelta(days=5 * 365), NOW, "all", "site"))
        report = await store.apply_retention()
        assert report["pseudonymised_sessions"] == 3
        assert report["pseudonymised_members"] == 1
        tags = [r[0] for r in store.rows("SELECT id_tag FROM transactions ORDER BY id")]
        # One badge, one pseudonym (case does not matter); the recent session keeps its badge.
        assert tags[0] == tags[1] != tags[2] and tags[3] == "HERE1"
        assert all(t.startswith("~") and len(t) <= 20 for t in tags[:3])
        key = bytes.fromhex(store.rows("SELECT value FROM settings")[0][0])
        assert tags[0] == pseudonym(key, "GONE1")
        members = dict(store.rows("SELECT name, blocked FROM members ORDER BY id"))
        assert members == {"~member-1": 1, "here": 0}
        badges = dict(store.rows("SELECT id_tag, status FROM badges"))
        assert badges["HERE1"] == "Accepted" and "GONE1" not in badges
        assert store.rows("SELECT count(*) FROM unknown_badges") == [(0,)]
        totals_after = energy_by(store.rows, parse_config(SITE),
                                 Query(NOW - timedelta(days=5 * 365), NOW, "all", "site"))
        assert totals_after == totals_before  # the energy stays
        again = await store.apply_retention()
        assert not any(v for k, v in again.items() if k.startswith("pseudonymised"))
    finally:
        await store.stop()


async def test_routine_frames_leave_the_ocpp_log_sooner(tmp_path: Path) -> None:
    store = await _store(tmp_path)
    try:
        for days, frames in ((10, ('[2,"a1","MeterValues",{}]', '[3,"a1",{}]',
                                   '[2,"b1","Heartbeat",{}]', '[3,"b1",{}]',
                                   '[2,"c1","StatusNotification",{}]', '[3,"c1",{}]')),
                             (1, ('[2,"a2","MeterValues",{}]', '[3,"a2",{}]'))):
            for i, frame in enumerate(frames):
                store.journal.frame("CP1", "in" if i % 2 == 0 else "out", frame,
                                    NOW - timedelta(days=days))
        await store.journal.flush()
        tagged = store.rows("SELECT message, action FROM ocpp_log ORDER BY id", db="samples")
        assert tagged[1] == ('[3,"a1",{}]', "MeterValues")  # the answer carries its action
        assert tagged[5] == ('[3,"c1",{}]', "StatusNotification")
        report = await store.apply_retention()
        assert report["ocpp_log"] == 4  # 10-day-old MeterValues and Heartbeat, both ways
        left = [r[0] for r in store.rows("SELECT message FROM ocpp_log ORDER BY id",
                                          db="samples")]
        assert left == ['[2,"c1","StatusNotification",{}]', '[3,"c1",{}]',
                        '[2,"a2","MeterValues",{}]', '[3,"a2",{}]']
    finally:
        await store.stop()
