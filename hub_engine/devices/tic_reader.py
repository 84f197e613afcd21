"""Reads a Linky's TIC from a serial port (a USB TIC adapter) and serves it to the EMS.

The last good frame is kept with its time; after ``stale_after_s`` without one the meter
is stale (:meth:`TicMeter.reading` raises, the loss is reported once). Currents come
unsigned and the TIC gives no per-phase sign, so they count as import: the conservative
reading for a site that may export. The subscription gives the node a limit (the cut-off
power per phase) when ``limit_from_subscription`` is set.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

import serial

from hub_engine.clock import Clock
from hub_engine.devices.health import ChangeHook, Watched
from hub_engine.devices.tic import Mode, TicFrame, TicParser
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["TicMeter", "TicOptions"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TicOptions:
    serial: str
    mode: Mode = "historic"
    baudrate: int | None = None  # 1200 historic, 9600 standard
    stale_after_s: float = 10.0
    voltage_v: float = 230.0  # turns the cut-off power into a current per phase
    limit_from_subscription: bool = True

    def __post_init__(self) -> None:
        if self.stale_after_s <= 0 or self.voltage_v <= 0:
            raise FieldError("stale_after_s", Text("must be > 0"))

    @property
    def baud(self) -> int:
        return self.baudrate or (1200 if self.mode == "historic" else 9600)


def _read_available(port: serial.Serial) -> bytes:
    """What has arrived, as soon as anything has (or nothing after the port's timeout)."""
    first: bytes = port.read(1)
    return first + port.read(port.in_waiting) if first else first


class TicMeter(Watched):
    name = "tic-meter"

    def __init__(self, meter_id: str, options: TicOptions, clock: Clock,
                 on_change: ChangeHook | None = None) -> None:
        super().__init__(on_change)
        self.id, self.options, self.clock = meter_id, options, clock
        self.parser = TicParser(options.mode)
        self.frame: TicFrame | None = None
        self._at: float | None = None
        self.error = "no frame yet"

    def fresh(self) -> bool:
        return self._at is not None and (
            self.clock.monotonic() - self._at <= self.options.stale_after_s)

    def last(self) -> TicFrame:
        if self.frame is None or not self.fresh():
            raise ReadError(f"meter {self.id}: {self.error}")
        return self.frame

    def reading(self) -> Reading:
        current = self.last().current_a()
        if current is None:
            raise ReadError(f"meter {self.id}: the frames carry no phase currents")
        assert self._at is not None
        return Reading(current, self.clock.monotonic() - self._at, None)

    def limit_a(self) -> float | None:
        """The subscription's cut-off as amperes per phase, or None (unknown, or off)."""
        if not self.options.limit_from_subscription:
            return None
        frame = self.last()
        cutoff = frame.cutoff_va()
        if cutoff is None:
            return None
        return cutoff / frame.phases / self.options.voltage_v

    def describe(self) -> dict[str, Any]:
        frame = self.frame
        if frame is None:
            return {"online": False, "error": self.error}
        return {"online": self.fresh(), "mode": frame.mode, "phases": frame.phases,
                "current_a": frame.current_a(), "apparent_va": frame.apparent_va(),
                "subscribed_va": frame.subscribed_va(), "cutoff_va": frame.cutoff_va(),
                "period": frame.period(), "off_peak": frame.off_peak(),
                "tempo_today": frame.tempo_today(), "tempo_tomorrow": frame.tempo_tomorrow(),
                "bad_frames": self.parser.bad_frames}

    def feed(self, data: bytes) -> None:
        bad = self.parser.bad_frames
        for frame in self.parser.feed(data):
            self.frame, self._at = frame, self.clock.monotonic()
            if frame.overcurrent():
                log.warning("meter %s: the Linky signals an overload", self.id)
        if self.parser.bad_frames > bad:
            self.error = f"{self.parser.bad_frames} frames dropped (bad checksum or cut)"
        self._set_online(self.fresh(), self.error if not self.fresh() else "")

    async def _run(self) -> None:
        backoff = 1.0
        while True:
            port: serial.Serial | None = None
            try:
                port = serial.Serial(self.options.serial, self.options.baud,
                                     bytesize=serial.SEVENBITS, parity=serial.PARITY_EVEN,
                                     stopbits=serial.STOPBITS_ONE, timeout=0.5)
                backoff = 1.0
                while True:
                    data = await asyncio.to_thread(_read_available, port)
                    self.feed(data)
                    if not data:
                        self.error = "no data on the line"
            except (OSError, serial.SerialException) as exc:
                self.error = f"{self.options.serial}: {exc}"
                self._set_online(self.fresh(), self.error)
            finally:
                if port is not None:
                    port.close()
            await self.clock.sleep(backoff)
            backoff = min(backoff * 2, 30.0)
