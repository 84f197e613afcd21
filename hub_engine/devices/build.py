"""Building the site's devices from the configuration (``meters``, ``devices``, ``inputs``,
``outputs``): options checked with their key paths, one link per TCP endpoint or serial
port, each RS-485 bus's poll plan checked against its bus time.

Meter drivers: ``modbus`` (TCP or RTU, a template), ``tic`` (a Linky on a serial port),
``static`` (fixed currents: commissioning and tests), ``simulated`` (the demo site's
meter read in process). Device drivers: ``modbus`` (a template, or none for an I/O
module) and ``sunspec`` (an inverter that describes itself).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import Any

from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.devices.battery import ModbusBattery
from hub_engine.devices.modbus import LinkOptions, ModbusLink, Table
from hub_engine.devices.plan import MAX_LOAD, bus_load
from hub_engine.devices.poller import DeviceOptions, ModbusDevice
from hub_engine.devices.site import SiteDevices
from hub_engine.devices.sunspec import discover
from hub_engine.devices.template import Template, load_template
from hub_engine.devices.tic_reader import TicMeter, TicOptions
from hub_engine.ems.interfaces import MeterSource
from hub_engine.ems.model import Reading
from hub_engine.errors import ConfigError
from hub_engine.i18n import Text
from hub_engine.typed import build, join_path

__all__ = ["StaticMeter", "build_devices"]

_KINDS = {"pv": "inverter", "battery": "battery", "generator": "generator"}


@dataclass(frozen=True)
class StaticOptions:
    current_a: tuple[float, float, float]
    power_w: tuple[float, float, float] | None = None


class StaticMeter:
    def __init__(self, options: StaticOptions) -> None:
        self.options = options

    def reading(self) -> Reading:
        return Reading(self.options.current_a, 0.0, self.options.power_w)


class _Builder:
    def __init__(self, config: HubConfig, clock: Clock) -> None:
        self.config, self.clock = config, clock
        self.site = SiteDevices(config, clock)
        self.links: dict[str, tuple[ModbusLink, str]] = {}  # key → (link, first path)
        self.bits: dict[str, list[tuple[Table, int]]] = {}
        for inp in config.inputs:
            self.bits.setdefault(inp.device, []).append((inp.table, inp.address))

    def _template(self, path: str, name: str | None, kind: str | None) -> Template | None:
        if name is None:
            return None
        try:
            template = load_template(name)
        except ConfigError as exc:
            raise ConfigError(join_path(path, "template"), exc.message) from None
        if kind is not None and template.kind != kind:
            raise ConfigError(join_path(path, "template"),
                              Text("{name} is a {kind} template, expected a {expected}",
                                   name=name, kind=template.kind, expected=kind))
        return template

    def _link(self, path: str, opts: DeviceOptions) -> ModbusLink:
        link_opts = LinkOptions(**{f.name: getattr(opts, f.name) for f in fields(LinkOptions)})
        known = self.links.get(link_opts.key)
        if known is None:
            link = ModbusLink(link_opts, opts.timeout_s, self.clock)
            self.links[link_opts.key] = (link, path)
            return link
        if known[0].options != link_opts:
            raise ConfigError(path, Text("{key} is set differently at {other}: devices on one bus "
                                   "share its settings", key=link_opts.key, other=known[1]))
        return known[0]

    def modbus(self, dev_id: str, path: str, options: Any, kind: str | None,
               sunspec: bool = False) -> ModbusDevice:
        opts: DeviceOptions = build(DeviceOptions, options, path)
        template = self._template(path, opts.template, kind)
        if template is None and kind is not None and not sunspec:
            raise ConfigError(join_path(path, "template"),
                              Text("a {kind} needs a template", kind=kind))
        device = ModbusDevice(dev_id, opts, template, self._link(path, opts), self.clock,
                              bits=tuple(self.bits.get(dev_id, ())),
                              on_change=self.site.on_change,
                              discover=discover if sunspec else None)
        self.site.modbus[dev_id] = device
        self.site.components.append(device)
        return device

    def check_buses(self) -> None:
        for link, path in self.links.values():
            if link.options.serial is None:
                continue
            on_bus = [d for d in self.site.modbus.values() if d.link is link]
            load = bus_load(link.options, [(d.options.poll_interval_s, d.requests())
                                           for d in on_bus])
            if load.busy_s_per_s > MAX_LOAD:
                raise ConfigError(path, load.describe())


def build_devices(config: HubConfig, clock: Clock,
                  simulated: Callable[[str], MeterSource] | None = None) -> SiteDevices:
    """Every device of the configuration, wired to its node; not started yet."""
    b = _Builder(config, clock)
    by_id: dict[str, MeterSource] = {}
    for i, meter in enumerate(config.meters):
        path = join_path(join_path("meters", i), "options")
        if meter.driver == "modbus":
            by_id[meter.id] = b.modbus(meter.id, path, meter.options, "meter")
        elif meter.driver == "tic":
            tic = TicMeter(meter.id, build(TicOptions, meter.options, path), clock,
                           b.site.on_change)
            b.site.components.append(tic)
            by_id[meter.id] = tic
        elif meter.driver == "static":
            by_id[meter.id] = StaticMeter(build(StaticOptions, meter.options, path))
        else:
            if simulated is None:
                raise ConfigError(join_path(join_path("meters", i), "driver"),
                                  Text("'simulated' needs a simulation: section"))
            by_id[meter.id] = simulated(meter.id)
    for i, dev in enumerate(config.devices):
        path = join_path(join_path("devices", i), "options")
        device = b.modbus(dev.id, path, dev.options, _KINDS.get(dev.role),
                          dev.driver == "sunspec")
        if dev.role == "battery" and dev.max_charge_w is not None and dev.node is not None:
            site_id = b.site.site_of(dev.node)
            if site_id in b.site.batteries:
                raise ConfigError(join_path(join_path("devices", i), "max_charge_w"), Text(
                    "site {site} has a battery charged by the hub already ({other})",
                    site=site_id, other=b.site.batteries[site_id].id))
            b.site.batteries[site_id] = ModbusBattery(
                device, dev.max_charge_w, dev.max_soc_pct, dev.max_discharge_w or 0.0,
                dev.min_soc_pct, dev.phases)
    b.check_buses()
    for site in config.sites:
        stack = [site.grid]
        while stack:
            node = stack.pop()
            if node.meter is not None:
                source = by_id[node.meter]
                b.site.meters[node.id] = source
                if isinstance(source, TicMeter):
                    b.site.tic[node.meter] = (node.id, source)
            stack.extend(node.children)
    return b.site
