"""A device polled over a :class:`~hub_engine.devices.modbus.ModbusLink`.

Each device reads its template's registers in as few requests as the map allows (blocks
of at most 120 registers per register table, scale-factor registers included) and the
coils or discrete inputs its inputs use, every ``poll_interval_s``. The values keep the
time of the last good poll: after ``stale_after_s`` (two missed polls and a timeout by
default) the device is **stale**: :meth:`reading` raises, the loss is reported once to
``on_change``, and the device is read again as soon as it answers. A failed read is
never a zero.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hub_engine.clock import Clock
from hub_engine.devices.health import ChangeHook, Watched
from hub_engine.devices.modbus import LinkOptions, ModbusLink, Table
from hub_engine.devices.template import Template, Value, decode, encode
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["DeviceOptions", "ModbusDevice", "blocks"]

log = logging.getLogger(__name__)
_BLOCK = 120
Discover = Callable[[ModbusLink, int], Awaitable[Template]]  # self-describing devices


@dataclass(frozen=True)
class DeviceOptions(LinkOptions):
    """A Modbus device: its link, unit id, template (none for a pure I/O module) and pace."""

    template: str | None = None
    device_id: int = 1
    poll_interval_s: float = 1.0
    timeout_s: float = 1.0
    stale_after_s: float | None = None  # default: 2 × poll_interval_s + timeout_s
    ct_ratio: float = 1.0  # primary/secondary of external CTs, when the meter reads the secondary

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0 <= self.device_id <= 247:
            raise FieldError("device_id", Text("a Modbus unit id is 0..247"))
        for name in ("poll_interval_s", "timeout_s", "ct_ratio"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))
        if self.stale_after_s is not None and self.stale_after_s <= self.poll_interval_s:
            raise FieldError("stale_after_s", Text("must be longer than poll_interval_s"))

    @property
    def stale_s(self) -> float:
        return self.stale_after_s or 2 * self.poll_interval_s + self.timeout_s


def blocks(spans: list[tuple[int, int]], block: int = _BLOCK) -> list[tuple[int, int]]:
    """(start, count) requests covering the (start, end) spans, each ≤ ``block`` long."""
    out: list[list[int]] = []
    for start, end in sorted(spans):
        if out and end - out[-1][0] <= block:
            out[-1][1] = max(out[-1][1], end)
        else:
            out.append([start, end])
    return [(s, e - s) for s, e in out]


@dataclass
class _Plan:
    registers: dict[Table, list[tuple[int, int]]] = field(default_factory=dict)
    bits: dict[Table, list[tuple[int, int]]] = field(default_factory=dict)


class ModbusDevice(Watched):
    name = "modbus-device"

    def __init__(self, device_id: str, options: DeviceOptions, template: Template | None,
                 link: ModbusLink, clock: Clock, bits: tuple[tuple[Table, int], ...] = (),
                 on_change: ChangeHook | None = None, discover: Discover | None = None
                 ) -> None:
        super().__init__(on_change)
        self.id, self.options, self.template = device_id, options, template
        self.link, self.clock = link, clock
        self.wanted_bits, self.discover = bits, discover
        self.plan = self._plan()
        self.values: dict[str, tuple[float, ...]] = {}
        self.bits: dict[tuple[Table, int], bool] = {}
        self._at: float | None = None
        self.missing: dict[str, str] = {}  # quantities the device says are not available
        self.error = "not read yet"
        self.reads = 0
        self.failures = 0

    def _plan(self) -> _Plan:
        plan = _Plan()
        spans: dict[Table, list[tuple[int, int]]] = {}
        if self.template is not None:
            for value in self.template.values().values():
                table: Table = self.template.function_of(value)
                spans.setdefault(table, []).extend((a, a + value.size)
                                                   for a in value.addresses)
                if value.scale_factor is not None:
                    spans[table].append((value.scale_factor, value.scale_factor + 1))
        plan.registers = {t: blocks(s) for t, s in spans.items()}
        bit_spans: dict[Table, list[tuple[int, int]]] = {}
        for table, address in self.wanted_bits:
            bit_spans.setdefault(table, []).append((address, address + 1))
        plan.bits = {t: blocks(s, 1000) for t, s in bit_spans.items()}
        return plan

    def requests(self) -> list[tuple[Table, int]]:
        """(table, count) of each request of one poll: the poll plan's cost."""
        return [(t, n) for t, bs in (*self.plan.registers.items(), *self.plan.bits.items())
                for _, n in bs]

    def age_s(self) -> float | None:
        return None if self._at is None else self.clock.monotonic() - self._at

    def fresh(self) -> bool:
        age = self.age_s()
        return age is not None and age <= self.options.stale_s

    def value(self, name: str) -> tuple[float, ...]:
        if not self.fresh():
            raise ReadError(f"device {self.id}: {self._why()}")
        if name in self.missing:
            raise ReadError(f"device {self.id}: {self.missing[name]}")
        if name not in self.values:
            raise ReadError(f"device {self.id}: its template has no {name}")
        return self.values[name]

    def bit(self, table: Table, address: int) -> bool:
        if not self.fresh():
            raise ReadError(f"device {self.id}: {self._why()}")
        return self.bits[(table, address)]

    def _why(self) -> str:
        age = self.age_s()
        return self.error if age is None else f"stale ({age:.1f} s): {self.error}"

    def reading(self) -> Reading:
        """The meter view (:class:`~hub_engine.ems.interfaces.MeterSource`)."""
        current = self.value("current_a")
        power = self.values.get("power_w")
        age = self.age_s() or 0.0
        per_phase = power if power is not None and len(power) == 3 else None
        return Reading((current[0], current[1], current[2]), age,
                       (per_phase[0], per_phase[1], per_phase[2]) if per_phase else None)

    async def poll(self) -> None:
        """One poll; raises :class:`ReadError` (the values keep their last good time)."""
        unit = self.options.device_id
        if self.template is None and self.discover is not None:
            self.template = await self.discover(self.link, unit)
            self.plan = self._plan()
            log.info("device %s: %s", self.id, self.template.name)
        regs: dict[Table, dict[int, int]] = {}
        for table, bs in self.plan.registers.items():
            got = regs.setdefault(table, {})
            for start, count in bs:
                words = await self.link.read_registers(table, start, count, unit)
                got.update(zip(range(start, start + count), words, strict=False))
        bits: dict[tuple[Table, int], bool] = {}
        for table, bs in self.plan.bits.items():
            for start, count in bs:
                flags = await self.link.read_bits(table, start, count, unit)
                bits.update({(table, start + k): f for k, f in enumerate(flags)})
        values = self._decode(regs) if self.template is not None else {}
        self.values, self.bits, self._at = values, bits, self.clock.monotonic()
        self.reads += 1

    def _decode(self, regs: dict[Table, dict[int, int]]) -> dict[str, tuple[float, ...]]:
        assert self.template is not None
        out: dict[str, tuple[float, ...]] = {}
        self.missing = {}
        for name, value in self.template.values().items():
            try:
                out[name] = self._one(name, value, regs)
            except ReadError as exc:  # that value is unknown, not zero; the others stand
                self.missing[name] = str(exc)
        return out

    def _one(self, name: str, value: Value, regs: dict[Table, dict[int, int]]
             ) -> tuple[float, ...]:
        assert self.template is not None
        got = regs[self.template.function_of(value)]
        power10 = 0
        if value.scale_factor is not None:
            sf = got[value.scale_factor]
            power10 = sf - 0x10000 if sf >= 0x8000 else sf
            if power10 == -0x8000:
                raise ReadError(f"{name}: scale factor not available")
        ratio = self.options.ct_ratio if name in ("current_a", "power_w") else 1.0
        return tuple(decode(value, [got[a + k] for k in range(value.size)], name,
                            power10) * ratio for a in value.addresses)

    async def write_setpoint(self, power_w: float) -> None:
        """A battery's power setpoint (+ charge, − discharge), if its template has one."""
        value = self.template.setpoint_w if self.template is not None else None
        if value is None:
            raise ReadError(f"device {self.id}: its template takes no setpoint")
        await self.link.write_registers(value.addresses[0], encode(value, power_w,
                                                                   "setpoint_w"),
                                        self.options.device_id)

    async def write_coil(self, address: int, on: bool) -> None:
        await self.link.write_coil(address, on, self.options.device_id)

    async def _run(self) -> None:
        while True:
            try:
                await self.poll()
                self.error = ""
                self._set_online(True, "")
            except ReadError as exc:
                self.failures += 1
                self.error = str(exc)
                if not self.fresh():
                    self._set_online(False, self.error)
            await self.clock.sleep(self.options.poll_interval_s)
