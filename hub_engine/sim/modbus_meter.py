"""A simulated site meter served over Modbus TCP with a shipped template's map (the
Eastron SDM630 by default: reference/FORMATS.md §4), answered from the reading function
at each request so that a poller sees the site live."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hub_engine.devices.template import load_template
from hub_engine.sim.modbus_server import RegisterServer, Tables, template_tables

__all__ = ["MeterReading", "ModbusMeterServer"]


@dataclass(frozen=True)
class MeterReading:
    voltage_v: tuple[float, float, float]
    current_a: tuple[float, float, float]  # unsigned, as meters give them
    power_w: tuple[float, float, float]  # signed: export is negative
    import_wh: float
    export_wh: float


class ModbusMeterServer(RegisterServer):
    def __init__(self, read: Callable[[], MeterReading], host: str = "127.0.0.1",
                 port: int = 5020, device_id: int = 1, template: str = "sdm630") -> None:
        self.read, self.template = read, load_template(template)
        super().__init__(self._tables, units=(device_id,), host=host, port=port)

    def _tables(self, unit: int) -> Tables:
        r = self.read()
        return template_tables(self.template, {
            "voltage_v": r.voltage_v, "current_a": tuple(abs(a) for a in r.current_a),
            "power_w": r.power_w, "energy_import_wh": (r.import_wh,),
            "energy_export_wh": (r.export_wh,)})
