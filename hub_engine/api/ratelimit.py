"""Sign-in attempts limited per (login, client address) and, more loosely, per address.

A password guesser is slowed to a few tries per quarter hour on one account from one
address, and to a few dozen over all accounts from one address; someone else's failures
never lock a user out (behind a reverse proxy every user shares its address, so a limit
per address alone locked the whole site out). A valid sign-in clears its own count.
The client's address comes from ``X-Forwarded-For`` only when the request comes from a
proxy configured as trusted (``http.trusted_proxies``).
"""

from __future__ import annotations

import threading
from collections import deque

from hub_engine.clock import Clock

__all__ = ["LoginLimiter", "client_address", "login_keys"]

PER_ADDRESS = 10  # an address may fail this many times the per-account limit in all


def login_keys(login: str, address: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """The counters a sign-in is held against, each with its factor of the limit."""
    return (f"pair:{login.casefold()}|{address}", 1), (f"ip:{address}", PER_ADDRESS)


def client_address(remote: str | None, forwarded_for: str | None,
                   trusted: tuple[str, ...]) -> str:
    """The client's address: the first hop, right to left, that is not a trusted proxy."""
    address = remote or "?"
    if address not in trusted or not forwarded_for:
        return address
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if hop not in trusted:
            return hop
    return address


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

    def retry_after_s(self, *keys: tuple[str, int]) -> float:
        """0 if a try is allowed now, else the seconds until one is."""
        with self._lock:
            waits = []
            for key, factor in keys:
                seen = self._recent(key)
                if len(seen) >= self.max_failures * factor:
                    waits.append(self.window_s - (self.clock.monotonic()
                                                  - seen[-self.max_failures * factor]))
        return max(waits, default=0.0)

    def failed(self, *keys: tuple[str, int]) -> None:
        with self._lock:
            for key, _ in keys:
                self._recent(key).append(self.clock.monotonic())

    def succeeded(self, key: tuple[str, int]) -> None:
        with self._lock:
            self._failures.pop(key[0], None)
