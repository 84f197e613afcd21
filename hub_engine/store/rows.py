"""Small helpers for the write jobs and reads of tables keyed by an integer id."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["insert_row", "stored_file"]


def insert_row(db: Any, table: str, row: dict[str, Any]) -> int:
    """INSERT ``row`` (column → value) into ``table`` in a write job; the new row's id."""
    cur = db.conn.execute(f"INSERT INTO {table} ({', '.join(row)}) VALUES "
                          f"({', '.join('?' for _ in row)})", list(row.values()))
    return int(cur.lastrowid or 0)


def stored_file(root: Path, relative: str | None) -> Path | None:
    """The file a row names under ``root``, if it is there and inside it."""
    if not relative:
        return None
    path = (root / relative).resolve()
    return path if path.is_relative_to(root.resolve()) and path.is_file() else None
