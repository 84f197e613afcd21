"""Turning what the ports report into the snapshot's connectors, cycle after cycle.

Keeps what one port state cannot say: when a session was first seen and its rotation,
the EV's phases seen so far, the ramp credit after an increase (DESIGN "The EMS", 2),
whether it ignores its limit (:class:`hub_engine.ems.watch.LimitWatch`) and what it
reads back (:mod:`hub_engine.ems.readback`). What each connector may draw, and why, has
one owner: the :class:`~hub_engine.ems.apply.Applier` (its confirmed and in-flight
limits, the fallback in force, its epoch: a reboot forgets its dynamic limit); this
module only tells it what the ports report.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Literal

from hub_engine.clock import Clock
from hub_engine.config import ChargePointConfig, EmsConfig
from hub_engine.ems.apply import Applier
from hub_engine.ems.interfaces import ConnectorState
from hub_engine.ems.model import Connector, Rotation, Session
from hub_engine.ems.plans import PlanBook
from hub_engine.ems.readback import ReadBack
from hub_engine.ems.watch import LimitWatch

__all__ = ["Observer"]

log = logging.getLogger(__name__)
_DETECT_A = 3.0  # a car drawing at least this on some phase shows which phases it uses
_LIVE_A = 1.0
_STATE: dict[str, Literal["charging", "waiting", "suspended_ev"]] = {
    "Charging": "charging", "SuspendedEV": "suspended_ev"}

Alert = Callable[[str, str, dict[str, object]], None]


class Observer:
    def __init__(self, ems: EmsConfig, applier: Applier, clock: Clock, alert: Alert,
                 plans: PlanBook) -> None:
        # The applier owns each connector's limit state (what it may draw, and why); this
        # only reads the ports' states into it.
        self.ems, self.applier, self.clock, self.alert = ems, applier, clock, alert
        self.plans = plans
        self.sessions: dict[str, tuple[int, float]] = {}  # transaction id, first seen
        self.rotation: dict[str, Rotation] = {}
        self.ev_phases: dict[str, int] = {}
        self.units: dict[str, str] = {}
        self.watch = LimitWatch(after_s=ems.ignore_after_s)
        self.read_back = ReadBack()
        self.offered: dict[str, float] = {}  # each connector's last reading of it
        self._starving: dict[str, float] = {}  # since when it is offered nothing
        self._told: set[str] = set()
        # The phases solar charging wants each connector on (1 or 3; absent: 3).
        self.phase_wish: Callable[[str], int | None] = lambda cid: None
        self.phases_ignored: set[str] = set()  # told one phase, drew on more: not again
        self._one_phase: dict[str, float] = {}  # seen on one phase after the switch at
        self._grid: dict[str, tuple[int, ...]] = {}  # each switching connector's phases

    def connector(self, cid: str, node_id: str, cp: ChargePointConfig, volt: float,
                  state: ConnectorState | None) -> Connector:
        only_w = state is not None and "A" not in state.units
        unit: Literal["A", "W"] = "W" if cp.dc or cp.control == "W" or only_w else "A"
        max_w = cp.max_power_w or cp.max_current_a * volt * cp.phases
        if state is not None and self.units.get(cid, unit) != unit:
            # Told at boot it takes only W: what was counted in A means nothing in W.
            log.info("%s: takes its limits in %s only: managed in %s", cid, unit, unit)
            self.applier.forget(cid)
        self.units[cid] = unit
        if state is not None:
            if self.applier.epoch(cid, state.epoch, state.fallback_installed):
                log.info("%s: new epoch %s: counted at its maximum until its fallback is "
                         "installed", cid, state.epoch)
                self.phases_ignored.discard(cid)
            state = self._current(cid, state)
            self._read_back(cid, unit, state)
        may = self.applier.may_draw(cid)
        if state is not None and not state.online and may is not None:
            # Its limit cannot be refreshed: it runs on it until it expires, then on its
            # fallback. A model known to lose its profiles may be rebooting: its maximum.
            fallback = self.applier.fallbacks.get(cid)
            lost = "profiles_lost_on_reboot" in cp.quirks
            may = None if lost or fallback is None else max(may, fallback)
        phases_cmd, phases = self._phases(cid, cp, unit, state)
        session = None
        responsive = state is not None and state.online and self.applier.following(cid)
        if state is not None and state.transaction_id is not None:
            seen = self.sessions.get(cid)
            if seen is None or seen[0] != state.transaction_id:
                seen = (state.transaction_id, self.clock.monotonic())
                self.sessions[cid] = seen
                self.rotation.pop(cid, None)
                self.ev_phases.pop(cid, None)
            may_a = (may if may is not None else cp.max_current_a) if unit == "A" else (
                (may if may is not None else max_w) / (volt * cp.phases))
            ev_phases, basis = self._ev_phases(cid, state, phases_cmd)
            plan = self.plans.get(cid, state.transaction_id)
            session = Session(
                state=_STATE.get(state.status or "", "waiting"),
                started_s=seen[1], energy_wh=state.energy_wh or 0.0,
                departure_s=None if plan is None else self.plans.departure_s(plan),
                energy_need_wh=None if plan is None else plan.energy_wh,
                measured_a=state.measured_a,
                measured_age_s=state.measured_age_s,
                ev_phases=ev_phases, phases_basis=basis,
                rotation=self.rotation.get(cid, Rotation()),
                ramp_credit_a=self._ramp_credit(cid, seen[1], state, may_a))
            if unit == "A" and self._ignores(cid, self.applier.may_draw(cid, False), state):
                responsive = False
                may = max(may or 0.0, max(state.measured_a or (0.0,)))
        return Connector(
            id=cid, node=node_id, max_current_a=cp.max_current_a,
            min_current_a=self.ems.min_current_a, phases=phases, phases_cmd=phases_cmd,
            control=unit, dc=cp.dc, max_power_w=max_w if unit == "W" else cp.max_power_w,
            tier=cp.priority, weight=cp.weight,
            may_draw_a=may if unit == "A" else None, may_draw_w=may if unit == "W" else None,
            responsive=responsive, session=session)

    def _current(self, cid: str, state: ConnectorState) -> ConnectorState:
        """``state`` without a measurement taken before a reboot or a new transaction:
        the car stopped then, and its old reading, subtracted from the meter, made the
        building look lighter by all of them after a blackout. Without a reading the car
        counts as building until it reports again (its connector still counts at what it
        may draw). A reading kept across a mere link drop stays: the car charges on."""
        since = self.applier.epoch_at.get(cid)
        if since is None:
            return state
        now = self.clock.monotonic()
        if state.offered_age_s is not None and now - state.offered_age_s < since:
            state = dataclasses.replace(state, offered_a=None, offered_w=None,
                                        offered_age_s=None)  # the limit before the reboot
        if state.measured_a is None or now - (state.measured_age_s or 0.0) >= since:
            return state
        return dataclasses.replace(state, measured_a=None, measured_age_s=None)

    def _read_back(self, cid: str, unit: str, state: ConnectorState) -> None:
        """Judge the limit the charge point reads back (:mod:`hub_engine.ems.readback`)."""
        now = self.clock.monotonic()
        self.read_back.note(cid, now, self.applier.may_draw(cid, read_back=False))
        offered = state.offered_a if unit == "A" else state.offered_w
        if offered is None or state.offered_age_s is None:
            return
        self.offered[cid] = offered
        self.applier.read_back_unsure(cid, offered, now - state.offered_age_s)
        self._starved(cid, unit, state, offered)
        verdict = self.read_back.judge(cid, now, unit, offered, state.offered_age_s)
        st = self.applier.states.get(cid)
        if verdict is None or st is None or verdict == (st.floor is not None):
            if verdict and st is not None:
                st.floor = offered  # still above: at what it reads now
            return
        limit = self.applier.may_draw(cid, read_back=False)
        if verdict:
            log.error("%s offers %.1f %s though its limit is %s: counted at what it offers "
                      "(if its firmware ignores TxDefaultProfile changes during a "
                      "transaction, declare quirks: [tx_default_ignored_in_tx])", cid,
                      offered, unit, "?" if limit is None else f"{limit:.1f} {unit}")
            self.alert("limit_not_applied", cid, {"offered": offered, "limit": limit,
                                                  "unit": unit})
            self.applier.set_floor(cid, offered)
        else:
            log.warning("%s offers its limit again (%.1f %s)", cid, offered, unit)
            self.alert("limit_applied", cid, {"offered": offered, "unit": unit})
            self.applier.set_floor(cid, None)

    def _starved(self, cid: str, unit: str, state: ConnectorState, offered: float) -> None:
        """Offered nothing during a transaction while its steady limit lets it charge,
        for twice ``confirm_settle_s``: the limit is not applied either (a firmware that
        froze the TxDefaultProfile of an idle connector, 0 A, at the transaction's
        start). Not a hazard, but its car never charges: alerted, like a limit exceeded,
        so that the profile layout can adapt."""
        now = self.clock.monotonic()
        limit = self.applier.steady(cid)
        minimum = self.ems.min_current_a * (1.0 if unit == "A" else 230.0)
        reading_at = now - (state.offered_age_s or 0.0)
        if state.transaction_id is None or limit is None or limit < minimum or (
                offered >= self.read_back.tolerance[unit]):
            self._starving.pop(cid, None)
            if offered >= self.read_back.tolerance[unit]:
                self._told.discard(cid)
            return
        since = self._starving.setdefault(cid, reading_at)
        if reading_at - since >= 2 * self.ems.confirm_settle_s and cid not in self._told:
            self._told.add(cid)
            log.error("%s offers nothing though its limit is %.1f %s: it does not apply "
                      "its limits", cid, limit, unit)
            self.alert("limit_not_applied", cid, {"offered": offered, "limit": limit,
                                                  "unit": unit})

    def held(self) -> set[str]:
        """Connectors that do not follow their limit: sent the last one again, refreshed,
        never raised (it ignores its limit, or it is read back above it)."""
        return self.watch.flagged | {cid for cid, st in self.applier.states.items()
                                     if st.floor is not None}

    def _ignores(self, cid: str, may: float | None, state: ConnectorState) -> bool:
        fresh = state.measured_a is not None and (state.measured_age_s or 0.0) <= (
            self.ems.meter_timeout_s + self.ems.ignore_after_s)
        measured = max(state.measured_a) if fresh and state.measured_a is not None else None
        change = self.watch.check(cid, self.clock.monotonic(), may, measured)
        if change is True:
            log.error("%s ignores its limit: %.1f A measured, %.1f A allowed; counting its "
                      "real draw", cid, measured or 0.0, may or 0.0)
            self.alert("limit_ignored", cid, {"measured_a": measured, "limit_a": may})
        elif change is False:
            log.warning("%s follows its limit again", cid)
            self.alert("limit_followed", cid, {"limit_a": may})
        return cid in self.watch.flagged

    def _ramp_credit(self, cid: str, session_seen_s: float, state: ConnectorState,
                     may_a: float) -> float:
        """The car's may-draw current while its latest increase is not yet measured.

        The grid meter sees a car ramp up a MeterValues interval before the car reports
        it; without this the rise reads as building load and pauses the very cars that
        caused it (DESIGN "The EMS", 2). Bounded by ``ramp_credit_s``.
        """
        now = self.clock.monotonic()
        since = max(self.applier.raised_at(cid), session_seen_s)
        if now - since > self.ems.ramp_credit_s:
            return 0.0
        if state.measured_a is not None and state.measured_age_s is not None and (
                now - state.measured_age_s >= since + self.ems.confirm_settle_s):
            return 0.0  # measured after the ramp had time to happen: the measure is right
        return may_a

    def _ev_phases(self, cid: str, state: ConnectorState, phases_cmd: int | None
                   ) -> tuple[Literal[1, 2, 3] | None, str]:
        """Phases the car draws on, the most seen this session, and why it counts on them.

        Only currents labelled on two or more phases tell: an unlabelled value (or L1 only)
        says nothing of the others, so the car counts on all of the charge point's phases.
        Nor does a reading on one phase that the hub asked for (or before a switch back
        to three settled): a three-phase car would count as single-phase on three.
        """
        m = state.measured_a
        if m is not None and state.phases_labelled and max(m) >= _DETECT_A and (
                self._on_three(cid, state, phases_cmd)):
            live = sum(1 for a in m if a >= _LIVE_A)
            self.ev_phases[cid] = max(self.ev_phases.get(cid, 1), live)
        n = self.ev_phases.get(cid)
        if n is not None:
            return (1 if n == 1 else 2 if n == 2 else 3), f"{n} measured (labelled currents)"
        if m is not None and not state.phases_labelled:
            return None, "unknown (currents without phase labels): all"
        return None, "not measured yet: all"

    def _phases(self, cid: str, cp: ChargePointConfig, unit: str, state: ConnectorState | None
                ) -> tuple[Literal[1, 3] | None, tuple[int, ...]]:
        """The phases it is told to charge on (None: it does not switch) and the grid
        phases it counts on: its charge point's L1 alone only once one phase is accepted,
        settled and measured (labelled currents on one phase only); all of them before,
        and for good (this epoch) once it was measured on more after being told one."""
        grid = tuple(cp.grid_phases())
        self._grid.pop(cid, None)
        if state is None or not state.phase_switching or unit != "A" or cp.dc or (
                len(grid) != 3 or cid in self.applier.phases_refused
                or cid in self.phases_ignored):
            return None, grid
        self._grid[cid] = grid
        cmd: Literal[1, 3] = 1 if self.phase_wish(cid) == 1 else 3
        if cmd != 1 or self.applier.phases(cid) != 1:
            self._one_phase.pop(cid, None)
            return cmd, grid
        since = self.applier.phases_since(cid)
        m, age = state.measured_a, state.measured_age_s
        taken = self.clock.monotonic() - (age or 0.0)
        if self._one_phase.get(cid) == since:
            fresh = m is not None and state.phases_labelled and taken >= since
            if not fresh or sum(1 for a in m or () if a >= _LIVE_A) <= 1:
                return cmd, grid[:1]
        if m is None or not state.phases_labelled or max(m) < _DETECT_A or (
                taken < since + self.ems.confirm_settle_s):
            return cmd, grid  # nothing shows it yet
        if sum(1 for a in m if a >= _LIVE_A) <= 1:
            self._one_phase[cid] = since
            return cmd, grid[:1]
        self._one_phase.pop(cid, None)
        self.phases_ignored.add(cid)
        log.error("%s was told to charge on one phase and draws on several (%s A): "
                  "counted on all its phases, not switched again", cid,
                  "/".join(f"{a:.1f}" for a in m))
        self.alert("phases_not_switched", cid, {"measured_a": list(m)})
        return None, grid

    def rephase(self, conn: Connector) -> Connector:
        """``conn`` told the phases wished since it was built (a solar decision of this
        cycle): counted on all its phases, a change being unconfirmed."""
        grid = self._grid.get(conn.id)
        if grid is None or conn.phases_cmd is None:
            return conn
        cmd: Literal[1, 3] = 1 if self.phase_wish(conn.id) == 1 else 3
        if cmd == conn.phases_cmd:
            return conn
        return dataclasses.replace(conn, phases_cmd=cmd, phases=grid)

    def _on_three(self, cid: str, state: ConnectorState, phases_cmd: int | None) -> bool:
        """Whether its reading was taken on three phases that the hub did not narrow."""
        if phases_cmd is None:
            return True
        if phases_cmd == 1 or self.applier.phases(cid) == 1:
            return False
        taken = self.clock.monotonic() - (state.measured_age_s or 0.0)
        return taken >= self.applier.phases_since(cid) + self.ems.confirm_settle_s
