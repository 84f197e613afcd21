"""Retention: the OCPP log and events expire, meter samples are downsampled, never lost whole.

Each function is a writer job over the samples database and works in bounded chunks, so a
purge after months offline never holds the writer (and the OCPP handlers waiting on it) for
long; the caller repeats while work remains.
"""

from __future__ import annotations

import sqlite_utils

__all__ = ["downsample_samples", "fold_aggregates", "purge_before", "purge_oldest", "used_mb"]

CHUNK_ROWS = 20_000


def purge_before(db: sqlite_utils.Database, table: str, before_ms: int,
                 limit: int = CHUNK_ROWS, action: str | None = None) -> int:
    """Delete up to ``limit`` rows of ``ocpp_log`` (of one ``action`` only, if given) or
    ``events`` older than ``before_ms``."""
    if table not in ("ocpp_log", "events"):
        raise ValueError(f"no retention for table {table!r}")
    if action is not None:
        cur = db.execute("DELETE FROM ocpp_log WHERE id IN (SELECT id FROM ocpp_log"
                         " WHERE action = ? AND ts_ms < ? LIMIT ?)", [action, before_ms, limit])
        return int(cur.rowcount)
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


def fold_aggregates(db: sqlite_utils.Database, before_ms: int, from_s: int, interval_s: int,
                    limit: int = CHUNK_ROWS) -> int:
    """Fold ``from_s`` buckets older than ``before_ms`` into ``interval_s`` buckets (15 min
    → hour → day); return rows folded. Averages stay
    weighted by their counts, a bucket's minimum and maximum stay its extremes, so an
    energy register's rise over whole buckets is the same before and after."""
    interval_ms = interval_s * 1000
    cutoff = before_ms - before_ms % interval_ms
    rows = db.execute(
        "SELECT series_id, bucket_ms, avg, min, max, n FROM samples_agg"
        " WHERE interval_s = ? AND bucket_ms < ? ORDER BY bucket_ms LIMIT ?",
        [from_s, cutoff, limit]).fetchall()
    if not rows:
        return 0
    merged: dict[tuple[int, int], list[float]] = {}
    for series_id, bucket_ms, avg, lo, hi, n in rows:
        acc = merged.setdefault((series_id, bucket_ms - bucket_ms % interval_ms),
                                [0.0, lo, hi, 0])
        acc[0] += avg * n
        acc[1], acc[2], acc[3] = min(acc[1], lo), max(acc[2], hi), acc[3] + n
    db.conn.executemany("DELETE FROM samples_agg WHERE series_id = ? AND bucket_ms = ?",
                        [(r[0], r[1]) for r in rows])
    db.conn.executemany(
        """INSERT INTO samples_agg (series_id, bucket_ms, interval_s, avg, min, max, n)
           VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (series_id, bucket_ms) DO UPDATE SET
             avg = (avg * n + excluded.avg * excluded.n) / (n + excluded.n),
             min = MIN(min, excluded.min), max = MAX(max, excluded.max), n = n + excluded.n,
             interval_s = excluded.interval_s""",
        [(sid, bucket, interval_s, total / n, lo, hi, n)
         for (sid, bucket), (total, lo, hi, n) in merged.items()])
    return len(rows)


def used_mb(db: sqlite_utils.Database) -> float:
    """What the file's live pages hold (a purge frees pages for reuse; the file does not
    shrink without a VACUUM)."""
    pages = db.execute("PRAGMA page_count").fetchone()[0]
    free = db.execute("PRAGMA freelist_count").fetchone()[0]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    return float((pages - free) * size) / 1e6


def purge_oldest(db: sqlite_utils.Database, limit: int = CHUNK_ROWS) -> int:
    """Make room, oldest first: the OCPP log beyond its last week, then the oldest
    downsampled buckets, then the oldest raw samples. Sessions live in core.db: untouched."""
    newest = db.execute("SELECT max(ts_ms) FROM ocpp_log").fetchone()[0]
    if newest is not None:
        cur = db.execute("DELETE FROM ocpp_log WHERE id IN (SELECT id FROM ocpp_log"
                         " WHERE ts_ms < ? ORDER BY ts_ms LIMIT ?)",
                         [newest - 7 * 86_400_000, limit])
        if cur.rowcount:
            return int(cur.rowcount)
    for table, column in (("samples_agg", "bucket_ms"), ("samples", "ts_ms")):
        oldest = db.execute(f"SELECT {column} FROM {table} ORDER BY {column} LIMIT 1 OFFSET ?",
                            [limit]).fetchone()
        bound = oldest[0] if oldest else None
        cur = db.execute(f"DELETE FROM {table} WHERE {column} <= ?"
                         if bound is not None else f"DELETE FROM {table}",
                         [bound] if bound is not None else [])
        if cur.rowcount:
            return int(cur.rowcount)
    return 0
