"""The site's devices as EMS inputs: meters per node, dry contacts, limits, contactors.

Every input has a **safe state**, the one a broken wire, a lost I/O module or a stale
reading gives: load shedding active, on generator, fire alarm active, off-peak not
active. With the default normally-closed polarity a cut wire reads "open", which is the
active state; a normally-open contact cannot tell a cut wire, so the module's loss is
the only failure the hub can see there (docs/devices.md says so). Contactor outputs
open on a fire alarm and when their node may draw nothing; they are rewritten every
``OUTPUT_REFRESH_S`` so a module's fieldbus watchdog can open them if the hub stops.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from hub_engine.clock import Clock
from hub_engine.config import HubConfig, InputConfig, NodeConfig, OutputConfig
from hub_engine.devices.poller import ModbusDevice
from hub_engine.devices.tic_reader import TicMeter
from hub_engine.ems.interfaces import BatteryPort, MeterSource
from hub_engine.ems.model import ExternalLimit, HardInputs, Snapshot
from hub_engine.errors import ReadError
from hub_engine.tasks import cancel_and_wait

__all__ = ["SAFE_STATE", "Component", "SiteDevices"]

log = logging.getLogger(__name__)
SAFE_STATE = {"load_shedding": True, "generator": True, "fire_alarm": True, "off_peak": False}
OUTPUT_REFRESH_S = 10.0
Alert = Callable[[str, str, dict[str, object]], None]


class Component(Protocol):
    name: str

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass
class SiteDevices:
    config: HubConfig
    clock: Clock
    name: str = "devices"
    meters: dict[str, MeterSource] = field(default_factory=dict)  # by node id
    modbus: dict[str, ModbusDevice] = field(default_factory=dict)  # by device id
    tic: dict[str, tuple[str, TicMeter]] = field(default_factory=dict)  # id → (node, meter)
    batteries: dict[str, BatteryPort] = field(default_factory=dict)  # site id → its battery
    components: list[Component] = field(default_factory=list)
    alerts: list[tuple[str, str, dict[str, object]]] = field(default_factory=list)
    alert: Alert | None = None
    _written: dict[str, tuple[bool, float]] = field(default_factory=dict)
    _writing: asyncio.Task[None] | None = None

    def __post_init__(self) -> None:
        self.parents: dict[str, str | None] = {}
        for site in self.config.sites:
            self._walk(site.grid, None)

    def _walk(self, node: NodeConfig, parent: str | None) -> None:
        self.parents[node.id] = parent
        for child in node.children:
            self._walk(child, node.id)

    def on_change(self, device_id: str, online: bool, reason: str) -> None:
        """A device was lost or came back: one alert each way."""
        kind = "device.back" if online else "device.lost"
        data: dict[str, object] = {"reason": reason}
        self.alerts.append((kind, device_id, data))
        del self.alerts[:-100]
        if self.alert is not None:
            self.alert(kind, device_id, data)

    def input_state(self, inp: InputConfig) -> tuple[bool, bool]:
        """(active, known): a contact not read counts at its function's safe state."""
        try:
            closed = self.modbus[inp.device].bit(inp.table, inp.address)
        except ReadError:
            return SAFE_STATE[inp.function], False
        return (not closed) if inp.polarity == "nc" else closed, True

    def hard_inputs(self) -> HardInputs:
        fire = any(self.input_state(i)[0] for i in self.config.inputs
                   if i.function == "fire_alarm")
        return HardInputs(fire_alarm=fire)

    def limits(self) -> tuple[ExternalLimit, ...]:
        """Limits the devices put on nodes: shedding and generator contacts, running
        generators, the Linky's cut-off power."""
        out = []
        for inp in self.config.inputs:
            if inp.node is not None and inp.limit_a is not None and self.input_state(inp)[0]:
                out.append(ExternalLimit(target=inp.node, source=f"input:{inp.id}",
                                         limit_a=inp.limit_a))
        for dev in self.config.devices:
            if dev.role == "generator" and dev.node is not None and self._running(dev.id):
                out.append(ExternalLimit(target=dev.node, source=f"generator:{dev.id}",
                                         limit_a=dev.limit_a))
        for tic_id, (node, meter) in self.tic.items():
            try:
                limit = meter.limit_a()
            except ReadError:
                continue  # a stale Linky: the node's meter fallback and its rating apply
            if limit is not None:
                out.append(ExternalLimit(target=node, source=f"linky:{tic_id}",
                                         limit_a=limit))
        return tuple(out)

    def _running(self, device_id: str) -> bool:
        try:
            return self.modbus[device_id].value("running")[0] != 0
        except ReadError:
            return True  # unknown: assume the smaller source

    def contactor_closed(self, out: OutputConfig, limits: tuple[ExternalLimit, ...],
                         fire: bool) -> bool:
        if fire:
            return False
        zero = {lim.target for lim in limits
                if (lim.limit_a is not None and lim.limit_a <= 0)
                or (lim.limit_w is not None and lim.limit_w <= 0)}
        node: str | None = out.node
        while node is not None:
            if node in zero:
                return False
            node = self.parents.get(node)
        return True

    def after_cycle(self, snapshot: Snapshot) -> None:
        """Drive the contactors from this cycle's inputs and limits (one write at a time)."""
        if not self.config.outputs or (self._writing is not None
                                       and not self._writing.done()):
            return
        self._writing = asyncio.create_task(self.write_outputs(
            snapshot.external_limits, snapshot.inputs.fire_alarm), name="contactors")

    async def write_outputs(self, limits: tuple[ExternalLimit, ...], fire: bool) -> None:
        """Drive each contactor coil; written on a change and refreshed periodically."""
        now = self.clock.monotonic()
        for out in self.config.outputs:
            closed = self.contactor_closed(out, limits, fire)
            last = self._written.get(out.id)
            if last is not None and last[0] == closed and now - last[1] < OUTPUT_REFRESH_S:
                continue
            try:
                await self.modbus[out.device].write_coil(out.coil, closed)
                self._written[out.id] = (closed, now)
                if last is None or last[0] != closed:
                    log.info("contactor %s %s", out.id, "closed" if closed else "opened")
            except ReadError as exc:
                log.warning("contactor %s: %s", out.id, exc)

    def site_of(self, node_id: str) -> str:
        """The id of the site whose tree holds ``node_id``."""
        root: str | None = node_id
        while root is not None and self.parents.get(root) is not None:
            root = self.parents[root]
        return next(s.id for s in self.config.sites if s.grid.id == root)

    def pv_power_w(self, site_id: str) -> float | None:
        """The AC power of the site's inverters now; None without inverters, or when one
        of them is not read (a silent inverter is not a dark one)."""
        mine = [dev.id for dev in self.config.devices  # a pv device always has its node
                if dev.role == "pv" and dev.node is not None and self.site_of(dev.node) == site_id]
        if not mine:
            return None
        total = 0.0
        for dev_id in mine:
            device = self.modbus.get(dev_id)
            if device is None:
                return None
            try:
                total += sum(device.value("power_w"))
            except ReadError:
                return None
        return round(total, 1)

    def describe(self) -> dict[str, Any]:
        """Every device's state, value and age (the API and the CLI show this)."""
        devices: dict[str, Any] = {}
        for dev_id, dev in self.modbus.items():
            devices[dev_id] = {"online": dev.fresh(), "age_s": dev.age_s(),
                               "values": dev.values if dev.fresh() else {},
                               "error": dev.error or None}
        for tic_id, (_, meter) in self.tic.items():
            devices[tic_id] = meter.describe()
        inputs = {}
        for inp in self.config.inputs:
            active, known = self.input_state(inp)
            inputs[inp.id] = {"function": inp.function, "active": active, "known": known}
        return {"devices": devices, "inputs": inputs}

    async def start(self) -> None:
        for component in self.components:
            await component.start()

    async def stop(self) -> None:
        await cancel_and_wait(self._writing)
        for component in reversed(self.components):
            await component.stop()
