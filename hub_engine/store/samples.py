"""Time series in ``samples.db``: one row per (series, time), series named by source,
measurand, phase and unit. Written by charge points' MeterValues and the EMS record."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

__all__ = ["Sample", "last_energy_register_wh", "ms", "samples"]

Job = Callable[[sqlite_utils.Database], Any]


_LAST_REGISTER = (
    "SELECT s.value FROM samples s JOIN series r ON r.id = s.series_id WHERE r.source = ?"
    " AND r.measurand = 'Energy.Active.Import.Register' AND r.phase = ''"
    " ORDER BY s.ts_ms DESC LIMIT 1")


def last_energy_register_wh(read: Callable[..., list[Any]], source: str) -> float | None:
    """The last energy register a connector (``CP/1``) reported, None if none yet;
    ``read`` is :meth:`Store.read` (the caller's thread's own connection)."""
    rows = read(_LAST_REGISTER, (source,), db="samples")
    return float(rows[0][0]) if rows else None


def ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


@dataclass(frozen=True)
class Sample:
    ts: datetime
    measurand: str
    phase: str  # L1, L2, L3, N, L1-L2… or "" for the whole connector
    unit: str
    value: float
    context: str



def _series_id(db: sqlite_utils.Database, key: tuple[str, str, str, str]) -> int:
    # The cache lives on the writer's own Database object: one per file and per writer,
    # so ids never leak between databases (or between two stores in one process).
    cache: dict[tuple[str, str, str, str], int] = db.__dict__.setdefault("_hub_series", {})
    sid = cache.get(key)
    if sid is None:
        db.execute("INSERT OR IGNORE INTO series (source, measurand, phase, unit) "
                   "VALUES (?, ?, ?, ?)", list(key))
        sid = int(db.execute("SELECT id FROM series WHERE source = ? AND measurand = ? "
                             "AND phase = ? AND unit = ?", list(key)).fetchone()[0])
        cache[key] = sid
    return sid


def samples(source: str, items: list[Sample]) -> Job:
    def job(db: sqlite_utils.Database) -> int:
        try:
            rows = [(_series_id(db, (source, s.measurand, s.phase, s.unit)), ms(s.ts), s.value)
                    for s in items]
        except BaseException:
            db.__dict__.pop("_hub_series", None)  # a rolled-back insert must not stay cached
            raise
        db.conn.executemany("INSERT OR REPLACE INTO samples (series_id, ts_ms, value) "
                            "VALUES (?, ?, ?)", rows)
        return len(rows)
    return job
