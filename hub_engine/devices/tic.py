"""The Linky's customer output (TIC, Enedis-NOI-CPT_54E): frames, checksums, meanings.

Pure parsing; the serial reader is :mod:`hub_engine.devices.tic_reader`. A frame is
``STX (0x02) … ETX (0x03)``; each group is ``LF label SEP [date SEP] data SEP checksum
CR``. **Historic** mode (1200 bd, 7E1) separates with a space and checksums label SP data;
**standard** mode (9600 bd, 7E1) separates with a tab and checksums everything from the
label to the tab before the checksum. The checksum is ``(sum & 0x3F) + 0x20``. A frame
with one bad group is dropped whole: half a frame could pair a new current with an old
one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = ["TicFrame", "TicParser", "checksum", "group"]

STX, ETX, LF, CR = 0x02, 0x03, 0x0A, 0x0D
Mode = Literal["historic", "standard"]
TEMPO = {"BLEU": "blue", "BLAN": "white", "ROUG": "red", "----": None}
_STGE_COLOUR = {0: None, 1: "blue", 2: "white", 3: "red"}


def checksum(data: bytes) -> int:
    return (sum(data) & 0x3F) + 0x20


def group(label: str, data: str, mode: Mode = "historic", date: str | None = None) -> bytes:
    """One group as a meter sends it (for the simulator and tests' recorded frames)."""
    if mode == "historic":
        body = f"{label} {data}".encode("ascii")
        return bytes([LF]) + body + b" " + bytes([checksum(body)]) + bytes([CR])
    fields = [label, *([date] if date else []), data]
    body = ("\t".join(fields) + "\t").encode("ascii")
    return bytes([LF]) + body + bytes([checksum(body)]) + bytes([CR])


@dataclass(frozen=True)
class TicFrame:
    mode: Mode
    groups: dict[str, str]

    def _num(self, label: str) -> float | None:
        text = self.groups.get(label)
        return float(text) if text is not None and re.fullmatch(r"\d+", text) else None

    @property
    def phases(self) -> int:
        tri = ("IINST3" in self.groups) if self.mode == "historic" else ("IRMS3" in self.groups)
        return 3 if tri else 1

    def current_a(self) -> tuple[float, float, float] | None:
        """Per-phase current; a single-phase meter's on L1. None if the frame lacks it."""
        names = ("IINST1", "IINST2", "IINST3") if self.mode == "historic" else (
            "IRMS1", "IRMS2", "IRMS3")
        if self.phases == 1:
            one = self._num("IINST" if self.mode == "historic" else "IRMS1")
            return None if one is None else (one, 0.0, 0.0)
        got = [self._num(n) for n in names]
        if any(g is None for g in got):
            return None
        return (got[0] or 0.0, got[1] or 0.0, got[2] or 0.0)

    def apparent_va(self) -> tuple[float, ...] | None:
        """Apparent power drawn: per phase in standard mode, the total in historic mode."""
        if self.mode == "historic":
            papp = self._num("PAPP")
            return None if papp is None else (papp,)
        names = ("SINSTS1", "SINSTS2", "SINSTS3") if self.phases == 3 else ("SINSTS",)
        got = [self._num(n) for n in names]
        return None if any(g is None for g in got) else tuple(g or 0.0 for g in got)

    def subscribed_va(self) -> float | None:
        """The subscribed power (historic: ISOUSC A × 200 V per phase, as Enedis counts)."""
        if self.mode == "standard":
            pref = self._num("PREF")
            return None if pref is None else pref * 1000
        isousc = self._num("ISOUSC")
        return None if isousc is None else isousc * 200 * self.phases

    def cutoff_va(self) -> float | None:
        """The apparent power above which the meter's breaker opens (PCOUP in standard)."""
        if self.mode == "standard":
            pcoup = self._num("PCOUP")
            return None if pcoup is None else pcoup * 1000
        return self.subscribed_va()

    def period(self) -> str | None:
        return self.groups.get("PTEC" if self.mode == "historic" else "LTARF")

    def off_peak(self) -> bool | None:
        period = self.period()
        if period is None:
            return None
        text = period.upper()
        return text.startswith("HC") or "CREUSE" in text

    def tempo_today(self) -> str | None:
        if self.mode == "historic":
            ptec = self.groups.get("PTEC", "")
            return {"B": "blue", "W": "white", "R": "red"}.get(ptec[3:4]) if (
                ptec[:3] in ("HCJ", "HPJ")) else None
        return self._stge_colour(24)

    def tempo_tomorrow(self) -> str | None:
        if self.mode == "historic":
            return TEMPO.get(self.groups.get("DEMAIN", "----"))
        return self._stge_colour(26)

    def _stge_colour(self, bit: int) -> str | None:
        stge = self.groups.get("STGE")
        if stge is None or not re.fullmatch(r"[0-9A-Fa-f]{8}", stge):
            return None
        return _STGE_COLOUR[(int(stge, 16) >> bit) & 0b11]

    def overcurrent(self) -> bool:
        """The meter's own overload warning (historic ADPS / ADIR1-3)."""
        return any(k in self.groups for k in ("ADPS", "ADIR1", "ADIR2", "ADIR3"))


class TicParser:
    """Feed bytes as they come; get back whole frames whose every checksum is right."""

    def __init__(self, mode: Mode) -> None:
        self.mode = mode
        self._buf = bytearray()
        self.frames = 0
        self.bad_frames = 0

    def feed(self, data: bytes) -> list[TicFrame]:
        self._buf.extend(b & 0x7F for b in data)  # 7 data bits: drop a parity bit if any
        out: list[TicFrame] = []
        while True:
            start = self._buf.find(bytes([STX]))
            if start < 0:
                self._buf.clear()
                return out
            end = self._buf.find(bytes([ETX]), start)
            if end < 0:
                del self._buf[:start]
                if len(self._buf) > 8192:  # no end in sight: noise, not a frame
                    self._buf.clear()
                return out
            nested = self._buf.rfind(bytes([STX]), start, end)  # a cut frame before
            raw = bytes(self._buf[nested + 1:end])
            del self._buf[:end + 1]
            frame = self._parse(raw)
            if frame is None:
                self.bad_frames += 1
            else:
                self.frames += 1
                out.append(frame)

    def _parse(self, raw: bytes) -> TicFrame | None:
        groups: dict[str, str] = {}
        sep = 0x20 if self.mode == "historic" else 0x09
        for chunk in raw.split(bytes([LF]))[1:]:
            if not chunk.endswith(bytes([CR])) or len(chunk) < 4:
                return None
            line = chunk[:-1]
            got, body = line[-1], line[:-1]
            if body[-1] != sep:
                return None
            if self.mode == "historic":
                body = body[:-1]  # the separator before the checksum is not summed
            if checksum(body) != got:
                return None
            fields = body.rstrip(bytes([sep])).decode("ascii", "replace").split(
                chr(sep))
            if len(fields) < 2 and self.mode == "historic":
                return None
            groups[fields[0]] = fields[-1] if len(fields) > 1 else ""
        return TicFrame(self.mode, groups) if groups else None
