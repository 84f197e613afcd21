"""The EMS cycle: read → snapshot → decide → write → publish, every ``cycle_s``.

Reads each connector's state and each metered node's reading through the interfaces of
:mod:`hub_engine.ems.interfaces`, builds one immutable :class:`Snapshot`, calls the pure
:func:`allocate`, hands the result to the :class:`Applier` (confirmed-limit invariant),
and keeps the state the next cycle needs (rotation, non-charging load history).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Literal

from hub_engine.clock import Clock
from hub_engine.config import ChargePointConfig, EmsConfig, HubConfig, NodeConfig
from hub_engine.ems.allocate import allocate
from hub_engine.ems.apply import Applier
from hub_engine.ems.interfaces import ConnectorPort, ConnectorState, MeterSource
from hub_engine.ems.model import (
    Allocation,
    Connector,
    Node,
    Params,
    Phases3,
    Reading,
    Rotation,
    Session,
    Snapshot,
)
from hub_engine.errors import ReadError

__all__ = ["EmsLoop"]

log = logging.getLogger(__name__)
_DETECT_A = 3.0  # a car drawing at least this on some phase shows which phases it uses
_LIVE_A = 1.0
_STATE: dict[str, Literal["charging", "waiting", "suspended_ev"]] = {
    "Charging": "charging", "SuspendedEV": "suspended_ev"}


class EmsLoop:
    name = "ems"

    def __init__(self, config: HubConfig, ports: Callable[[], dict[str, ConnectorPort]],
                 meters: dict[str, MeterSource], clock: Clock) -> None:
        self.config = config
        self.ems: EmsConfig = config.ems
        self.ports = ports
        self.meters = meters
        self.clock = clock
        self.applier = Applier(clock, settle_s=self.ems.confirm_settle_s,
                               validity_s=self.ems.profile_validity_s)
        self.params = Params(min_on_s=self.ems.min_on_s, min_off_s=self.ems.min_off_s,
                             max_pauses_per_session=self.ems.max_pauses_per_session,
                             fairness_unit=self.ems.fairness_unit,
                             meter_timeout_s=self.ems.meter_timeout_s,
                             non_ev_history_len=max(1, round(self.ems.non_ev_window_s
                                                             / self.ems.cycle_s)))
        self.history: dict[str, deque[Phases3]] = {}
        # Per connector: the session seen (transaction id, first seen) and its rotation.
        self.sessions: dict[str, tuple[int, float]] = {}
        self.rotation: dict[str, Rotation] = {}
        self.ev_phases: dict[str, int] = {}
        self.last: Allocation | None = None
        self.cycle_ms: float = 0.0
        self.cycles = 0
        self._task: asyncio.Task[None] | None = None
        self._nodes: list[tuple[NodeConfig, str | None, float]] = []
        for site in config.sites:
            self._walk(site.grid, None, site.voltage_v)

    def _walk(self, node: NodeConfig, parent: str | None, volt: float) -> None:
        self._nodes.append((node, parent, volt))
        for child in node.children:
            self._walk(child, node.id, volt)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ems")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.applier.stop()

    async def _run(self) -> None:
        while True:
            try:
                self.cycle()
            except Exception:
                log.exception("EMS cycle failed; the previous limits stay in force")
            await self.clock.sleep(self.ems.cycle_s)

    def snapshot(self, ports: dict[str, ConnectorPort]) -> Snapshot:
        nodes = []
        for node, parent, volt in self._nodes:
            reading: Reading | None = None
            source = self.meters.get(node.id)
            if source is not None:
                try:
                    reading = source.reading()
                except ReadError as exc:
                    log.warning("meter of %s: %s", node.id, exc)
            fallback = node.meter_fallback_load_a
            nodes.append(Node(
                id=node.id, parent=parent, limit_a=node.limit_a, limit_va=node.limit_va,
                limit_w=node.limit_w, margin_a=node.margin_a, voltage_v=volt, meter=reading,
                has_meter=node.meter is not None,
                fallback_load_a=(fallback, fallback, fallback) if fallback is not None else None,
                non_ev_history_a=tuple(self.history.get(node.id, ()))))
        connectors = []
        for node, _, volt in self._nodes:
            for cp in node.charge_points:
                for n in range(1, cp.connectors + 1):
                    cid = f"{cp.id}/{n}"
                    port = ports.get(cid)
                    state = port.state() if port is not None else None
                    connectors.append(self._connector(cid, node.id, cp, volt, state))
        return Snapshot(now_s=self.clock.monotonic(), nodes=tuple(nodes),
                        connectors=tuple(connectors), params=self.params)

    def _connector(self, cid: str, node_id: str, cp: ChargePointConfig, volt: float,
                   state: ConnectorState | None) -> Connector:
        unit: Literal["A", "W"] = "W" if cp.dc or cp.control == "W" else "A"
        max_w = cp.max_power_w or cp.max_current_a * volt * cp.phases
        may = self.applier.may_draw(cid)
        session = None
        if state is not None and state.transaction_id is not None:
            seen = self.sessions.get(cid)
            if seen is None or seen[0] != state.transaction_id:
                seen = (state.transaction_id, self.clock.monotonic())
                self.sessions[cid] = seen
                self.rotation.pop(cid, None)
                self.ev_phases.pop(cid, None)
            may_a = (may if may is not None else cp.max_current_a) if unit == "A" else (
                (may if may is not None else max_w) / (volt * cp.phases))
            session = Session(
                state=_STATE.get(state.status or "", "waiting"),
                started_s=seen[1], measured_a=state.measured_a,
                measured_age_s=state.measured_age_s,
                ev_phases=self._ev_phases(cid, state),
                rotation=self.rotation.get(cid, Rotation()),
                ramp_credit_a=self._ramp_credit(cid, seen[1], state, may_a))
        return Connector(
            id=cid, node=node_id, max_current_a=cp.max_current_a,
            min_current_a=self.ems.min_current_a, phases=tuple(cp.grid_phases()),
            control=unit, dc=cp.dc, max_power_w=max_w if unit == "W" else cp.max_power_w,
            tier=cp.priority, weight=cp.weight,
            may_draw_a=may if unit == "A" else None, may_draw_w=may if unit == "W" else None,
            responsive=state is not None and state.online, session=session)

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

    def _ev_phases(self, cid: str, state: ConnectorState) -> Literal[1, 2, 3] | None:
        """Phases the car draws on, from measured currents; the most seen this session."""
        m = state.measured_a
        if m is not None and max(m) >= _DETECT_A:
            live = sum(1 for a in m if a >= _LIVE_A)
            self.ev_phases[cid] = max(self.ev_phases.get(cid, 1), live)
        n = self.ev_phases.get(cid)
        return 1 if n == 1 else 2 if n == 2 else 3 if n == 3 else None

    def cycle(self) -> Allocation:
        t0 = time.perf_counter()
        ports = self.ports()
        snap = self.snapshot(ports)
        alloc = allocate(snap)
        units: dict[str, Literal["A", "W"]] = {c.id: "W" if c.control == "W" or c.dc else "A"
                                               for c in snap.connectors}
        self.applier.apply(alloc, ports, units)
        for report in alloc.nodes:
            hist = self.history.setdefault(report.node_id,
                                           deque(maxlen=self.params.non_ev_history_len))
            if report.meter_status == "fresh":
                hist.append(report.non_ev_a)
        for c in snap.connectors:
            rot = alloc.by_id[c.id].session_rotation
            if c.session is not None and rot is not None:
                self.rotation[c.id] = rot
        self.last = alloc
        self.cycles += 1
        self.cycle_ms = (time.perf_counter() - t0) * 1000
        return alloc
