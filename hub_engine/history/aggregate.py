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
from datetime import UTC, date, datetime, timedelta
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


def energy_by(rows: Rows, config: HubConfig, q: Query) -> list[dict[str, Any]]:
    """``[{period, key, sessions, energy_wh, duration_s}]``, oldest period first; sessions
    under way count with their energy so far unknown (0) until they end."""
    tz = ZoneInfo(config.hub.timezone)
    key = _KEY.get(q.by, "t.charge_point_id")
    join = (" LEFT JOIN badges b ON b.id_tag = t.id_tag COLLATE NOCASE"
            " LEFT JOIN members m ON m.id = b.member_id") if q.by in _KEY else ""
    now = iso_utc(datetime.now(UTC))
    sql = (f"SELECT substr(t.started_at, 1, 13), {key}, count(*), sum(coalesce(t.energy_wh, 0)),"
           " sum((julianday(coalesce(t.stopped_at, ?)) - julianday(t.started_at)) * 86400)"
           f" FROM transactions t{join} WHERE t.started_at >= ? AND t.started_at < ?"
           " GROUP BY 1, 2")
    site_of, board_of = _boards(config)
    mapped = {"site": site_of, "board": board_of}.get(q.by)
    out: dict[tuple[date, str], list[float]] = {}
    for hour, raw_key, n, energy, duration in rows(sql, (now, iso_utc(q.since),
                                                         iso_utc(q.until))):
        start = datetime.strptime(hour, "%Y-%m-%dT%H").replace(tzinfo=UTC).astimezone(tz)
        name = str(mapped.get(raw_key, "?") if mapped is not None else (raw_key or ""))
        acc = out.setdefault((period_start(start, q.period), name), [0, 0.0, 0.0])
        acc[0] += n
        acc[1] += energy or 0
        acc[2] += duration or 0
    return [{"period": "all" if p == date.min else p.isoformat(), "key": k,
             "sessions": int(v[0]), "energy_wh": round(v[1]), "duration_s": round(v[2])}
            for (p, k), v in sorted(out.items())]


def site_energy(rows: Rows, config: HubConfig, q: Query) -> list[dict[str, Any]]:
    """Per period and site: ``consumption_wh`` (the grid meter's currents × the nominal
    voltage, an estimate), ``charging_wh`` (the connectors' own energy registers),
    ``pv_wh`` (None until the site has PV)."""
    tz = ZoneInfo(config.hub.timezone)
    lo, hi = int(q.since.timestamp() * 1000), int(q.until.timestamp() * 1000)
    site_of, _ = _boards(config)
    out: dict[tuple[date, str], dict[str, float]] = {}

    def acc(ms: int, site: str) -> dict[str, float]:
        local = datetime.fromtimestamp(ms / 1000, UTC).astimezone(tz)
        return out.setdefault((period_start(local, q.period), site),
                              {"consumption_wh": 0.0, "charging_wh": 0.0})
    for site in config.sites:
        # Mean current per hour and phase, and how many 10-second records it stands for.
        for hour_ms, mean_a, records in _hourly(rows, f"ems/{site.grid.id}",
                                                "Current.Import", lo, hi):
            acc(hour_ms, site.id)["consumption_wh"] += mean_a * site.voltage_v * records * 10 / 3600
    for hour_ms, source, delta_wh in _register_deltas(rows, lo, hi):
        site_id = site_of.get(source.split("/")[0])
        if site_id is not None:
            acc(hour_ms, site_id)["charging_wh"] += delta_wh
    return [{"period": "all" if p == date.min else p.isoformat(), "site": s,
             "consumption_wh": round(v["consumption_wh"]), "charging_wh": round(v["charging_wh"]),
             "pv_wh": None} for (p, s), v in sorted(out.items())]


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


_LOOKBACK_MS = 7 * 86_400_000  # the register before the period, to count its first rise


def _register_deltas(rows: Rows, lo: int, hi: int) -> list[tuple[int, str, float]]:
    """Per hour and connector: how much its energy register rose, each rise counted in the
    hour it was reported. A downsampled bucket stands as its maximum at its end: totals
    over whole buckets are the same before and after downsampling."""
    sql = ("WITH ids AS (SELECT id FROM series WHERE measurand ="
           " 'Energy.Active.Import.Register' AND phase = ''),"
           " pts AS (SELECT series_id AS id, ts_ms AS ts, value AS v FROM samples"
           "  WHERE series_id IN ids AND ts_ms >= ? AND ts_ms < ?"
           "  UNION ALL SELECT series_id, bucket_ms + interval_s * 1000 - 1, max"
           "  FROM samples_agg WHERE series_id IN ids AND bucket_ms >= ? AND bucket_ms < ?),"
           " d AS (SELECT id, ts, v - lag(v) OVER (PARTITION BY id ORDER BY ts) AS dv FROM pts)"
           " SELECT d.ts / 3600000 * 3600000, r.source, sum(max(d.dv, 0)) FROM d"
           " JOIN series r ON r.id = d.id WHERE d.ts >= ? AND d.dv IS NOT NULL GROUP BY 1, 2")
    start = lo - _LOOKBACK_MS
    return [(int(h), str(src), float(dv))
            for h, src, dv in rows(sql, (start, hi, start, hi, lo), db="samples")]
