"""A meter polled over Modbus TCP: every ``pymodbus`` call of the engine is in this module.

One poller per device: reads the template's registers in as few requests as the map
allows (blocks of at most 120 registers), each with a timeout; on a failure it closes
the link and reconnects with a growing backoff (gateways accept few clients, so the
engine keeps one connection per device). :meth:`reading` returns the last good reading
with its age, or raises :class:`ReadError`: a failed read is never a zero.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

from pymodbus.client import AsyncModbusTcpClient
from pymodbus.exceptions import ModbusException

from hub_engine.clock import Clock
from hub_engine.devices.template import Template, Value, decode
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.typed import FieldError

__all__ = ["ModbusMeter", "ModbusOptions"]

log = logging.getLogger(__name__)
_BLOCK = 120


@dataclass(frozen=True)
class ModbusOptions:
    host: str
    template: str
    port: int = 502
    device_id: int = 1
    poll_interval_s: float = 1.0
    timeout_s: float = 1.0
    ct_ratio: float = 1.0  # primary/secondary of external CTs, when the meter reads the secondary

    def __post_init__(self) -> None:
        if not 0 <= self.device_id <= 247:
            raise FieldError("device_id", "a Modbus unit id is 0..247")
        if self.poll_interval_s <= 0 or self.timeout_s <= 0 or self.ct_ratio <= 0:
            raise FieldError("poll_interval_s", "intervals, timeouts and ratios must be > 0")


def _blocks(values: list[Value]) -> list[tuple[int, int]]:
    spans = sorted((a, a + v.size) for v in values for a in v.addresses)
    blocks: list[list[int]] = []
    for start, end in spans:
        if blocks and end - blocks[-1][0] <= _BLOCK:
            blocks[-1][1] = max(blocks[-1][1], end)
        else:
            blocks.append([start, end])
    return [(s, e - s) for s, e in blocks]


class ModbusMeter:
    name = "modbus-meter"

    def __init__(self, meter_id: str, options: ModbusOptions, template: Template,
                 clock: Clock) -> None:
        self.id, self.options, self.template, self.clock = meter_id, options, template, clock
        values = [v for v in (template.current_a, template.power_w) if v is not None]
        self.blocks = _blocks(values)
        self._last: tuple[Reading, float] | None = None
        self._error = "not read yet"
        self._task: asyncio.Task[None] | None = None
        self.reads = 0
        self.failures = 0

    def reading(self) -> Reading:
        if self._last is None:
            raise ReadError(f"meter {self.id}: {self._error}")
        reading, at = self._last
        return Reading(reading.current_a, self.clock.monotonic() - at, reading.power_w)

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"meter-{self.id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _read(self, client: AsyncModbusTcpClient) -> Reading:
        regs: dict[int, int] = {}
        read = (client.read_input_registers if self.template.function == "input"
                else client.read_holding_registers)
        for start, count in self.blocks:
            resp = await asyncio.wait_for(
                read(start, count=count, device_id=self.options.device_id),
                self.options.timeout_s)
            if resp.isError():
                raise ReadError(f"exception response {resp}")
            regs.update(zip(range(start, start + count), resp.registers, strict=False))

        def phases(value: Value, ratio: float) -> tuple[float, float, float]:
            out = [decode(value, [regs[a + k] for k in range(value.size)]) * ratio
                   for a in value.addresses]
            return (out[0], out[1], out[2])

        assert self.template.current_a is not None  # checked by the template schema
        ct = self.options.ct_ratio
        power = phases(self.template.power_w, ct) if self.template.power_w else None
        return Reading(phases(self.template.current_a, ct), 0.0, power)

    async def _run(self) -> None:
        backoff = self.options.poll_interval_s
        while True:
            client = AsyncModbusTcpClient(self.options.host, port=self.options.port,
                                          timeout=self.options.timeout_s, retries=0)
            try:
                if not await client.connect():
                    raise ReadError(f"cannot connect to {self.options.host}:"
                                    f"{self.options.port}")
                while True:
                    reading = await self._read(client)
                    self._last = (reading, self.clock.monotonic())
                    self.reads += 1
                    backoff = self.options.poll_interval_s
                    await self.clock.sleep(self.options.poll_interval_s)
            except (ReadError, ModbusException, OSError, TimeoutError) as exc:
                self.failures += 1
                if self._error != str(exc):
                    log.warning("meter %s: %s (retrying)", self.id, exc)
                self._error = str(exc) or type(exc).__name__
            finally:
                client.close()
            await self.clock.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
