"""A stationary battery over Modbus as the solar control sees it
(:class:`~hub_engine.ems.interfaces.BatteryPort`): its power and state of charge from
its template (``power_w``: + charging; ``soc_pct``), its setpoint written to the
template's ``setpoint_w`` register (+ charge, − discharge)."""

from __future__ import annotations

from hub_engine.devices.poller import ModbusDevice
from hub_engine.ems.interfaces import BatteryReading
from hub_engine.errors import ReadError

__all__ = ["ModbusBattery"]


class ModbusBattery:
    def __init__(self, device: ModbusDevice, max_charge_w: float, max_soc_pct: float,
                 max_discharge_w: float = 0.0, min_soc_pct: float = 20.0,
                 phases: int = 3) -> None:
        self.device, self.id = device, device.id
        self.max_charge_w, self.max_soc_pct = max_charge_w, max_soc_pct
        self.max_discharge_w, self.min_soc_pct = max_discharge_w, min_soc_pct
        self.phases = phases

    def reading(self) -> BatteryReading:
        power, soc = self.device.value("power_w"), self.device.value("soc_pct")
        return BatteryReading(sum(power), soc[0], self.device.age_s() or 0.0)

    async def set_power(self, power_w: float) -> None:
        if power_w < -self.max_discharge_w or power_w > self.max_charge_w:  # a bug upstream
            raise ReadError(f"battery {self.id}: setpoint {power_w:.0f} W out of "
                            f"{-self.max_discharge_w:.0f}..{self.max_charge_w:.0f} W")
        await self.device.write_setpoint(round(power_w))
