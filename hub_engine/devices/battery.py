"""A stationary battery over Modbus as the solar control sees it
(:class:`~hub_engine.ems.interfaces.BatteryPort`): its power and state of charge from
its template (``power_w``: + charging; ``soc_pct``), its setpoint written to the
template's ``setpoint_w`` register."""

from __future__ import annotations

from hub_engine.devices.poller import ModbusDevice
from hub_engine.ems.interfaces import BatteryReading
from hub_engine.errors import ReadError

__all__ = ["ModbusBattery"]


class ModbusBattery:
    def __init__(self, device: ModbusDevice, max_charge_w: float, max_soc_pct: float) -> None:
        self.device, self.id = device, device.id
        self.max_charge_w, self.max_soc_pct = max_charge_w, max_soc_pct

    def reading(self) -> BatteryReading:
        power, soc = self.device.value("power_w"), self.device.value("soc_pct")
        return BatteryReading(sum(power), soc[0], self.device.age_s() or 0.0)

    async def set_power(self, power_w: float) -> None:
        if power_w < 0 or power_w > self.max_charge_w:  # a bug upstream, never sent
            raise ReadError(f"battery {self.id}: setpoint {power_w:.0f} W out of "
                            f"0..{self.max_charge_w:.0f} W")
        await self.device.write_setpoint(round(power_w))
