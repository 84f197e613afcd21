"""Energy and sessions per period (day, week, month, year, in the site's local time) and per
site, board, group, charge point, member or badge; the site's consumption beside its
charging.

Sessions are counted in the period they started in. SQL groups them by UTC hour and key
first (an index range scan), Python folds the hours into local periods: DST-correct, and
a handful of rows per hour whatever the history's length.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hub_engine.clock import iso_utc
from hub_engine.config import HubConfig, NodeConfig

__all__ = ["BY", "PERIODS", "Query", "energy_by", "period_start", "site_energy"]

Period = Literal["day", "week", "month", "year", "all"]
By = Literal["site", "board", "group", "charge_point", "member", "badge"]
PERIODS: tuple[Period, ...] = ("day", "week", "month", "year", "all")
BY: tuple[By, ...] = ("site", "board", "group", "charge_point", "member", "badge")
Rows = Callable[..., list[Any]]
_KEY = {"member": "m.name", "group": "m.grp", "badge": "upper(t.id_tag)"}


@dataclass(frozen=True)
class Query:
    since: datetime  # aware
    until: datetime  # aware, excluded
    period: Period = "month"
    by: By = "site"


def period_start(local: datetime, period: Period) -> date:
    day = local.date()
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    if period == "year":
        return day.replace(month=1, day=1)
    if period == "all":
        return date.min
    return day


def _boards(config: HubConfig) -> tuple[dict[str, str], dict[str, str]]:
    """Charge point → its site, and → the board (node) it hangs from."""
    site_of, board_of = {}, {}

    def walk(site_id: str, node: NodeConfig) -> None:
        for cp in node.charge_points:
            site_of[cp.id], board_of[cp.id] = site_id, node.id
        for child in node.children:
            walk(site_id, child)
    for site in config.sites:
        walk(site.id, site.grid)
    return site_of, board_of


def _offsets(since: datetime, until: datetime, tz: ZoneInfo) -> list[tuple[datetime, int]]:
    """The zone's UTC offset (s) from each change on (DST), over [since, until)."""
    def off(t: datetime) -> int:
        delta = t.astimezone(tz).utcoffset()
        return int(delta.total_seconds()) if delta is not None else 0
    t = since.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    out = [(t, off(t))]
    day = timedelta(days=1)
    while t < until:
        nxt = t + day
        if off(nxt) != out[-1][1]:  # a change within the day: find its hour
            h = t
            while off(h) == out[-1][1]:
                h += timedelta(hours=1)
            out.append((h, off(h)))
        t = nxt
    return out


def local_sql(column: str, since: datetime, until: datetime, tz: ZoneInfo,
              period: Period) -> str:
    """SQL for the local period (its first day, ``YYYY-MM-DD``) of a UTC ISO ``column``:
    SQLite knows no time zones, so the zone's offsets over the range are spelled out."""
    changes = _offsets(since, until, tz)
    offset = "".join(f" WHEN {column} < '{iso_utc(t)}' THEN {prev}"
                     for (t, _), (_, prev) in zip(changes[1:], changes, strict=False))
    local = (f"datetime({column}, (CASE{offset} ELSE {changes[-1][1]} END) || ' seconds')"
             if len(changes) > 1 else f"datetime({column}, '{changes[0][1]} seconds')")
    return {"day": f"substr({local}, 1, 10)",
            "week": f"date({local}, '-' || ((strftime('%w', {local}) + 6) % 7) || ' days')",
            "month": f"substr({local}, 1, 7) || '-01'",
            "year": f"substr({local}, 1, 4) || '-01-01'",
            "all": "'all'"}[period]


