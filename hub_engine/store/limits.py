"""External limits kept in ``core.db`` so that they outlive a restart (a shedding order
must not vanish with a crash). Written whole on each change: they are few."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import sqlite_utils

__all__ = ["load_limits", "save_limits"]


def save_limits(requests: list[dict[str, Any]]) -> Callable[[sqlite_utils.Database], None]:
    """A writer job replacing the stored limits by ``requests`` (JSON-ready dicts)."""
    def job(db: sqlite_utils.Database) -> None:
        db.execute("DELETE FROM external_limits")
        db.conn.executemany(
            "INSERT INTO external_limits (target, source, request) VALUES (?, ?, ?)",
            [(r["target"], r["source"], json.dumps(r)) for r in requests])
    return job


def load_limits(rows: list[Any]) -> list[dict[str, Any]]:
    """The stored requests from ``SELECT request FROM external_limits`` rows."""
    return [json.loads(r[0]) for r in rows]
