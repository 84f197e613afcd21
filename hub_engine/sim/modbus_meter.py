"""A simulated site meter served over Modbus TCP, with the Eastron SDM630 register map.

Input registers (FC4; FC3 reads the same), 0-based addresses, float32 big-endian (high
word first), as in reference/FORMATS.md §4: voltage L1–L3 at 0x0000/02/04 (V), current at
0x0006/08/0A (A), active power at 0x000C/0E/10 (W, import positive), total power at
0x0034 (W), import energy at 0x0048 (kWh), export energy at 0x004A (kWh). Each read is
answered from the reading function at that moment, so a poller sees the site live.

The pymodbus calls of the simulator live here only.
"""

from __future__ import annotations

import asyncio
import contextlib
import struct
from collections.abc import Callable
from dataclasses import dataclass

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

__all__ = ["SDM630", "MeterReading", "ModbusMeterServer"]

@dataclass(frozen=True)
class _Map:
    voltage: tuple[int, int, int] = (0x00, 0x02, 0x04)
    current: tuple[int, int, int] = (0x06, 0x08, 0x0A)
    power: tuple[int, int, int] = (0x0C, 0x0E, 0x10)
    power_total: int = 0x34
    import_kwh: int = 0x48
    export_kwh: int = 0x4A


SDM630 = _Map()
_SIZE = 0x50


@dataclass(frozen=True)
class MeterReading:
    voltage_v: tuple[float, float, float]
    current_a: tuple[float, float, float]  # unsigned, as meters give them
    power_w: tuple[float, float, float]  # signed: export is negative
    import_wh: float
    export_wh: float


def encode(reading: MeterReading) -> list[int]:
    regs = [0] * _SIZE

    def put(address: int, value: float) -> None:
        regs[address], regs[address + 1] = struct.unpack(">HH", struct.pack(">f", value))

    for p in range(3):
        put(SDM630.voltage[p], reading.voltage_v[p])
        put(SDM630.current[p], abs(reading.current_a[p]))
        put(SDM630.power[p], reading.power_w[p])
    put(SDM630.power_total, sum(reading.power_w))
    put(SDM630.import_kwh, reading.import_wh / 1000)
    put(SDM630.export_kwh, reading.export_wh / 1000)
    return regs


class ModbusMeterServer:
    def __init__(self, read: Callable[[], MeterReading], host: str = "127.0.0.1",
                 port: int = 5020, device_id: int = 1) -> None:
        self.read = read
        self.host, self.port, self.device_id = host, port, device_id
        self._server: ModbusTcpServer | None = None
        self._task: asyncio.Task[None] | None = None

    async def _fill(self, function_code: int, start_address: int, address: int, count: int,
                    current_registers: list[int], set_values: object) -> None:
        regs = encode(self.read())
        current_registers[: len(regs)] = regs

    async def start(self) -> None:
        device = SimDevice(id=self.device_id, simdata=[SimData(0, count=_SIZE, values=0,
                                                               datatype=DataType.REGISTERS)],
                           action=self._fill)
        self._server = ModbusTcpServer(device, address=(self.host, self.port))
        self._task = asyncio.create_task(self._server.serve_forever())
        await asyncio.sleep(0)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