def energy_by(rows: Rows, config: HubConfig, q: Query) -> list[dict[str, Any]]:
    """``[{period, key, sessions, energy_wh, duration_s}]``, oldest period first; sessions
    under way count with their energy so far unknown (0) until they end."""
    tz = ZoneInfo(config.hub.timezone)
    key = _KEY.get(q.by, "t.charge_point_id")
    join = (" LEFT JOIN badges b ON b.id_tag = t.id_tag COLLATE NOCASE"
            " LEFT JOIN members m ON m.id = b.member_id") if q.by in _KEY else ""
    now = iso_utc(datetime.now(UTC))
    period = local_sql("t.started_at", q.since, q.until, tz, q.period)
    sql = (f"SELECT {period}, {key}, count(*), sum(coalesce(t.energy_wh, 0)),"
           " sum((julianday(coalesce(t.stopped_at, ?)) - julianday(t.started_at)) * 86400)"
           f" FROM transactions t{join} WHERE t.started_at >= ? AND t.started_at < ?"
           " GROUP BY 1, 2")
    site_of, board_of = _boards(config)
    mapped = {"site": site_of, "board": board_of}.get(q.by)
    out: dict[tuple[str, str], list[float]] = {}
    for p, raw_key, n, energy, duration in rows(sql, (now, iso_utc(q.since),
                                                      iso_utc(q.until))):
        name = str(mapped.get(raw_key, "?") if mapped is not None else (raw_key or ""))
        acc = out.setdefault((p, name), [0, 0.0, 0.0])  # boards and sites gather keys
        acc[0] += n
        acc[1] += energy or 0
        acc[2] += duration or 0
    return [{"period": p, "key": k, "sessions": int(v[0]), "energy_wh": round(v[1]),
             "duration_s": round(v[2])} for (p, k), v in sorted(out.items())]


def _bounds(q: Query, tz: ZoneInfo) -> list[datetime]:
    """The local period starts within (since, until), with since and until around them."""
    out = [q.since]
    if q.period != "all":
        day = q.since.astimezone(tz).date()
        end = q.until.astimezone(tz).date()
        while day <= end:
            start = datetime.combine(period_start(datetime.combine(day, time()), q.period),
                                     time(), tz)
            if q.since < start < q.until and start != out[-1]:
                out.append(start)
            day += timedelta(days=1)
    out.append(q.until)
    return out


def site_energy(rows: Rows, config: HubConfig, q: Query) -> list[dict[str, Any]]:
    """Per period and site: ``consumption_wh`` (the grid meter's currents × the nominal
    voltage, an estimate), ``charging_wh`` (the rise of the connectors' own energy
    registers between the period's bounds), ``pv_wh`` (None until the site has PV)."""
    tz = ZoneInfo(config.hub.timezone)
    lo, hi = int(q.since.timestamp() * 1000), int(q.until.timestamp() * 1000)
    site_of, _ = _boards(config)
    out: dict[tuple[str, str], dict[str, float]] = {}

    def label(when: datetime) -> str:
        return "all" if q.period == "all" else period_start(when.astimezone(tz),
                                                              q.period).isoformat()

    def acc(when: datetime, site: str) -> dict[str, float]:
        return out.setdefault((label(when), site), {"consumption_wh": 0.0, "charging_wh": 0.0})
    for site in config.sites:
        # Mean current per hour and phase, and how many 10-second records it stands for.
        for hour_ms, mean_a, records in _hourly(rows, f"ems/{site.grid.id}",
                                                "Current.Import", lo, hi):
            when = datetime.fromtimestamp(hour_ms / 1000, UTC)
            acc(when, site.id)["consumption_wh"] += mean_a * site.voltage_v * records / 360
    bounds = _bounds(q, tz)
    for source, series_ids in _registers(rows):
        site_id = site_of.get(source.split("/")[0])
        if site_id is None:
            continue
        ms = [int(b.timestamp() * 1000) for b in bounds]
        at = [_register_at(rows, series_ids, t) for t in ms]
        for i, (start, a, b) in enumerate(zip(bounds, at, at[1:], strict=False)):
            if a is None:  # nothing known before: the rise since its first reading
                a = _register_first(rows, series_ids, ms[i], ms[i + 1])
            if a is not None and b is not None and b > a:
                acc(start, site_id)["charging_wh"] += b - a
    return [{"period": p, "site": s, "consumption_wh": round(v["consumption_wh"]),
             "charging_wh": round(v["charging_wh"]), "pv_wh": None}
            for (p, s), v in sorted(out.items())]


