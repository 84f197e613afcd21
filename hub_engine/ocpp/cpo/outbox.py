"""What the CPO relay keeps on disk: the write jobs and reads of its tables (migration 18).

The outbox holds every transaction message owed to the CPO, in the order the charge
point sent it, until the CPO has answered it: written before the charge point gets its
own answer, so nothing a charge point was told is recorded is lost to a crash, a hub
restart or a CPO that is away for days.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hub_engine.clock import iso_utc
from hub_engine.store import Store
from hub_engine.store.rows import insert_row

__all__ = ["Badge", "Outbox", "Queued"]


@dataclass(frozen=True)
class Queued:
    id: int
    unique_id: str
    action: str
    payload: dict[str, Any]
    local_tx: int | None


@dataclass(frozen=True)
class Badge:
    status: str
    expiry: str | None
    parent_id_tag: str | None


class Outbox:
    def __init__(self, store: Store) -> None:
        self.store = store

    # -- the queue ----------------------------------------------------------------------
    async def put(self, cp_id: str, unique_id: str, action: str, payload: dict[str, Any],
                  local_tx: int | None, now: datetime) -> int:
        row = {"charge_point_id": cp_id, "unique_id": unique_id, "action": action,
               "payload": json.dumps(payload, separators=(",", ":")), "local_tx": local_tx,
               "queued_at": iso_utc(now)}
        row_id: int = await self.store.core.write(lambda db: insert_row(db, "cpo_outbox", row))
        return row_id

    def first(self, cp_id: str) -> Queued | None:
        rows = self.store.read("SELECT id, unique_id, action, payload, local_tx FROM "
                               "cpo_outbox WHERE charge_point_id = ? ORDER BY id LIMIT 1",
                               (cp_id,))
        if not rows:
            return None
        r = rows[0]
        return Queued(int(r[0]), r[1], r[2], json.loads(r[3]), r[4])

    def count(self, cp_id: str | None = None) -> int:
        if cp_id is None:
            return int(self.store.read("SELECT count(*) FROM cpo_outbox")[0][0])
        return int(self.store.read("SELECT count(*) FROM cpo_outbox WHERE charge_point_id"
                                   " = ?", (cp_id,))[0][0])

    def waiting(self) -> list[str]:
        """Charge points with messages owed (their link must come up at start)."""
        return [r[0] for r in self.store.read(
            "SELECT DISTINCT charge_point_id FROM cpo_outbox")]

    async def done(self, cp_id: str, item: Queued, cpo_tx: int | None = None,
                   status: str | None = None, now: datetime | None = None) -> None:
        """The CPO answered ``item``: gone from the queue; a start's ids recorded with it
        (one job, so one transaction: a crash between the two would send it twice)."""
        def job(db: Any) -> None:
            db.conn.execute("DELETE FROM cpo_outbox WHERE id = ?", (item.id,))
            if item.action == "StartTransaction" and item.local_tx is not None:
                db.conn.execute(
                    "INSERT OR REPLACE INTO cpo_transactions (charge_point_id, local_tx, "
                    "cpo_tx, status, answered_at) VALUES (?, ?, ?, ?, ?)",
                    (cp_id, item.local_tx, cpo_tx, status,
                     iso_utc(now) if now else None))
        await self.store.core.write(job)

    async def trim(self, cp_id: str, keep: int) -> int:
        """Above ``keep`` rows, drop the oldest MeterValues (never a start or a stop)."""
        def job(db: Any) -> int:
            over = db.conn.execute("SELECT count(*) FROM cpo_outbox WHERE charge_point_id "
                                   "= ?", (cp_id,)).fetchone()[0] - keep
            if over <= 0:
                return 0
            cur = db.conn.execute(
                "DELETE FROM cpo_outbox WHERE id IN (SELECT id FROM cpo_outbox WHERE "
                "charge_point_id = ? AND action = 'MeterValues' ORDER BY id LIMIT ?)",
                (cp_id, over))
            return int(cur.rowcount)
        dropped: int = await self.store.core.write(job)
        return dropped

    # -- transaction ids ----------------------------------------------------------------
    def cpo_tx(self, cp_id: str, local_tx: int) -> int | None:
        rows = self.store.read("SELECT cpo_tx FROM cpo_transactions WHERE charge_point_id "
                               "= ? AND local_tx = ?", (cp_id, local_tx))
        return None if not rows or rows[0][0] is None else int(rows[0][0])

    def local_tx(self, cp_id: str, cpo_tx: int) -> int | None:
        rows = self.store.read("SELECT local_tx FROM cpo_transactions WHERE charge_point_id "
                               "= ? AND cpo_tx = ? ORDER BY local_tx DESC LIMIT 1",
                               (cp_id, cpo_tx))
        return int(rows[0][0]) if rows else None

    # -- badges -------------------------------------------------------------------------
    async def remember(self, site_id: str, id_tag: str, info: dict[str, Any], source: str,
                       now: datetime) -> None:
        row = (site_id, id_tag.casefold(), str(info.get("status", "Invalid")),
               info.get("expiryDate"), info.get("parentIdTag"), source, iso_utc(now))
        await self.store.core.write(lambda db: db.conn.execute(
            "INSERT OR REPLACE INTO cpo_badges (site_id, id_tag, status, expiry, "
            "parent_id_tag, source, seen_at) VALUES (?, ?, ?, ?, ?, ?, ?)", row))

    async def replace_list(self, site_id: str, entries: list[tuple[str, dict[str, Any]]],
                           full: bool, now: datetime) -> None:
        """A SendLocalList: a full one replaces what an earlier list said."""
        def job(db: Any) -> None:
            if full:
                db.conn.execute("DELETE FROM cpo_badges WHERE site_id = ? AND source = "
                                "'list'", (site_id,))
            for tag, info in entries:
                if not info:  # a differential update without idTagInfo deletes it
                    db.conn.execute("DELETE FROM cpo_badges WHERE site_id = ? AND "
                                    "id_tag = ?", (site_id, tag.casefold()))
                    continue
                db.conn.execute(
                    "INSERT OR REPLACE INTO cpo_badges (site_id, id_tag, status, "
                    "expiry, parent_id_tag, source, seen_at) VALUES (?, ?, ?, ?, ?, "
                    "'list', ?)", (site_id, tag.casefold(), info.get("status",
                                   "Invalid"), info.get("expiryDate"),
                                   info.get("parentIdTag"), iso_utc(now)))
        await self.store.core.write(job)

    def badge(self, site_id: str, id_tag: str) -> tuple[Badge, str] | None:
        """What the CPO said of the badge last, and when (ISO UTC)."""
        rows = self.store.read("SELECT status, expiry, parent_id_tag, seen_at FROM "
                               "cpo_badges WHERE site_id = ? AND id_tag = ?",
                               (site_id, id_tag.casefold()))
        if not rows:
            return None
        r = rows[0]
        return Badge(r[0], r[1], r[2]), r[3]

    # -- per charge point state ---------------------------------------------------------
    async def set_state(self, cp_id: str, **values: Any) -> None:
        cols = ", ".join(values)
        sets = ", ".join(f"{k} = excluded.{k}" for k in values)
        await self.store.core.write(lambda db: db.conn.execute(
            f"INSERT INTO cpo_state (charge_point_id, {cols}) VALUES (?{', ?' * len(values)})"
            f" ON CONFLICT(charge_point_id) DO UPDATE SET {sets}",
            (cp_id, *values.values())))

    def state(self, cp_id: str) -> tuple[dict[str, Any] | None, int]:
        """Its last BootNotification (None: never seen) and its CPO list version."""
        rows = self.store.read("SELECT boot, list_version FROM cpo_state WHERE "
                               "charge_point_id = ?", (cp_id,))
        if not rows:
            return None, 0
        return (json.loads(rows[0][0]) if rows[0][0] else None), int(rows[0][1])
