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
from hub_engine.config import EmsConfig, HubConfig, NodeConfig
from hub_engine.ems.allocate import allocate
from hub_engine.ems.apply import Applier
from hub_engine.ems.interfaces import ConnectorPort, MeterSource
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
        for node, _, _ in self._nodes:
            for cp in node.charge_points:
                grid = cp.grid_phases()
                for n in range(1, cp.connectors + 1):
                    cid = f"{cp.id}/{n}"
                    port = ports.get(cid)
                    state = port.state() if port is not None else None
                    session = None
                    if state is not None and state.transaction_id is not None:
                        seen = self.sessions.get(cid)
                        if seen is None or seen[0] != state.transaction_id:
                            seen = (state.transaction_id, self.clock.monotonic())
                            self.sessions[cid] = seen
                            self.rotation.pop(cid, None)
                        session = Session(
                            state=_STATE.get(state.status or "", "waiting"),
                            started_s=seen[1], measured_a=state.measured_a,
                            measured_age_s=state.measured_age_s,
                            rotation=self.rotation.get(cid, Rotation()))
                    may = self.applier.may_draw(cid)
                    unit = cp.control if not cp.dc else "W"
                    connectors.append(Connector(
                        id=cid, node=node.id, max_current_a=cp.max_current_a,
                        phases=tuple(grid), control="W" if unit == "W" else "A", dc=cp.dc,
                        max_power_w=cp.max_power_w or (cp.max_current_a * 230 * cp.phases
                                                       if unit == "W" else None),
                        tier=cp.priority, weight=cp.weight,
                        may_draw_a=may if unit == "A" else None,
                        may_draw_w=may if unit == "W" else None,
                        responsive=state is not None and state.online, session=session))
        return Snapshot(now_s=self.clock.monotonic(), nodes=tuple(nodes),
                        connectors=tuple(connectors), params=self.params)

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
