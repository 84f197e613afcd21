"""A simulated stationary battery served over Modbus TCP with the ``generic_battery``
template: it follows the setpoint the hub writes (at a ramp rate, stopping when full)
and its power weighs on the site like any load (``SiteSim.battery``)."""

from __future__ import annotations

from dataclasses import dataclass

from hub_engine.devices.template import decode, load_template
from hub_engine.sim.modbus_server import RegisterServer, Tables, template_tables

__all__ = ["BatteryServer", "SimBattery"]


@dataclass
class SimBattery:
    capacity_wh: float = 20_000.0
    soc_pct: float = 50.0
    max_w: float = 10_000.0
    ramp_w_per_s: float = 5_000.0
    setpoint_w: float = 0.0  # + charge, − discharge, as last written
    power_w: float = 0.0

    def step(self, dt_s: float) -> None:
        target = max(-self.max_w, min(self.max_w, self.setpoint_w))
        if (self.soc_pct >= 100.0 and target > 0) or (self.soc_pct <= 0.0 and target < 0):
            target = 0.0
        change = max(-self.ramp_w_per_s * dt_s, min(self.ramp_w_per_s * dt_s,
                                                     target - self.power_w))
        self.power_w += change
        self.soc_pct = min(100.0, max(0.0, self.soc_pct + 100 * self.power_w * dt_s / 3600
                                      / self.capacity_wh))


class BatteryServer(RegisterServer):
    def __init__(self, battery: SimBattery, host: str = "127.0.0.1", port: int = 5021,
                 device_id: int = 1) -> None:
        self.battery, self.template = battery, load_template("generic_battery")
        super().__init__(self._tables, units=(device_id,), host=host, port=port,
                         span={"holding": {0: 0, 15: 0}})

    def _tables(self, unit: int) -> Tables:
        b = self.battery
        return template_tables(self.template, {"soc_pct": (b.soc_pct,),
                                               "power_w": (b.power_w,),
                                               "setpoint_w": (b.setpoint_w,)})

    async def _fill(self, unit: int, function_code: int, start_address: int, address: int,
                    count: int, current: list[int], set_values: list[int] | list[bool] | None
                    ) -> None:
        await super()._fill(unit, function_code, start_address, address, count, current,
                            set_values)
        value = self.template.setpoint_w
        if set_values is not None and value is not None and address == value.addresses[0]:
            self.battery.setpoint_w = decode(value, [int(v) for v in set_values],
                                             "setpoint_w")
