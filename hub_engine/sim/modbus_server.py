"""A Modbus server for the simulator and the tests: register tables or any template.

:class:`RegisterServer` answers from four tables (coils, discrete inputs, holding and
input registers) read through a function at each request, so a test or the demo can
change them live; on TCP or on a serial port (RTU, e.g. one end of a ``socat`` pty pair),
with several unit ids on one server as a gateway or a bus would have. :func:`template_tables`
turns quantities into the registers a device following a template would send.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from functools import partial

from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from hub_engine.devices.template import Template, encode

__all__ = ["RegisterServer", "Tables", "template_tables"]

# table name → {0-based address: register value (0..65535) or bit (0/1)}
Tables = Mapping[str, Mapping[int, int]]
_ORDER = ("coil", "discrete", "holding", "input")
_FC = {1: "coil", 5: "coil", 15: "coil", 2: "discrete", 3: "holding", 6: "holding",
       16: "holding", 23: "holding", 4: "input"}


def template_tables(template: Template, values: Mapping[str, tuple[float, ...]]) -> Tables:
    """The registers of a device following ``template`` that reads ``values`` (zero for
    the quantities not given, so that every register of the map exists)."""
    tables: dict[str, dict[int, int]] = {}
    for name, value in template.values().items():
        table = tables.setdefault(template.function_of(value), {})
        given = values.get(name, (0.0,) * len(value.addresses))
        for address, x in zip(value.addresses, given, strict=True):
            for k, word in enumerate(encode(value, x, name)):
                table[address + k] = word
    return tables


class RegisterServer:
    def __init__(self, tables: Callable[[int], Tables], units: tuple[int, ...] = (1,),
                 host: str = "127.0.0.1", port: int = 0, serial: str | None = None,
                 baudrate: int = 9600, span: Tables | None = None) -> None:
        """``tables(unit)`` is called at each request; ``span`` gives the addresses that
        exist (default: those ``tables`` returns at start)."""
        self.tables, self.units = tables, units
        self.host, self.port, self.serial, self.baudrate = host, port, serial, baudrate
        self.span = span
        self.writes: list[tuple[int, str, int, list[int] | list[bool]]] = []
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._task: asyncio.Task[None] | None = None

    def _blocks(self, unit: int) -> tuple[list[SimData], list[SimData], list[SimData],
                                          list[SimData]]:
        span = self.span or self.tables(unit)
        out: list[list[SimData]] = []
        for name in _ORDER:
            addresses = list(span.get(name, {})) or [0]
            bits = name in ("coil", "discrete")
            lo, hi = min(addresses) // (16 if bits else 1), max(addresses) // (16 if bits else 1)
            kind = DataType.BITS if bits else DataType.REGISTERS
            out.append([SimData(lo, count=hi - lo + 1, values=0, datatype=kind)])
        return out[0], out[1], out[2], out[3]

    async def _fill(self, unit: int, function_code: int, start_address: int, address: int,
                    count: int, current: list[int], set_values: list[int] | list[bool] | None
                    ) -> None:
        table = _FC.get(function_code, "holding")
        if set_values is not None:
            self.writes.append((unit, table, address, list(set_values)))
            return
        values = self.tables(unit).get(table, {})
        if table in ("coil", "discrete"):  # 16 bits per register, lowest address = bit 0
            packed: dict[int, int] = {}
            for a, v in values.items():
                packed[a // 16] = packed.get(a // 16, 0) | (int(bool(v)) << (a % 16))
            values = {r: packed.get(r, 0) for r in range(min(values, default=0) // 16,
                                                         max(values, default=0) // 16 + 1)}
        for a, v in values.items():
            if 0 <= a - start_address < len(current):
                current[a - start_address] = v

    async def start(self) -> None:
        devices = [SimDevice(id=u, simdata=self._blocks(u), action=partial(self._fill, u))
                   for u in self.units]
        if self.serial is None:
            self._server = ModbusTcpServer(devices, address=(self.host, self.port))
        else:
            self._server = ModbusSerialServer(devices, port=self.serial,
                                              baudrate=self.baudrate)
        self._task = asyncio.create_task(self._server.serve_forever())
        await asyncio.sleep(0.1)

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.shutdown()  # type: ignore[no-untyped-call]
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
