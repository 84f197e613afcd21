"""Departure plans of the sessions under way, from the API and the bus to the EMS.

A plan is stored with its transaction in ``core.db`` (so a restart keeps it: acknowledged
is never lost) and handed to the EMS's :class:`~hub_engine.ems.plans.PlanBook`. The API
and the bus call the same two coroutines, :func:`set_plan` and :func:`clear_plan`; the
engine restores the plans of the open sessions at start (:class:`PlansKeeper`).
"""

from __future__ import annotations

import logging
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import sqlite_utils

from hub_engine.clock import iso_utc, parse_iso
from hub_engine.ems.plans import MAX_AHEAD, MAX_NEED_WH, Plan
from hub_engine.errors import CommandError
from hub_engine.i18n import Text

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop
    from hub_engine.store import Store

__all__ = ["PlanRefused", "PlansKeeper", "clear_plan", "describe", "next_local", "set_plan"]

log = logging.getLogger(__name__)


class PlanRefused(CommandError):
    """A plan that cannot be taken: ``status`` 404 (no such session), 409 (it has
    ended) or 422 (a bad value, named by ``field``)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        self.status, self.field = status, field
        super().__init__(message)


def next_local(now: datetime, hh_mm: str, tz: ZoneInfo) -> datetime:
    """The first local ``HH:MM`` after ``now`` (a member's usual departure), in UTC. A
    time the clocks skip in spring is read in the offset before the change."""
    hour, minute = (int(x) for x in hh_mm.split(":"))
    local = now.astimezone(tz)
    for days in (0, 1):
        day = local.date() + timedelta(days=days)
        at = datetime.combine(day, time(hour, minute), tzinfo=tz)
        if at > local:
            return at.astimezone(now.tzinfo)
    raise AssertionError("unreachable: tomorrow's time is after now")


def describe(plan: Plan) -> dict[str, Any]:
    return {"departure": iso_utc(plan.departure), "energy_wh": plan.energy_wh,
            "source": plan.source}


def check(now: datetime, departure: datetime, energy_wh: float, source: str) -> Plan:
    if departure.tzinfo is None:
        raise PlanRefused(422, Text("departure: a time with its timezone"), "departure")
    if not now < departure <= now + MAX_AHEAD:
        raise PlanRefused(422, Text("departure: must be in the future, at most 7 days "
                                    "ahead"), "departure")
    if not 0 < energy_wh <= MAX_NEED_WH:
        raise PlanRefused(422, Text("energy_wh: more than 0, at most {most:.0f}",
                                    most=MAX_NEED_WH), "energy_wh")
    return Plan(departure, float(energy_wh), source)


def _store(session_id: int, plan: Plan | None) -> Any:
    def job(db: sqlite_utils.Database) -> tuple[str, int] | str:
        row = db.execute("SELECT charge_point_id, connector_id, stopped_at FROM transactions"
                         " WHERE id = ? AND orphan = 0", [session_id]).fetchone()
        if row is None:
            return "missing"
        if row[2] is not None:
            return "ended"
        db.execute("UPDATE transactions SET departure_at = ?, energy_need_wh = ?, "
                   "plan_source = ? WHERE id = ?",
                   [None if plan is None else iso_utc(plan.departure),
                    None if plan is None else plan.energy_wh,
                    None if plan is None else plan.source, session_id])
        return str(row[0]), int(row[1])
    return job


async def _write(store: Store, ems: EmsLoop, session_id: int, plan: Plan | None) -> None:
    if not 0 < session_id < 2**63:
        raise PlanRefused(404, Text("no session {id}", id=session_id))
    where = await store.core.write(_store(session_id, plan))
    if where == "missing":
        raise PlanRefused(404, Text("no session {id}", id=session_id))
    if where == "ended":
        raise PlanRefused(409, Text("session {id} has ended", id=session_id))
    cp_id, connector = where
    cid = f"{cp_id}/{connector}"
    if plan is None:
        ems.plans.clear(cid)
    else:
        ems.plans.set(cid, session_id, plan)
    ems.wake()


async def set_plan(store: Store, ems: EmsLoop, session_id: int, departure: datetime,
                   energy_wh: float, source: str) -> dict[str, Any]:
    """Give a session under way its departure plan (replacing any); its description."""
    plan = check(ems.clock.now(), departure, energy_wh, source)
    await _write(store, ems, session_id, plan)
    return {"session": session_id, **describe(plan)}


async def clear_plan(store: Store, ems: EmsLoop, session_id: int) -> None:
    await _write(store, ems, session_id, None)


class PlansKeeper:
    """Restores the plans of the sessions still open when the engine starts."""

    name = "departure-plans"

    def __init__(self, store: Store, ems: EmsLoop) -> None:
        self.store, self.ems = store, ems

    async def start(self) -> None:
        rows = self.store.rows(
            "SELECT id, charge_point_id, connector_id, departure_at, energy_need_wh, "
            "plan_source FROM transactions WHERE stopped_at IS NULL AND orphan = 0 "
            "AND departure_at IS NOT NULL")
        for tx, cp_id, connector, departure, energy_wh, source in rows:
            when = parse_iso(departure)
            if when is not None and energy_wh is not None:
                self.ems.plans.set(f"{cp_id}/{connector}", int(tx),
                                   Plan(when, float(energy_wh), str(source or "api")))
        if rows:
            log.info("departure plans restored: %d", len(rows))

    async def stop(self) -> None:
        return None
