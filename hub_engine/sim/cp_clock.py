"""The simulated charge point's own clock: offset and drift from real time, set from the
hub's answers (BootNotification, Heartbeat) as real firmware does."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from hub_engine.clock import parse_iso

__all__ = ["SimClock"]


def _wall() -> float:
    return datetime.now(UTC).timestamp()


@dataclass
class SimClock:
    offset_s: float = 0.0
    drift_ppm: float = 0.0
    speed: float = 1.0
    wall: Callable[[], float] = _wall  # injectable: tests move time themselves
    origin: float = field(default=0.0)

    def __post_init__(self) -> None:
        self.origin = self.origin or self.wall()

    def now(self) -> datetime:
        real = self.wall()
        elapsed = (real - self.origin) * self.speed
        drifted = self.origin + elapsed * (1 + self.drift_ppm * 1e-6)
        return datetime.fromtimestamp(drifted + self.offset_s, UTC)

    def set(self, server_time: str | None) -> None:
        t = parse_iso(server_time)
        if t is not None and self.speed == 1.0:
            self.offset_s += (t - self.now()).total_seconds()
