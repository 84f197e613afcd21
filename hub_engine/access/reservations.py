"""Reservations: a connector held for one badge until a time (ReserveNow, CancelReservation).

The hub keeps them (table ``reservations``) and honours them itself, whatever the
firmware does: a StartTransaction on a held connector with another badge is answered
``Invalid`` and stopped by the hub (RemoteStopTransaction: firmware that ignores its own
reservation may also go on charging a refused start); the holder's start uses it up.
The EMS counts a held connector as taken in the fallback budget (its car is coming).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.errors import CommandError
from hub_engine.i18n import Text
from hub_engine.ocpp.commands import CommandService
from hub_engine.store import Store
from hub_engine.store.rows import insert_row

__all__ = ["RESERVATION_COLUMNS", "Held", "Reservations"]

log = logging.getLogger(__name__)
RESERVATION_COLUMNS = ("id", "charge_point_id", "connector_id", "id_tag", "expires_at",
                       "created_at", "created_by", "status", "transaction_id", "ended_at")


@dataclass(frozen=True)
class Held:
    id: int
    charge_point_id: str
    connector_id: int
    id_tag: str
    expires_at: datetime


class Reservations:
    name = "reservations"

    def __init__(self, commands: CommandService, store: Store, clock: Clock) -> None:
        self.commands, self.store, self.clock = commands, store, clock
        self.held: dict[int, Held] = {}  # accepted and not ended (expiry checked on use)

    async def start(self) -> None:
        for r in self.store.read("SELECT id, charge_point_id, connector_id, id_tag, "
                                 "expires_at FROM reservations WHERE status = 'Accepted'"):
            at = parse_iso(r[4])
            if at is not None:
                self.held[int(r[0])] = Held(int(r[0]), r[1], int(r[2]), r[3], at)

    async def stop(self) -> None:
        return None

    def holder(self, cp_id: str, connector_id: int) -> Held | None:
        """The reservation holding that connector now (None: free)."""
        now = self.clock.now()
        for h in self.held.values():
            if h.charge_point_id == cp_id and h.connector_id in (0, connector_id) and (
                    h.expires_at > now):
                return h
        return None

    def refuses(self, cp_id: str, connector_id: int, id_tag: str,
                parent_id_tag: str | None = None) -> str | None:
        """Why ``id_tag`` may not start there (None: it may)."""
        h = self.holder(cp_id, connector_id)
        tags = {id_tag.casefold(), (parent_id_tag or "").casefold()}
        if h is None or h.id_tag.casefold() in tags:
            return None
        return f"connector reserved for another badge until {iso_utc(h.expires_at)}"

    async def make(self, cp_id: str, connector_id: int, id_tag: str, minutes: float,
                   who: str) -> dict[str, Any]:
        now = self.clock.now()
        expires = now + timedelta(minutes=minutes)
        if self.holder(cp_id, connector_id) is not None:
            raise CommandError(Text("connector {cp}/{n} is reserved already", cp=cp_id,
                                    n=connector_id))
        rows = self.store.read("SELECT COALESCE(MAX(id), 0) FROM reservations")
        rid = int(rows[0][0]) + 1
        r = await self.commands.run(cp_id, "reserve_now", {
            "connector_id": connector_id, "expiry_date": iso_utc(expires), "id_tag": id_tag,
            "reservation_id": rid}, "operator")
        status = r.status if r.status else r.outcome
        row = {"id": rid, "charge_point_id": cp_id, "connector_id": connector_id,
               "id_tag": id_tag, "expires_at": iso_utc(expires), "created_at": iso_utc(now),
               "created_by": who, "status": status}
        await self.store.core.write(lambda db: insert_row(db, "reservations", row))
        if status == "Accepted":
            self.held[rid] = Held(rid, cp_id, connector_id, id_tag, expires)
        log.info("%s/%d reserved for a badge by %s until %s: %s", cp_id, connector_id, who,
                 iso_utc(expires), status)
        return self.get(rid) or row

    async def cancel(self, rid: int, who: str) -> dict[str, Any] | None:
        found = self.get(rid)
        if found is None:
            return None
        answer = None
        if rid in self.held:
            r = await self.commands.run(found["charge_point_id"], "cancel_reservation",
                                        {"reservation_id": rid}, "operator")
            answer = r.status or r.outcome
            log.info("reservation %d cancelled by %s: %s", rid, who, answer)
            await self._end(rid, "cancelled")  # held no more, whatever the charge point says
        out = self.get(rid)
        return None if out is None else {**out, "answer": answer}

    def on_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        """A session started by the holder (or naming the reservation) uses it up."""
        if topic != "session.started" or data.get("status") != "Accepted":
            return
        connector, tag = int(data.get("connector_id", 0)), str(data.get("id_tag", ""))
        for h in list(self.held.values()):
            if h.charge_point_id == cp_id and h.connector_id in (0, connector) and (
                    h.id == data.get("reservation_id") or h.id_tag.casefold() == tag.casefold()):
                self.held.pop(h.id, None)
                self.store.core.submit(_used(h.id, data.get("transaction_id"),
                                             iso_utc(self.clock.now())))

    def list(self, active: bool | None = None, limit: int = 200) -> list[dict[str, Any]]:
        rows = self.store.read(f"SELECT {', '.join(RESERVATION_COLUMNS)} FROM reservations "
                               "ORDER BY id DESC LIMIT ?", [limit])
        out = [self._with_state(dict(zip(RESERVATION_COLUMNS, r, strict=True))) for r in rows]
        return out if active is None else [r for r in out if r["active"] == active]

    def get(self, rid: int) -> dict[str, Any] | None:
        rows = self.store.read(f"SELECT {', '.join(RESERVATION_COLUMNS)} FROM reservations "
                               "WHERE id = ?", [rid])
        return self._with_state(dict(zip(RESERVATION_COLUMNS, rows[0], strict=True))) \
            if rows else None

    def _with_state(self, r: dict[str, Any]) -> dict[str, Any]:
        at = parse_iso(r["expires_at"])
        r["active"] = r["id"] in self.held and at is not None and at > self.clock.now()
        if r["status"] == "Accepted" and not r["active"]:
            r["status"] = "expired"
        return r

    async def _end(self, rid: int, status: str) -> None:
        self.held.pop(rid, None)
        now = iso_utc(self.clock.now())
        await self.store.core.write(lambda db: db.conn.execute(
            "UPDATE reservations SET status = ?, ended_at = ? WHERE id = ?",
            [status, now, rid]))


def _used(rid: int, tx: Any, now: str) -> Callable[[Any], None]:
    def job(db: Any) -> None:
        db.conn.execute("UPDATE reservations SET status = 'used', transaction_id = ?, "
                        "ended_at = ? WHERE id = ?", [tx, now, rid])
    return job
