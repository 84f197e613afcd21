"""Retention: the OCPP log and events expire, meter samples are downsampled, never lost whole.

Each function is a writer job over the samples database and works in bounded chunks, so a
purge after months offline never holds the writer (and the OCPP handlers waiting on it) for
long; the caller repeats while work remains.
"""

from __future__ import annotations

import sqlite_utils

__all__ = ["downsample_samples", "purge_before"]

CHUNK_ROWS = 20_000


def purge_before(db: sqlite_utils.Database, table: str, before_ms: int,
                 limit: int = CHUNK_ROWS) -> int:
    """Delete up to ``limit`` rows of ``ocpp_log`` or ``events`` older than ``before_ms``."""
    if table not in ("ocpp_log", "events"):
        raise ValueError(f"no retention for table {table!r}")
    cur = db.execute(
        f"DELETE FROM {table} WHERE id IN "
        f"(SELECT id FROM {table} WHERE ts_ms < ? ORDER BY ts_ms LIMIT ?)",
        [before_ms, limit],
    )
    return int(cur.rowcount)


def downsample_samples(db: sqlite_utils.Database, before_ms: int, interval_s: int,
                       limit: int = CHUNK_ROWS) -> int:
    """Fold raw samples older than ``before_ms`` into ``interval_s`` buckets; return rows folded.

    Buckets merge with what a previous run already aggregated (weighted average, min, max),
    so running it twice, or on a bucket split across runs, gives the same curve.
    """
    interval_ms = interval_s * 1000
    # Whole buckets only: a bucket still receiving raw samples is left for a later run.
    cutoff = before_ms - before_ms % interval_ms
    rows = db.execute(
        "SELECT series_id, ts_ms, value FROM samples WHERE ts_ms < ? ORDER BY ts_ms LIMIT ?",
        [cutoff, limit],
    ).fetchall()
    if not rows:
        return 0
    buckets: dict[tuple[int, int], list[float]] = {}
    for series_id, ts_ms, value in rows:
        buckets.setdefault((series_id, ts_ms - ts_ms % interval_ms), []).append(value)
    for (series_id, bucket_ms), values in buckets.items():
        db.execute(
            """INSERT INTO samples_agg (series_id, bucket_ms, interval_s, avg, min, max, n)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (series_id, bucket_ms) DO UPDATE SET
                 avg = (avg * n + excluded.avg * excluded.n) / (n + excluded.n),
                 min = MIN(min, excluded.min), max = MAX(max, excluded.max),
                 n = n + excluded.n""",
            [series_id, bucket_ms, interval_s, sum(values) / len(values),
             min(values), max(values), len(values)],
        )
    db.conn.executemany(
        "DELETE FROM samples WHERE series_id = ? AND ts_ms = ?",
        [(series_id, ts_ms) for series_id, ts_ms, _ in rows],
    )
    return len(rows)
