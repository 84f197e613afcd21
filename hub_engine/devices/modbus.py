"""Modbus links: every ``pymodbus`` call of the engine is in this module.

A :class:`ModbusLink` is one TCP connection (a device, or a gateway with several unit ids
behind it) or one serial port (an RS-485 bus, RTU framing), shared by every device on it:
gateways accept few TCP clients and a bus carries one request at a time, so the engine
owns each link and serialises its requests. A failed request closes the link and raises
:class:`ReadError`; the next request reconnects after a backoff that doubles up to 30 s.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Literal

from pymodbus.client import AsyncModbusSerialClient, AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from hub_engine.clock import Clock
from hub_engine.errors import ReadError
from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["LinkOptions", "ModbusLink", "Table"]

Table = Literal["input", "holding", "coil", "discrete"]
MAX_BACKOFF_S = 30.0
# pymodbus logs every failed connect as a warning; the links log each loss once themselves.
logging.getLogger("pymodbus").setLevel(logging.ERROR)


@dataclass(frozen=True)
class LinkOptions:
    """Where a device is: ``host`` (Modbus TCP) or ``serial`` (RTU on an RS-485 port)."""

    host: str | None = None
    port: int = 502
    serial: str | None = None
    baudrate: int = 9600
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = 1
    bytesize: int = 8

    def __post_init__(self) -> None:
        if (self.host is None) == (self.serial is None):
            raise FieldError("host", Text("give host (Modbus TCP) or serial (RTU), not both"))
        if self.baudrate not in (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200):
            raise FieldError("baudrate", Text("got {value}, expected a standard rate",
                                                 value=self.baudrate))
        if self.stopbits not in (1, 2) or self.bytesize not in (7, 8):
            raise FieldError("stopbits", Text("stopbits 1 or 2, bytesize 7 or 8"))

    @property
    def key(self) -> str:
        return f"tcp://{self.host}:{self.port}" if self.host else f"rtu://{self.serial}"

    @property
    def bits_per_char(self) -> int:
        return 1 + self.bytesize + (self.parity != "N") + self.stopbits


class ModbusLink:
    def __init__(self, options: LinkOptions, timeout_s: float, clock: Clock) -> None:
        self.options, self.timeout_s, self.clock = options, timeout_s, clock
        self._client: AsyncModbusTcpClient | AsyncModbusSerialClient | None = None
        self._lock = asyncio.Lock()
        self._retry_at = 0.0
        self._backoff = 0.5
        self.requests = 0

    def _new_client(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        o = self.options
        if o.host is not None:
            return AsyncModbusTcpClient(o.host, port=o.port, timeout=self.timeout_s,
                                        retries=0)
        assert o.serial is not None
        return AsyncModbusSerialClient(o.serial, baudrate=o.baudrate, parity=o.parity,
                                       stopbits=o.stopbits, bytesize=o.bytesize,
                                       timeout=self.timeout_s, retries=0)

    async def _connected(self) -> AsyncModbusTcpClient | AsyncModbusSerialClient:
        if self._client is not None and self._client.connected:
            return self._client
        now = self.clock.monotonic()
        if now < self._retry_at:
            raise ReadError(f"{self.options.key}: reconnecting in "
                            f"{self._retry_at - now:.1f} s")
        self.close()
        client = self._new_client()
        self._client = client
        if not await asyncio.wait_for(client.connect(), self.timeout_s + 1.0):
            self._failed()
            raise ReadError(f"cannot connect to {self.options.key}")
        return client

    def _failed(self) -> None:
        self.close()  # the link is in doubt: reconnect after the backoff
        self._retry_at = self.clock.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, MAX_BACKOFF_S)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    async def _call(self, what: str, method: str, *args: Any, **kwargs: Any) -> Any:
        async with self._lock:
            try:
                client = await self._connected()
                resp = await asyncio.wait_for(getattr(client, method)(*args, **kwargs),
                                              self.timeout_s)
            except ReadError:
                raise
            except (ModbusException, OSError, TimeoutError) as exc:
                self._failed()
                raise ReadError(f"{self.options.key}: {what}: "
                                f"{exc or type(exc).__name__}") from None
            self._backoff = 0.5
            self.requests += 1
            if resp.isError():  # the device answered: the link is fine, the request not
                raise ReadError(f"{self.options.key}: {what}: exception response {resp}")
            return resp

    async def read_registers(self, table: Table, start: int, count: int, unit: int
                             ) -> list[int]:
        method = {"input": "read_input_registers", "holding": "read_holding_registers"}[table]
        resp = await self._call(f"unit {unit} {table} {start}+{count}", method, start,
                                count=count, device_id=unit)
        regs: list[int] = list(resp.registers)
        if len(regs) < count:
            raise ReadError(f"{self.options.key}: unit {unit}: short answer")
        return regs

    async def read_bits(self, table: Table, start: int, count: int, unit: int) -> list[bool]:
        method = {"coil": "read_coils", "discrete": "read_discrete_inputs"}[table]
        resp = await self._call(f"unit {unit} {table} {start}+{count}", method, start,
                                count=count, device_id=unit)
        return [bool(b) for b in resp.bits[:count]]

    async def write_registers(self, start: int, values: list[int], unit: int) -> None:
        await self._call(f"unit {unit} write {start}", "write_registers", start, values,
                         device_id=unit)

    async def write_coil(self, address: int, on: bool, unit: int) -> None:
        await self._call(f"unit {unit} coil {address}", "write_coil", address, on,
                         device_id=unit)
