"""Applying setpoints under the confirmed-limit invariant (DESIGN.md "The EMS", step 5).

The applier is the one owner of each connector's limit state: what it may draw and why
(confirmed, settling, in flight, unsure, expired to its fallback, read back above it,
its epoch). The fallbacks in force are handed to it at construction by the
:class:`~hub_engine.ems.fallback_sync.FallbackKeeper` that sends them.

A connector counts at the higher of the limit it is known to apply and the one being
sent, until the new one is confirmed: answered Accepted and ``settle_s`` passed (the
charge point's electronics and the car's ramp). A refused limit changes nothing it may
draw. A limit with no definitive answer (timed out, the link lost on the way, an error)
may have been applied: it counts at the higher of the old and the sent until a lower
one is confirmed, and is sent again. A dynamic limit that was not refreshed in time has
expired on the charge point, which then runs on its fallback: past its validity it
counts at the higher of the last limit and the fallback in force.

Sends never hold up the cycle: each connector has at most one in flight, decreases are
started before increases (those under the most overloaded node first: at most
``max_parallel`` go at once), and a limit is re-sent before its validity ends. Increases are
paced (:class:`Pace`): with sessions starting every second, every share moves by a
fraction of an amp each cycle and the hub sent each charge point several profiles a
second (a profile storm: flash wear, queues, 1,878 calls/s at 100 charge points). An
increase too small to matter waits, and a connector is raised at most once per interval;
a decrease always goes out at once (the reaction window), and what is not raised only
leaves headroom unused (the allocation counts every connector at what it may draw).
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping
from typing import Literal

from hub_engine.clock import Clock
from hub_engine.ems.interfaces import ConnectorPort
from hub_engine.ems.limit_state import UNSURE, LimitState, Pace
from hub_engine.ems.model import Allocation

__all__ = ["UNSURE", "Applier", "LimitState", "Pace"]

log = logging.getLogger(__name__)


class Applier:
    def __init__(self, clock: Clock, settle_s: float = 10.0, validity_s: float = 300.0,
                 max_parallel: int = 32, fallbacks: Mapping[str, float] | None = None,
                 pace: Pace | None = None) -> None:
        self.clock = clock
        self.pace = pace or Pace()
        # The fallback in force on each connector (the keeper's accepted ones).
        self.fallbacks: Mapping[str, float] = fallbacks if fallbacks is not None else {}
        self.settle_s = settle_s
        self.validity_s = validity_s
        self.refresh_s = validity_s / 3
        self.states: dict[str, LimitState] = {}
        # Per connector, the values in flight, oldest first (at most two: a decrease may
        # follow one still waiting for the charge point's channel).
        self._busy: dict[str, list[float]] = {}
        self._busy_phases: dict[str, list[int | None]] = {}  # the phases of each of those
        self._slots = asyncio.Semaphore(max_parallel)
        self._tasks: set[asyncio.Task[None]] = set()
        self.outcomes: dict[str, int] = {}
        # Sends in a row that were refused or not definitively answered, per connector.
        self.failures: dict[str, int] = {}
        self.testing: set[str] = set()  # connectors a commissioning test owns
        # The limit each test installs above the EMS's own (None: its maximum); it counts
        # whatever settles or changes epoch underneath until the test is over.
        self._test_limit: dict[str, float | None] = {}
        # Called as each send ends: (connector, value, outcome); benchmarks time with it.
        self.on_result: Callable[[str, float, str], None] | None = None
        # Each connector's epoch (a boot, a new transaction for per-transaction
        # profiles), when it last changed, what it may have drawn just before (until its
        # fallback is back) and since when it is counted at its maximum after one.
        self.epochs: dict[str, str] = {}
        self.epoch_at: dict[str, float] = {}
        self._before: dict[str, float | None] = {}
        self._restarting: dict[str, float] = {}
        # Connectors that refused a change of phases: not switched again this epoch.
        self.phases_refused: set[str] = set()

    def may_draw(self, connector_id: str, read_back: bool = True) -> float | None:
        """The highest limit the connector may be applying now (None: its hardware max);
        with ``read_back`` False, not raised by what it was read back to apply."""
        may = self._may_draw(connector_id, read_back)
        if connector_id in self.testing:
            # A test profile sits above the EMS's limits (stack 2): a limit of ours that
            # settles meanwhile does not lower what the connector may draw.
            test = self._test_limit.get(connector_id)
            return None if test is None or may is None else max(may, test)
        return may

    def _may_draw(self, connector_id: str, read_back: bool) -> float | None:
        st = self.states.get(connector_id)
        if st is None:
            return None
        if st.accepted is not None and self.clock.monotonic() - st.accepted_at >= self.settle_s:
            st.confirmed, st.accepted = st.accepted, None
        if st.confirmed is None:
            return None
        confirmed = st.confirmed
        if self.clock.monotonic() > st.valid_until:  # expired there: its fallback rules
            fallback = self.fallbacks.get(connector_id)
            if fallback is None:
                return None
            confirmed = max(confirmed, fallback)
        # Sent, not answered yet: each may be applied already.
        candidates = [confirmed, *self._busy.get(connector_id, [])] + (
            [st.accepted] if st.accepted is not None else [])
        if read_back and st.floor is not None:
            candidates.append(st.floor)
        return max(candidates)

    def following(self, connector_id: str) -> bool:
        """False while its latest limit was refused or not definitively answered, or it
        is read back above its limits: the allocation then reserves what it may draw
        instead of counting on a decrease."""
        st = self.states.get(connector_id)
        return self.failures.get(connector_id, 0) == 0 and (st is None or st.floor is None)

    def steady(self, connector_id: str) -> float | None:
        """Its confirmed limit when nothing about it is pending (no send in flight or
        settling, no unsure outcome, not expired); else None."""
        st = self.states.get(connector_id)
        if st is None or st.accepted is not None or st.sure is not None or (
                connector_id in self._busy) or self.clock.monotonic() > st.valid_until or (
                connector_id in self.testing):
            return None
        return st.confirmed

    def phases(self, connector_id: str) -> int | None:
        """The phases its limit says, once accepted and settled with no other phases sent
        since (None: not said, not known, or changing)."""
        st = self.states.get(connector_id)
        # A send in flight with the same phases (a new limit, a refresh) changes none.
        if st is None or any(p != st.phases for p in self._busy_phases.get(connector_id, [])) \
                or self.clock.monotonic() - st.phases_at < self.settle_s:
            return None
        return st.phases

    def phases_since(self, connector_id: str) -> float:
        """When its phases last changed (accepted)."""
        st = self.states.get(connector_id)
        return st.phases_at if st is not None else -math.inf

    def set_floor(self, connector_id: str, value: float | None) -> None:
        """Read back above its limits: it counts at least at ``value`` (None: no more)."""
        st = self.states.get(connector_id)
        if st is not None:
            st.floor = value

    def read_back_unsure(self, connector_id: str, offered: float, taken_s: float) -> None:
        """After an increase with no definitive answer, a reading of the limit in force
        taken ``settle_s`` after that outcome, with nothing sent since, tells whether it
        was applied: below, the connector counts at the higher of the reading and what
        was in force for sure before."""
        st = self.states.get(connector_id)
        if st is None or st.sure is None or st.confirmed is None or st.accepted is not None \
                or connector_id in self._busy or taken_s < st.unsure_at + self.settle_s:
            return
        if offered < st.confirmed:
            st.confirmed = max(st.sure, offered)
        st.sure = None

    def hold_for_test(self, connector_id: str, limit: float | None) -> None:
        """A commissioning test owns the connector: send it nothing, count it at ``limit``
        (at least; None: its maximum) until :meth:`release_test`."""
        self.testing.add(connector_id)
        self._test_limit[connector_id] = limit
        self.states.setdefault(connector_id, LimitState())

    def release_test(self, connector_id: str) -> None:
        """Test over: its limit is sent again next cycle (counted as before until then)."""
        self.testing.discard(connector_id)
        self._test_limit.pop(connector_id, None)
        st = self.states.get(connector_id)
        if st is not None:
            st.sent_value = None

    def epoch(self, connector_id: str, epoch: str, fallback_installed: bool) -> bool:
        """The connector's epoch as its port reports it; True when it just changed. It
        may then have lost its dynamic limit: counted at its maximum until its fallback
        is installed again, then at the higher of that and what it had before."""
        now = self.clock.monotonic()
        last = self.epochs.get(connector_id)
        self.epochs[connector_id] = epoch
        changed = last is not None and last != epoch
        if changed:
            self._before[connector_id] = self.may_draw(connector_id)
            self._restarting[connector_id] = now
            self.forget(connector_id)
            self.epoch_at[connector_id] = now
        if connector_id in self._before and fallback_installed:
            before = self._before.pop(connector_id)
            if before is not None:
                self.rebase(connector_id,
                            max(before, self.fallbacks.get(connector_id, 0.0)))
        return changed

    def restarting(self, max_s: float = 120.0) -> bool:
        """Some connector is counted at its maximum after a new epoch (at most ``max_s``)."""
        now = self.clock.monotonic()
        for cid, since in list(self._restarting.items()):
            if self.may_draw(cid) is not None or now - since > max_s:
                del self._restarting[cid]
        return bool(self._restarting)

    def forget(self, connector_id: str) -> None:
        """The connector may have lost its limit: it counts at its maximum until confirmed."""
        self.states.pop(connector_id, None)
        self.failures.pop(connector_id, None)
        self.phases_refused.discard(connector_id)

    def rebase(self, connector_id: str, limit: float) -> None:
        """Its fallback was just installed: it draws at most ``limit`` once that settles
        (until then, its hardware maximum), like any accepted limit."""
        st = self.states.setdefault(connector_id, LimitState())
        if st.confirmed is None and st.accepted is None:
            st.accepted, st.accepted_at = limit, self.clock.monotonic()
            st.valid_until = math.inf  # ``limit`` already counts the fallback

    def raised_at(self, connector_id: str) -> float:
        st = self.states.get(connector_id)
        return st.raised_at if st is not None else -math.inf

    def apply(self, allocation: Allocation, ports: Mapping[str, ConnectorPort],
              units: dict[str, Literal["A", "W"]], hold: set[str] | None = None,
              offline: set[str] | None = None) -> int:
        """Start the sends this allocation needs; return how many were started.

        Connectors in ``hold`` (ignoring their limit) keep the last limit sent, refreshed;
        ``offline`` ones are not sent anything (they count at what they may draw).
        """
        now = self.clock.monotonic()
        wanted: list[tuple[bool, float, str, float, int | None]] = []
        for sp in allocation.setpoints:
            port = ports.get(sp.connector_id)
            if port is None or (offline and sp.connector_id in offline) or (
                    sp.connector_id in self.testing):
                continue
            unit = units.get(sp.connector_id, "A")
            value = sp.limit_w if unit == "W" and sp.limit_w is not None else sp.limit_a
            flying = self._busy.get(sp.connector_id)
            if flying and (len(flying) > 1 or value >= flying[-1] - 1e-9):
                # One in flight: only a decrease below it may follow, right behind it
                # (that one may wait behind a slow call; this one must not wait a cycle).
                continue
            st = self.states.setdefault(sp.connector_id, LimitState())
            if hold and sp.connector_id in hold:
                if st.sent_value is None:
                    continue
                value = min(value, st.sent_value)
            if st.sent_value == value and st.phases == sp.phases and (
                    now - st.sent_at < self.refresh_s):
                continue
            current = self.may_draw(sp.connector_id)
            # From one phase to three is an increase (the car ramps on two more phases).
            more_phases = st.phases == 1 and sp.phases == 3
            decrease = (current is None or value < current) and not more_phases
            last = st.sent_value
            if last is not None and value > last:
                # An increase: paced (held, it only leaves headroom unused). A refresh
                # sends it anyway. Decreases are never held: a node, an external limit
                # (shedding, PV only) or another car may need them now.
                if now - st.sent_at < self.refresh_s and \
                        self.pace.holds(value, last, unit, now - st.paced_at,
                                        sp.target_a - sp.limit_a):
                    continue
                st.paced_at = now
            wanted.append((not decrease, -sp.overload_a, sp.connector_id, value, sp.phases))
        wanted.sort(key=lambda w: w[:3])  # decreases first, most overloaded nodes first
        for increase, _, cid, value, phases in wanted:
            if increase:
                self.states.setdefault(cid, LimitState()).raised_at = now
            self._busy.setdefault(cid, []).append(value)
            self._busy_phases.setdefault(cid, []).append(phases)
            task = asyncio.create_task(self._send(cid, ports[cid], value, units.get(cid, "A"),
                                                  phases))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        return len(wanted)

    async def _send(self, cid: str, port: ConnectorPort, value: float,
                    unit: Literal["A", "W"], phases: int | None = None) -> None:
        st = self.states.setdefault(cid, LimitState())
        started = self.clock.monotonic()
        try:
            async with self._slots:
                # Not said unless switching: ports and firmware that know no phases.
                outcome = await (port.set_limit(value, unit, self.validity_s, phases)
                                 if phases is not None else
                                 port.set_limit(value, unit, self.validity_s))
        except Exception as exc:  # a port bug must not stop the EMS
            log.error("%s: sending a limit failed: %s", cid, exc)
            outcome = "error"
        finally:
            flying = self._busy[cid]
            flying.remove(value)
            if not flying:
                del self._busy[cid]
            said = self._busy_phases[cid]
            said.remove(phases)
            if not said:
                del self._busy_phases[cid]
        self.outcomes[outcome] = self.outcomes.get(outcome, 0) + 1
        if self.on_result is not None:
            self.on_result(cid, value, outcome)
        if outcome != "offline":
            self.failures[cid] = 0 if outcome == "accepted" else self.failures.get(cid, 0) + 1
        if outcome == "accepted":
            st.sure = None  # superseded: this one is in force once settled
            if st.accepted is not None and st.confirmed is not None:
                # The one before, still settling, may be in force until this one is:
                # a raise answered just before a decrease was forgotten (counted at the
                # lower limit while the charge point applied the higher).
                st.confirmed = max(st.confirmed, st.accepted)
            st.accepted, st.accepted_at = value, self.clock.monotonic()
            st.sent_value, st.sent_at = value, self.clock.monotonic()
            if st.phases != phases:
                st.phases, st.phases_at = phases, self.clock.monotonic()
            st.valid_until = started + self.validity_s
        elif outcome in UNSURE:
            # It may be in force there: counted at the higher until a lower one is
            # confirmed, and sent again (what is applied is unknown).
            log.warning("%s: limit %.1f %s may or may not be applied (%s)", cid, value, unit,
                        outcome)
            if st.confirmed is not None:  # (None: counted at its maximum anyway)
                if st.sure is None:
                    st.sure = max(st.confirmed, st.accepted or 0.0)
                st.unsure_at = self.clock.monotonic()
                st.confirmed = max(st.confirmed, value, st.accepted or 0.0)
            st.accepted = None
            # valid_until stays the old profile's: if that one is still in force, the
            # fallback takes over at its end.
            st.sent_value = None
            if st.phases != phases:
                st.phases, st.phases_at = None, self.clock.monotonic()  # either may hold
        else:
            log.warning("%s: limit %.1f %s not applied (%s)", cid, value, unit, outcome)
            if outcome == "rejected" and phases is not None and st.phases != phases:
                log.warning("%s: refused to charge on %d phase(s): not switched again",
                            cid, phases)
                self.phases_refused.add(cid)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
