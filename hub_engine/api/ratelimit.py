"""Sign-in attempts limited per login and per client address (a password guesser is
slowed to a few tries per quarter hour; a valid sign-in clears its own count)."""

from __future__ import annotations

import threading
from collections import deque

from hub_engine.clock import Clock

__all__ = ["LoginLimiter"]


class LoginLimiter:
    def __init__(self, clock: Clock, max_failures: int = 5, window_s: float = 900.0) -> None:
        self.clock, self.max_failures, self.window_s = clock, max_failures, window_s
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        seen = self._failures.setdefault(key, deque())
        now = self.clock.monotonic()
        while seen and now - seen[0] > self.window_s:
            seen.popleft()
        return seen

    def retry_after_s(self, *keys: str) -> float:
        """0 if a try is allowed now, else the seconds until one is."""
        with self._lock:
            waits = [self.window_s - (self.clock.monotonic() - seen[0])
                     for seen in (self._recent(k) for k in keys)
                     if len(seen) >= self.max_failures]
        return max(waits, default=0.0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self.clock.monotonic())

    def succeeded(self, key: str) -> None:
        with self._lock:
            self._failures.pop(key, None)
