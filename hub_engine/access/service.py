"""Access control in the running hub: answers Authorize and StartTransaction, debits the
energy credit, cuts a session whose credit or time window runs out, refills by the
calendar, and keeps each charge point's local authorisation list in step.

The members and badges live in ``core.db`` and in a cache here (decisions are answered
without I/O but the concurrent-session check); :meth:`reload` after every change. The
charge points are reached only through the command layer (role ``engine``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub_engine.access import repo
from hub_engine.access.local_lists import LocalLists
from hub_engine.access.policy import Badge, Decision, Member, decide, in_windows, refills
from hub_engine.clock import Clock
from hub_engine.config import HubConfig, NodeConfig
from hub_engine.ems.external import LimitRequest
from hub_engine.ems.rights import SessionRights
from hub_engine.plans import PlanRefused, next_local, set_plan
from hub_engine.store.samples import last_energy_register_wh

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop
    from hub_engine.ocpp.commands import CommandService
    from hub_engine.ocpp.server import OcppServer
    from hub_engine.store import Store

__all__ = ["AccessService"]

log = logging.getLogger(__name__)
SOURCE = "access control"


class AccessService:
    name = "access"

    def __init__(self, config: HubConfig, store: Store, clock: Clock) -> None:
        self.config, self.store, self.clock = config, store, clock
        self.tz = ZoneInfo(config.hub.timezone)
        self.members: dict[int, Member] = {}
        self.badges: dict[str, Badge] = {}
        self.places: dict[str, set[str]] = {}  # charge point → itself and nodes above it
        for site in config.sites:
            self._walk(site.grid, [])
        self.server: OcppServer | None = None
        self.commands: CommandService | None = None
        self.ems: EmsLoop | None = None
        self.lists = LocalLists(self)
        self.cut: dict[int, str] = {}  # transaction id → why it was limited or stopped
        self.open: dict[int, tuple[str, str]] = {}  # transaction → (connector id, idTag)
        self._tasks: set[asyncio.Task[Any]] = set()
        self._task: asyncio.Task[None] | None = None

    def _walk(self, node: NodeConfig, above: list[str]) -> None:
        here = [*above, node.id]
        for cp in node.charge_points:
            self.places[cp.id] = {cp.id, *here}
        for child in node.children:
            self._walk(child, here)

    # -- the cache ---------------------------------------------------------------------
    def reload(self) -> None:
        self.members = {m.id: m for m in (repo.member_from_row(r) for r in self.store.read(
            f"SELECT {repo.MEMBER_COLUMNS} FROM members"))}
        self.badges = {b.id_tag.casefold(): b for b in (repo.badge_from_row(r) for r in
                       self.store.read("SELECT id_tag, member_id, status, expiry,"
                                       " parent_id_tag FROM badges"))}

    def badge(self, id_tag: str) -> Badge | None:
        found = self.badges.get(id_tag.casefold())
        if found is None and (self.config.ocpp.accept_all_id_tags or id_tag.casefold() in {
                t.casefold() for t in self.config.ocpp.id_tags}):
            return Badge(id_tag, None)  # accepted without a member (demo, configuration)
        return found

    # -- decisions (called by the OCPP handlers) --------------------------------------
    def authorize(self, cp_id: str, id_tag: str, connector_id: int | None = None) -> Decision:
        """Authorize (``connector_id`` None) or StartTransaction on that connector."""
        badge = self.badge(id_tag)
        member = self.members.get(badge.member_id) if badge and badge.member_id else None
        # Only a member's badge is refused for charging elsewhere: one row is enough to
        # know (a shared tag with thousands of open sessions was read whole at each start).
        elsewhere = badge is not None and badge.member_id is not None and bool(self.store.read(
            "SELECT 1 FROM transactions WHERE stopped_at IS NULL AND id_tag = ? COLLATE NOCASE"
            " AND NOT (charge_point_id = ? AND connector_id IS ?) LIMIT 1",
            [id_tag, cp_id, connector_id]))
        decision = decide(badge, member, self.places.get(cp_id, {cp_id}), self.clock.now(),
                          self.tz, busy_elsewhere=elsewhere)
        if badge is None:
            self._spawn(self.store.core.write(repo.seen_unknown(id_tag, cp_id,
                                                                self.clock.now())))
        if decision.status != "Accepted":
            log.info("%s: badge %s refused: %s", cp_id, id_tag, decision.reason)
        return decision

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- events from the charge points ------------------------------------------------
    def on_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        if topic == "session.started":
            self._track(int(data["transaction_id"]))
            self._default_plan(int(data["transaction_id"]), str(data.get("id_tag", "")))
        elif topic == "session.stopped":
            self.open.pop(int(data["transaction_id"]), None)
        if topic == "session.stopped" and not data.get("orphan"):
            self._spawn(self._debit(int(data["transaction_id"])))
        elif topic == "accepted":
            self._spawn(self.lists.after_boot(cp_id))

    def _track(self, tx: int | None = None) -> None:
        sql = ("SELECT id, charge_point_id, connector_id, id_tag FROM transactions WHERE"
               " stopped_at IS NULL")
        for t, cp_id, conn, tag in self.store.read(sql + (" AND id = ?" if tx else ""),
                                                   [tx] if tx else []):
            self.open[int(t)] = (f"{cp_id}/{conn}", tag)

    def _default_plan(self, tx: int, id_tag: str) -> None:
        """A member with a usual departure and energy need gives each session that plan
        (an operator or a flow may replace it)."""
        m = self._member_of(id_tag)
        if m is None or m.departure_time is None or m.energy_need_wh is None or not self.ems:
            return
        departure = next_local(self.clock.now(), m.departure_time, self.tz)
        self._spawn(self._set_plan(tx, departure, m.energy_need_wh))

    async def _set_plan(self, tx: int, departure: datetime, energy_wh: int) -> None:
        assert self.ems is not None
        try:
            await set_plan(self.store, self.ems, tx, departure, energy_wh, "member")
        except PlanRefused as exc:  # ended already, or a departure beyond 7 days
            log.warning("session %s: the member's plan is not taken: %s", tx, exc)

    def rights(self) -> dict[str, SessionRights]:
        """What each open session's member changes in the allocation (EMS, each cycle)."""
        out = {}
        for cid, tag in self.open.values():
            m = self._member_of(tag)
            if m is not None and (m.priority or m.min_current_a or m.solar_mode):
                out[cid] = SessionRights(m.priority, m.min_current_a, m.solar_mode)
        return out

    def _member_of(self, id_tag: str) -> Member | None:
        badge = self.badges.get(id_tag.casefold())
        return self.members.get(badge.member_id) if badge and badge.member_id else None

    async def _debit(self, tx: int) -> None:
        rows = self.store.read("SELECT id_tag, energy_wh, charge_point_id, connector_id FROM"
                               " transactions WHERE id = ?", [tx])
        if not rows:
            return
        id_tag, energy, cp_id, conn = rows[0]
        if self.cut.pop(tx, None) is not None and self.ems is not None:
            self.ems.external.clear(f"{cp_id}/{conn}", SOURCE)
        member = self._member_of(id_tag)
        if member is None or member.credit_wh is None or not energy:
            return
        balance = member.credit_wh - int(energy)  # may go below 0 (offline use): booked
        await self.store.core.write(repo.ledger(
            member.id, [(self.clock.now(), -int(energy), balance, "session")], tx))
        self.reload()

    # -- the periodic check -------------------------------------------------------------
    async def start(self) -> None:
        self.reload()
        self._track()
        self._task = asyncio.create_task(self._run(), name="access")

    async def stop(self) -> None:
        for task in [self._task, *self._tasks]:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def _run(self) -> None:
        while True:
            try:
                await self.check()
            except Exception:
                log.exception("access check failed; retrying")
            await self.clock.sleep(self.config.access.check_s)

    async def check(self) -> None:
        """Refill by the calendar, then cut sessions whose credit or window ran out."""
        now = self.clock.now()
        for member in list(self.members.values()):
            due = refills(member, now, self.tz)
            if due:
                await self.store.core.write(repo.ledger(member.id, due, None, due[-1][0]))
        self.reload()
        for tx, cp_id, conn, id_tag, start_wh in self.store.read(
                "SELECT id, charge_point_id, connector_id, id_tag, meter_start_wh FROM"
                " transactions WHERE stopped_at IS NULL"):
            owner = self._member_of(id_tag)
            if owner is None or tx in self.cut:
                continue
            why = None
            if not in_windows(owner.windows, now, self.tz):
                why = "its time window closed"
            elif owner.credit_wh is not None and (
                    owner.credit_wh - self._used_wh(cp_id, conn, start_wh)) <= 0:
                why = "its energy credit ran out"
            if why is not None:
                await self._cut(tx, cp_id, conn, owner, why)

    def _used_wh(self, cp_id: str, conn: int, start_wh: int) -> float:
        last = last_energy_register_wh(self.store.read, f"{cp_id}/{conn}")
        return max(0.0, last - start_wh) if last is not None else 0.0

    async def _cut(self, tx: int, cp_id: str, conn: int, member: Member, why: str) -> None:
        self.cut[tx] = why
        log.info("%s/%s: session %s of %s %s: %s", cp_id, conn, tx, member.name,
                 "stopped" if member.on_exhausted == "stop" else "limited to 0 A", why)
        if member.on_exhausted == "stop" and self.commands is not None:
            await self.commands.run(cp_id, "remote_stop", {"transaction_id": tx}, "engine")
        elif self.ems is not None:
            self.ems.external.set(LimitRequest(
                target=f"{cp_id}/{conn}", source=SOURCE, limit_a=0, limit_w=0,
                expires_at=self.clock.now() + timedelta(days=7) - timedelta(seconds=1)))
            self.ems.wake()

    # -- changes from the API -----------------------------------------------------------
    def changed(self, blocked: bool = False) -> None:
        """Members or badges changed: refresh, resync the lists, clear caches if blocked."""
        self.reload()
        self._spawn(self.lists.sync_all(clear_cache=blocked))
