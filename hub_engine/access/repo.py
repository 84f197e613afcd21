"""Members, badges, the credit ledger, unknown badges and local lists in ``core.db``.

Writer jobs (run on the core database's writer thread) and row → model conversions."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_engine.access.policy import Badge, Member, Window
from hub_engine.clock import iso_utc, parse_iso
from hub_engine.typed import build

__all__ = ["MEMBER_COLUMNS", "badge_from_row", "ledger", "member_from_row", "save_badge",
           "save_member", "seen_unknown"]

Job = Callable[[sqlite_utils.Database], Any]
MEMBER_COLUMNS = ("id, name, blocked, charge_points, windows, credit_wh, refill_period,"
                  " refill_mode, refill_wh, ceiling_wh, last_refill, on_exhausted, priority, grp,"
                  " min_current_a, solar_mode, departure_time, energy_need_wh")


def member_from_row(r: Any) -> Member:
    windows: tuple[Window, ...] = tuple(build(Window, w, f"windows[{i}]")
                                        for i, w in enumerate(json.loads(r[4])))
    return Member(id=r[0], name=r[1], blocked=bool(r[2]),
                  charge_points=tuple(json.loads(r[3])), windows=windows, credit_wh=r[5],
                  refill_period=r[6], refill_mode=r[7], refill_wh=r[8], ceiling_wh=r[9],
                  last_refill=parse_iso(r[10]) if r[10] else None, on_exhausted=r[11],
                  priority=r[12], min_current_a=r[14], solar_mode=r[15],
                  departure_time=r[16], energy_need_wh=r[17])


def badge_from_row(r: Any) -> Badge:
    return Badge(id_tag=r[0], member_id=r[1], status=r[2],
                 expiry=parse_iso(r[3]) if r[3] else None, parent_id_tag=r[4])


def save_member(data: dict[str, Any], now: datetime) -> Job:
    """Insert or update a member by name (``data`` already validated)."""
    def job(db: sqlite_utils.Database) -> int:
        fields = {k: (json.dumps(v) if k in ("charge_points", "windows") else v)
                  for k, v in data.items()}
        row = db.execute("SELECT id, credit_wh FROM members WHERE name = ?",
                         [data["name"]]).fetchone()
        if row is None:
            fields.setdefault("last_refill", iso_utc(now))
            fields["created_at"] = iso_utc(now)
            cols = ", ".join(fields)
            cur = db.execute(f"INSERT INTO members ({cols}) VALUES "
                             f"({', '.join('?' * len(fields))})", list(fields.values()))
            member_id = int(cur.lastrowid or 0)
            if data.get("credit_wh") is not None:
                db.execute("INSERT INTO member_ledger (member_id, ts, delta_wh, balance_wh,"
                           " reason) VALUES (?, ?, ?, ?, 'opening')",
                           [member_id, iso_utc(now), data["credit_wh"], data["credit_wh"]])
            return member_id
        member_id, old_credit = int(row[0]), row[1]
        sets = ", ".join(f"{k} = ?" for k in fields if k != "name")
        if sets:
            db.execute(f"UPDATE members SET {sets} WHERE id = ?",
                       [v for k, v in fields.items() if k != "name"] + [member_id])
        new_credit = data.get("credit_wh", old_credit)
        if "credit_wh" in data and new_credit is not None and new_credit != old_credit:
            db.execute("INSERT INTO member_ledger (member_id, ts, delta_wh, balance_wh, reason)"
                       " VALUES (?, ?, ?, ?, 'adjustment')",
                       [member_id, iso_utc(now), new_credit - (old_credit or 0), new_credit])
        return member_id
    return job


def save_badge(db: sqlite_utils.Database, id_tag: str, member_id: int | None, status: str,
               expiry: str | None, parent_id_tag: str | None, label: str = "") -> None:
    """Enrol or replace a badge (idTags compare case-insensitively), inside a writer job;
    an enrolled badge leaves the unknown list."""
    db.execute("DELETE FROM badges WHERE id_tag = ? COLLATE NOCASE", [id_tag])
    db.execute("INSERT INTO badges (id_tag, member_id, status, expiry, parent_id_tag, label)"
               " VALUES (?, ?, ?, ?, ?, ?)", [id_tag, member_id, status, expiry, parent_id_tag,
                                              label])
    db.execute("DELETE FROM unknown_badges WHERE id_tag = ? COLLATE NOCASE", [id_tag])


def ledger(member_id: int, entries: list[tuple[datetime, int, int, str]],
           transaction_id: int | None = None, last_refill: datetime | None = None) -> Job:
    """Book entries (when, delta, balance after, reason) and set the member's balance."""
    def job(db: sqlite_utils.Database) -> None:
        for when, delta, balance, reason in entries:
            db.execute("INSERT INTO member_ledger (member_id, ts, delta_wh, balance_wh, reason,"
                       " transaction_id) VALUES (?, ?, ?, ?, ?, ?)",
                       [member_id, iso_utc(when), delta, balance, reason, transaction_id])
        if entries:
            db.execute("UPDATE members SET credit_wh = ? WHERE id = ?",
                       [entries[-1][2], member_id])
        if last_refill is not None:
            db.execute("UPDATE members SET last_refill = ? WHERE id = ?",
                       [iso_utc(last_refill), member_id])
    return job


def seen_unknown(id_tag: str, cp_id: str, now: datetime) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute("INSERT INTO unknown_badges (id_tag, charge_point_id, first_seen, last_seen)"
                   " VALUES (?, ?, ?, ?) ON CONFLICT(id_tag) DO UPDATE SET"
                   " last_seen = excluded.last_seen, charge_point_id = excluded.charge_point_id,"
                   " attempts = attempts + 1", [id_tag, cp_id, iso_utc(now), iso_utc(now)])
    return job
