"""Injectable clocks: the engine never calls ``time`` or ``datetime.now`` directly.

Tests drive a :class:`FakeClock` forward instead of sleeping; ``sleep`` on a fake clock
returns once the test has advanced time past the deadline.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

__all__ = ["Clock", "FakeClock", "SystemClock", "iso_utc", "parse_iso"]


def iso_utc(ts: datetime) -> str:
    """``2026-11-29T10:00:00.123Z``: what the hub writes in OCPP messages and the store."""
    return ts.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_iso(text: object) -> datetime | None:
    """An ISO-8601 time with its offset (``Z`` accepted), or None: a time without an
    offset is ambiguous and never guessed."""
    if not isinstance(text, str):
        return None
    try:
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return ts if ts.tzinfo is not None else None


class Clock(Protocol):
    """Wall time (timezone-aware UTC) and a monotonic time base for intervals."""

    def now(self) -> datetime: ...

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class FakeClock:
    """A clock that moves only when a test calls :meth:`advance`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware start time")
        self._mono = 1000.0
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    async def sleep(self, seconds: float) -> None:
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._sleepers.append((self._mono + max(0.0, seconds), fut))
        self._wake()
        await fut

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has passed."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._mono += seconds
        self._now += timedelta(seconds=seconds)
        self._wake()

    def _wake(self) -> None:
        keep = []
        for deadline, fut in self._sleepers:
            if fut.done():
                continue
            if deadline <= self._mono:
                fut.set_result(None)
            else:
                keep.append((deadline, fut))
        self._sleepers = keep
