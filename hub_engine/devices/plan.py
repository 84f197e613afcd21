"""The poll plan of an RS-485 bus, checked against the time the bus really has.

A Modbus RTU bus carries one request at a time. Each request costs its frame, the
answer's frame (5 bytes + 2 per register, or 1 per 8 bits), the 3.5-character silences
around both, and the device's turnaround (``TURNAROUND_S``, a typical figure; slow
meters take more). A plan whose requests need more than ``MAX_LOAD`` of the bus's
seconds cannot keep its poll intervals: the hub refuses it at start, with the figures,
rather than letting every reading age silently.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_engine.devices.modbus import LinkOptions, Table
from hub_engine.i18n import Text

__all__ = ["MAX_LOAD", "BusLoad", "bus_load", "request_s"]

TURNAROUND_S = 0.010
MAX_LOAD = 0.8


def request_s(link: LinkOptions, table: Table, count: int) -> float:
    """Bus time of one read request of ``count`` registers (or bits) and its answer."""
    char_s = link.bits_per_char / link.baudrate
    data = 2 * count if table in ("input", "holding") else (count + 7) // 8
    frames = 8 + 5 + data  # request: id, fc, address, count, crc; answer: id, fc, n, data, crc
    silence = 2 * 3.5 * char_s if link.baudrate <= 19200 else 2 * 0.00175
    return frames * char_s + silence + TURNAROUND_S


@dataclass(frozen=True)
class BusLoad:
    bus: str
    devices: int
    busy_s_per_s: float  # seconds of bus time each second of polling needs

    def describe(self) -> str:
        return Text("RS-485 bus {bus}: {devices} devices need {busy:.2f} s of bus time per "
                    "second (at most {most:.1f}); poll them less often (poll_interval_s), "
                    "raise the baud rate or split the bus", bus=self.bus, devices=self.devices,
                    busy=self.busy_s_per_s, most=MAX_LOAD)


def bus_load(link: LinkOptions, polls: list[tuple[float, list[tuple[Table, int]]]]
             ) -> BusLoad:
    """``polls``: per device, its poll interval and its requests (table, count)."""
    busy = sum(sum(request_s(link, t, n) for t, n in reqs) / interval
               for interval, reqs in polls)
    return BusLoad(link.key, len(polls), busy)
