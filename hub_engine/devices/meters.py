"""Building the meter sources of a configuration (``meters:``) for the EMS.

Drivers: ``modbus`` (TCP, a template from :mod:`hub_engine.devices.template`), ``static``
(fixed currents: commissioning and tests), ``simulated`` (the demo site's meter read in
process, for a simulation without Modbus). Serial ``tic`` and Modbus RTU come with the
devices issue; asking for them is a configuration error, not a silent zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hub_engine.clock import Clock
from hub_engine.config import HubConfig, MeterConfig
from hub_engine.devices.modbus import ModbusMeter, ModbusOptions
from hub_engine.devices.template import load_template
from hub_engine.ems.interfaces import MeterSource
from hub_engine.ems.model import Reading
from hub_engine.errors import ConfigError
from hub_engine.typed import build

__all__ = ["StaticMeter", "build_meters"]


@dataclass(frozen=True)
class StaticOptions:
    current_a: tuple[float, float, float]
    power_w: tuple[float, float, float] | None = None


class StaticMeter:
    def __init__(self, options: StaticOptions) -> None:
        self.options = options

    def reading(self) -> Reading:
        return Reading(self.options.current_a, 0.0, self.options.power_w)


def _one(index: int, meter: MeterConfig, clock: Clock,
         simulated: Callable[[str], MeterSource] | None) -> MeterSource:
    path = f"meters[{index}].options"
    options: Any = meter.options
    if meter.driver == "modbus":
        opts: ModbusOptions = build(ModbusOptions, options, path)
        try:
            template = load_template(opts.template)
        except ConfigError as exc:
            raise ConfigError(f"{path}.template", exc.message) from None
        return ModbusMeter(meter.id, opts, template, clock)
    if meter.driver == "static":
        return StaticMeter(build(StaticOptions, options, path))
    if meter.driver == "simulated":
        if simulated is None:
            raise ConfigError(f"meters[{index}].driver",
                              "'simulated' needs a simulation: section")
        return simulated(meter.id)
    raise ConfigError(f"meters[{index}].driver",
                      f"{meter.driver!r} is not available yet (devices issue): use modbus")


def build_meters(config: HubConfig, clock: Clock,
                 simulated: Callable[[str], MeterSource] | None = None
                 ) -> tuple[dict[str, MeterSource], list[ModbusMeter]]:
    """Meter source per metered node id, and the pollers to start and stop."""
    by_id = {m.id: _one(i, m, clock, simulated) for i, m in enumerate(config.meters)}
    nodes: dict[str, MeterSource] = {}
    for site in config.sites:
        stack = [site.grid]
        while stack:
            node = stack.pop()
            if node.meter is not None:
                nodes[node.id] = by_id[node.meter]
            stack.extend(node.children)
    pollers = [m for m in by_id.values() if isinstance(m, ModbusMeter)]
    return nodes, pollers