def _hourly(rows: Rows, source: str, measurand: str, lo: int, hi: int
            ) -> list[tuple[int, float, float]]:
    """(hour, mean current, records) per hour and phase, raw and downsampled together."""
    sql = ("SELECT ts_ms / 3600000 * 3600000, avg(value), count(*) FROM samples s"
           " JOIN series r ON r.id = s.series_id WHERE r.source = ? AND r.measurand = ?"
           " AND s.ts_ms >= ? AND s.ts_ms < ? GROUP BY 1, r.phase"
           " UNION ALL SELECT bucket_ms / 3600000 * 3600000, sum(avg * n) / sum(n), sum(n)"
           " FROM samples_agg a JOIN series r ON r.id = a.series_id WHERE r.source = ?"
           " AND r.measurand = ? AND a.bucket_ms >= ? AND a.bucket_ms < ? GROUP BY 1, r.phase")
    return [(int(h), float(m), float(n))
            for h, m, n in rows(sql, (source, measurand, lo, hi) * 2, db="samples")]


def _registers(rows: Rows) -> list[tuple[str, list[int]]]:
    """Each connector's energy register series (one per unit it reported in)."""
    found: dict[str, list[int]] = {}
    for sid, source in rows("SELECT id, source FROM series WHERE measurand ="
                            " 'Energy.Active.Import.Register' AND phase = ''", db="samples"):
        found.setdefault(source, []).append(sid)
    return sorted(found.items())


def _register_at(rows: Rows, series_ids: list[int], at_ms: int) -> float | None:
    """The register's last value at or before ``at_ms``: the last raw sample, or the
    maximum of the last downsampled bucket that ended by then (a bucket's maximum is the
    register at its end, so the figure is the same before and after downsampling)."""
    best: tuple[int, float] | None = None
    for sid in series_ids:
        for ts, value in rows(
                "SELECT ts_ms, value FROM samples WHERE series_id = ? AND ts_ms < ?"
                " ORDER BY ts_ms DESC LIMIT 1", (sid, at_ms), db="samples") + rows(
                "SELECT bucket_ms + interval_s * 1000 - 1, max FROM samples_agg"
                " WHERE series_id = ? AND bucket_ms < ? ORDER BY bucket_ms DESC LIMIT 2",
                (sid, at_ms), db="samples"):
            # A bucket still open at ``at_ms`` (a UTC day across a local midnight) does
            # not count: the one before it does.
            if ts < at_ms and (best is None or ts > best[0]):
                best = (int(ts), float(value))
    return best[1] if best else None


def _register_first(rows: Rows, series_ids: list[int], lo_ms: int, hi_ms: int
                    ) -> float | None:
    """The register's first reading in [lo, hi): a raw sample, or a bucket's minimum."""
    best: tuple[int, float] | None = None
    for sid in series_ids:
        for ts, value in rows(
                "SELECT ts_ms, value FROM samples WHERE series_id = ? AND ts_ms >= ?"
                " AND ts_ms < ? ORDER BY ts_ms LIMIT 1", (sid, lo_ms, hi_ms), db="samples"
                ) + rows(
                "SELECT bucket_ms, min FROM samples_agg WHERE series_id = ? AND bucket_ms >= ?"
                " AND bucket_ms < ? ORDER BY bucket_ms LIMIT 1", (sid, lo_ms, hi_ms),
                db="samples"):
            if best is None or ts < best[0]:
                best = (int(ts), float(value))
    return best[1] if best else None
