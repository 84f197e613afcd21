"""The EMS cycle: read → snapshot → decide → write → publish, every ``cycle_s``.

Reads each connector's state and each metered node's reading through the interfaces of
:mod:`hub_engine.ems.interfaces`, builds one immutable :class:`Snapshot`, calls the pure
:func:`allocate`, hands the result to the :class:`Applier` (confirmed-limit invariant)
and the fallbacks to the :class:`FallbackKeeper`, then publishes the cycle record. A
trigger (:meth:`EmsLoop.wake`: a session starts or stops, an external limit changes)
runs the next cycle at once.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any, Literal, Protocol

from hub_engine.clock import Clock
from hub_engine.config import EmsConfig, HubConfig, NodeConfig
from hub_engine.ems.allocate import allocate
from hub_engine.ems.apply import Applier, Pace
from hub_engine.ems.check import violations
from hub_engine.ems.external import ExternalLimits
from hub_engine.ems.fallback_sync import FallbackKeeper, is_plugged
from hub_engine.ems.history import NonEvHistory
from hub_engine.ems.interfaces import ConnectorPort, ConnectorState, MeterSource, SiteInputs
from hub_engine.ems.model import (
    Allocation,
    Connector,
    ExternalLimit,
    HardInputs,
    Node,
    Params,
    Phases3,
    Reading,
    Snapshot,
)
from hub_engine.ems.observe import Observer
from hub_engine.ems.plans import PlanBook
from hub_engine.ems.priorities import ExternalPriorities, apply_priorities
from hub_engine.ems.record import cycle_record, summary
from hub_engine.ems.rights import SessionRights, apply_rights
from hub_engine.ems.sentinel import Sentinel, Watched, look_at, seen
from hub_engine.ems.solar_control import SOLAR, SolarControl
from hub_engine.ems.subscription import SUBSCRIPTION, SubscriptionControl
from hub_engine.errors import ReadError
from hub_engine.tasks import cancel_and_wait

__all__ = ["EmsLoop"]

log = logging.getLogger(__name__)

SUMMARY_EVERY_S = 60.0
PACE = 3.0  # triggered cycles in a row: at most 1/PACE of the core (see _pace)
UNVERIFIED = "model not fail-safe verified: at most its fallback"
CLOCK = "clock not trusted: at most its fallback"
FALLBACK_CAPS = frozenset({UNVERIFIED, CLOCK})  # derived from the fallbacks, not inputs
# Not for the fallbacks either: a fallback is a safety budget, not a tariff decision, and
# would be resent whenever the sun moves a solar cap.
NOT_FALLBACK = FALLBACK_CAPS | {SOLAR, SUBSCRIPTION}
# Limits set by the site's devices and by solar charging (in the cycle record).
DEVICE_SOURCES = frozenset({"input", "generator", "linky", SOLAR})
Listener = Callable[[dict[str, Any]], None]


class Companion(Protocol):
    async def stop(self) -> None: ...


class EmsLoop:
    name = "ems"

    def __init__(self, config: HubConfig, ports: Callable[[], Mapping[str, ConnectorPort]],
                 meters: dict[str, MeterSource], clock: Clock) -> None:
        self.config = config
        self.ems: EmsConfig = config.ems
        self.ports = ports
        self.meters = meters
        self.clock = clock
        self.site_inputs: SiteInputs | None = None
        # False while the clock cannot be trusted: every connector held at its fallback.
        self.clock_trusted: Callable[[], bool] | None = None
        # Per connector with a session: what its badge changes (access control).
        self.session_rights: Callable[[], dict[str, SessionRights]] | None = None
        self.fallbacks = FallbackKeeper()
        self.applier = Applier(clock, settle_s=self.ems.confirm_settle_s,
                               validity_s=self.ems.profile_validity_s,
                               max_parallel=self.ems.max_parallel_sends,
                               fallbacks=self.fallbacks.sent,
                               pace=Pace(step_a=self.ems.increase_step_a,
                                         interval_s=self.ems.increase_interval_s
                                         or 3 * self.ems.cycle_s))
        self.params = Params(min_on_s=self.ems.min_on_s, min_off_s=self.ems.min_off_s,
                             max_pauses_per_session=self.ems.max_pauses_per_session,
                             fairness_unit=self.ems.fairness_unit,
                             meter_timeout_s=self.ems.meter_timeout_s)
        self.listeners: list[Listener] = []
        # Called with every alert (kind, target, data): the bus publishes them.
        self.alert_listeners: list[Callable[[str, str, dict[str, object]], None]] = []
        self.companions: list[Companion] = []  # stopped with the loop (their tasks)
        self.alerts: list[tuple[str, str, dict[str, object]]] = []
        self.plans = PlanBook(clock)
        self.observer = Observer(self.ems, self.applier, clock, self._alert, self.plans)
        self.readings: dict[str, deque[tuple[float, Phases3]]] = {}
        self.last: Allocation | None = None
        self.record: dict[str, Any] = {}
        self.cycle_ms: float = 0.0
        self.cycles = 0
        self._task: asyncio.Task[None] | None = None
        self._summary_at = -SUMMARY_EVERY_S
        self._wake = asyncio.Event()
        self._nodes: list[tuple[NodeConfig, str | None, float]] = []
        for site in config.sites:
            self._walk(site.grid, None, site.voltage_v)
        self.history = NonEvHistory(clock, self.ems.non_ev_window_s, self.ems.cycle_s,
                                    self.params.measurement_timeout_s,
                                    {n.id: p for n, p, _ in self._nodes})
        targets = {n.id for n, _, _ in self._nodes} | {
            f"{cp.id}/{k}" for n, _, _ in self._nodes for cp in n.charge_points
            for k in range(1, cp.connectors + 1)}
        self.external = ExternalLimits(clock, targets)
        self._inputs_seen: object = None
        self.sentinel = Sentinel(
            lambda: look_at(self.meters, self.site_inputs, self.ems.meter_timeout_s),
            {n.id: n.limit_a for n, _, _ in self._nodes})
        self.priorities = ExternalPriorities(clock, self._covered())
        self.solar = SolarControl(config, self.ems.meter_timeout_s, clock)
        self.subscription = SubscriptionControl(config, clock, self.ems.meter_timeout_s)
        self.companions.append(self.solar)
        self.observer.phase_wish = self.solar.wish

    def _covered(self) -> dict[str, frozenset[str]]:
        """Each node's and connector's id → the connectors under it (itself for one)."""
        below: dict[str, set[str]] = {}
        parents = {n.id: p for n, p, _ in self._nodes}
        for node, _, _ in self._nodes:
            own = {f"{cp.id}/{k}" for cp in node.charge_points
                   for k in range(1, cp.connectors + 1)}
            for cid in own:
                below[cid] = {cid}
            up: str | None = node.id
            while up is not None:
                below.setdefault(up, set()).update(own)
                up = parents[up]
        return {k: frozenset(v) for k, v in below.items()}

    def _walk(self, node: NodeConfig, parent: str | None, volt: float) -> None:
        self._nodes.append((node, parent, volt))
        for child in node.children:
            self._walk(child, node.id, volt)

    def _self_check(self, snap: Snapshot, alloc: Allocation) -> None:
        breaches = violations(snap, alloc)
        if breaches:
            log.error("EMS self-check: %s", "; ".join(breaches[:5]))
            self._alert("self_check", self.config.sites[0].id if self.config.sites else "",
                        {"violations": breaches[:20]})

    def _alert(self, kind: str, target: str, data: dict[str, object]) -> None:
        self.alerts.append((kind, target, data))
        del self.alerts[:-100]
        for listener in self.alert_listeners:
            try:
                listener(kind, target, data)
            except Exception:  # a subscriber's bug must not stop the EMS
                log.exception("alert listener failed")

    def wake(self) -> None:
        """Run the next cycle now (a trigger: session change, new external limit…)."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="ems")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.applier.stop()
        await self.fallbacks.stop()
        for companion in self.companions:
            await companion.stop()

    async def _run(self) -> None:
        watch = asyncio.create_task(self._watch(), name="ems-sentinel")
        triggered = False
        try:
            while True:
                started = self.clock.monotonic()
                try:
                    self.cycle()
                except Exception:
                    log.exception("EMS cycle failed; the previous limits stay in force")
                busy_s = self.clock.monotonic() - started
                self._wake.clear()
                sleep = asyncio.ensure_future(self.clock.sleep(self.ems.cycle_s))
                woken = asyncio.ensure_future(self._wake.wait())
                try:
                    done, _ = await asyncio.wait({sleep, woken},
                                                 return_when=asyncio.FIRST_COMPLETED)
                finally:
                    sleep.cancel()
                    woken.cancel()
                was_triggered, triggered = triggered, woken in done
                if triggered and was_triggered:
                    await self._pace(started, busy_s)
        finally:
            watch.cancel()

    async def _pace(self, started: float, busy_s: float) -> None:
        """Triggers that come faster than cycles (a boot storm's thousands of status
        notifications) are taken together: a trigger after a triggered cycle waits until
        ``PACE`` times that cycle's duration has passed since it started, so the EMS
        takes at most 1/PACE of the core and the OCPP traffic it reacts to is served
        meanwhile. The first trigger after a timed cycle (a load step) runs at once."""
        rest = started + PACE * busy_s - self.clock.monotonic()
        if rest > 0:
            await self.clock.sleep(rest)

    async def _watch(self) -> None:
        """Wake the loop when a meter jumps or an input changes between cycles."""
        step = min(0.2, self.ems.cycle_s / 4)
        while True:
            await self.clock.sleep(step)
            try:
                why = self.sentinel.changed()
            except Exception:  # the cycle reports what fails; the tick still runs
                log.debug("sentinel: cannot look", exc_info=True)
                continue
            if why is not None and not self._wake.is_set():
                log.debug("EMS woken: %s", why)
                self.wake()

    def _read(self, node: NodeConfig) -> Reading | None:
        source = self.meters.get(node.id)
        if source is None:
            return None
        try:
            return source.reading()
        except ReadError as exc:  # never a zero: the node counts at its fallback load
            log.warning("meter of %s: %s", node.id, exc)
            return None

    def _floor(self, node_id: str, reading: Reading | None) -> Phases3 | None:
        """The lowest signed reading of the last ``ramp_credit_s`` (None: no reading)."""
        if reading is None or reading.age_s > self.ems.meter_timeout_s:
            return None
        now = self.clock.monotonic()
        seen = self.readings.setdefault(node_id, deque())
        seen.append((now, reading.signed_a()))
        while seen and now - seen[0][0] > self.ems.ramp_credit_s:
            seen.popleft()
        return (min(r[0] for _, r in seen), min(r[1] for _, r in seen),
                min(r[2] for _, r in seen))

    def snapshot(self, states: Mapping[str, ConnectorState | None]) -> Snapshot:
        connectors = [self.observer.connector(f"{cp.id}/{n}", node.id, cp, volt,
                                              states.get(f"{cp.id}/{n}"))
                      for node, _, volt in self._nodes for cp in node.charge_points
                      for n in range(1, cp.connectors + 1)]
        oldest = self.history.oldest_readings(connectors)
        nodes = []
        for node, parent, volt in self._nodes:
            fallback = node.meter_fallback_load_a
            reading = self._read(node)
            nodes.append(Node(
                id=node.id, parent=parent, limit_a=node.limit_a, limit_va=node.limit_va,
                limit_w=node.limit_w, margin_a=node.margin_a, voltage_v=volt,
                meter=reading, has_meter=node.meter is not None,
                fallback_load_a=(fallback, fallback, fallback) if fallback is not None else None,
                non_ev_history_a=self.history.window(node.id, oldest.get(node.id)),
                meter_floor_a=self._floor(node.id, reading)))
        nodes = self.solar.without_discharge(nodes)
        inputs, device_limits = HardInputs(), tuple[ExternalLimit, ...]()
        if self.site_inputs is not None:
            inputs, device_limits = self.site_inputs.hard_inputs(), self.site_inputs.limits()
            self._inputs_seen = (inputs, device_limits)
        rights = self.session_rights() if self.session_rights is not None else {}
        if rights:
            connectors = apply_rights(connectors, rights)
        connectors = apply_priorities(connectors, self.priorities.tiers())
        device_limits += self.solar.limits(self.clock.monotonic(), nodes, connectors,
                                           {cid: r.solar for cid, r in rights.items()})
        connectors = [self.observer.rephase(c) for c in connectors]
        device_limits += self.subscription.limits(nodes)
        return Snapshot(now_s=self.clock.monotonic(), nodes=tuple(nodes),
                        connectors=tuple(connectors), inputs=inputs,
                        external_limits=self.external.in_force() + device_limits
                        + self._unverified(states, connectors), params=self.params,
                        restarting=self.applier.restarting())

    def _unverified(self, states: Mapping[str, ConnectorState | None],
                    connectors: list[Connector]) -> tuple[ExternalLimit, ...]:
        """A model not yet shown to let its limits expire gets at most its fallback; so
        does every connector while the clock is not trusted."""
        untrusted = self.clock_trusted is not None and not self.clock_trusted()
        if self.ems.unverified_models == "trust" and not untrusted:
            return ()
        out = []
        for c in connectors:
            st = states.get(c.id)
            if not untrusted and (st is None or st.failsafe_verified):
                continue
            cap = self.fallbacks.wanted.get(c.id, 0.0)
            by_w = c.control == "W" or c.dc
            out.append(ExternalLimit(target=c.id, source=CLOCK if untrusted else UNVERIFIED,
                                     limit_a=None if by_w else cap, limit_w=cap if by_w else None))
        return tuple(out)

    def cycle(self) -> Allocation:
        t0 = time.perf_counter()
        ports = self.ports()
        states = {cid: port.state() for cid, port in ports.items()}
        snap = self.snapshot(states)
        alloc = allocate(snap)
        if self.ems.self_check:
            self._self_check(snap, alloc)
        units: dict[str, Literal["A", "W"]] = {c.id: "W" if c.control == "W" or c.dc else "A"
                                               for c in snap.connectors}
        offline = {cid for cid, st in states.items() if not st.online}
        self.applier.apply(alloc, ports, units, hold=self.observer.held(),
                           offline=offline)
        if self.site_inputs is not None:
            self.site_inputs.after_cycle(snap)
        plugged = frozenset(cid for cid, st in states.items() if is_plugged(st))
        # The fallbacks ignore the caps of unverified models (the caps derive from them).
        self.fallbacks.update(dataclasses.replace(
            snap, external_limits=tuple(x for x in snap.external_limits
                                        if x.source not in NOT_FALLBACK)), plugged, ports)
        for report in alloc.nodes:
            if report.meter_status == "fresh":
                self.history.remember(report.node_id, report.non_ev_a)
        for c in snap.connectors:
            rot = alloc.by_id[c.id].session_rotation
            if c.session is not None and rot is not None:
                self.observer.rotation[c.id] = rot
        self.last = alloc
        self.sentinel.remember(Watched(
            {n.id: seen(n.meter, self.ems.meter_timeout_s) for n in snap.nodes
             if n.id in self.meters}, self._inputs_seen))
        self.cycles += 1
        self.cycle_ms = (time.perf_counter() - t0) * 1000
        self.record = cycle_record(self.clock.now(), snap, alloc, self.cycle_ms,
                                   self.fallbacks.sent, self.external.describe(),
                                   self.observer.offered)
        self.record["inputs"] = {
            "fire_alarm": snap.inputs.fire_alarm,
            "clock_trusted": self.clock_trusted is None or self.clock_trusted(),
            "device_limits": [
            {"target": x.target, "source": x.source, "limit_a": x.limit_a}
            for x in snap.external_limits if x.source.split(":")[0] in DEVICE_SOURCES]}
        self.record["solar"] = self.solar.describe(snap.now_s)
        self.record["subscription"] = dict(self.subscription.state)
        if self.clock.monotonic() - self._summary_at >= SUMMARY_EVERY_S:
            self._summary_at = self.clock.monotonic()
            log.info("%s", summary(self.record, [s.grid.id for s in self.config.sites]))
        for listener in self.listeners:
            try:
                listener(self.record)
            except Exception:  # a subscriber's bug must not stop the EMS
                log.exception("EMS record listener failed")
        return alloc
