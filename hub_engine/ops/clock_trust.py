"""Whether the hub's clock can be trusted: synchronised by NTP, or kept by an RTC.

Time-dependent features (the validity of dynamic profiles on charge points that keep
their own time, access windows, tariff days) need it. Until the clock is trusted the
EMS holds every connector at its fallback limit (which needs no clock) and says so in
its record and its log; the check runs again every ``check_s``. The status comes from
the kernel (``adjtimex``: not ``STA_UNSYNC``), which chrony, ntpd and timesyncd all
clear once synchronised; ``ops.clock: trust`` declares an RTC-kept clock trusted.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import math
import time
from collections.abc import Callable

__all__ = ["ClockTrust", "kernel_synchronised"]

log = logging.getLogger(__name__)
STA_UNSYNC = 0x0040
TIME_ERROR = 5


class _Timex(ctypes.Structure):
    _fields_ = [("modes", ctypes.c_uint), *((name, ctypes.c_long) for name in (
        "offset", "freq", "maxerror", "esterror")), ("status", ctypes.c_int),
        *((name, ctypes.c_long) for name in ("constant", "precision", "tolerance")),
        ("time_sec", ctypes.c_long), ("time_usec", ctypes.c_long),
        *((name, ctypes.c_long) for name in ("tick", "ppsfreq", "jitter")),
        ("shift", ctypes.c_int), *((name, ctypes.c_long) for name in (
            "stabil", "jitcnt", "calcnt", "errcnt", "stbcnt")), ("tai", ctypes.c_int),
        ("padding", ctypes.c_int * 11)]


@functools.cache
def _libc() -> ctypes.CDLL:
    # find_library forks ldconfig: once per process, not on every check.
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def kernel_synchronised() -> bool | None:
    """True if the kernel says the clock is synchronised, None if it cannot say."""
    try:
        libc = _libc()
        timex = _Timex()
        state = libc.adjtimex(ctypes.byref(timex))
    except (OSError, AttributeError):
        return None
    if state < 0:
        return None
    return state != TIME_ERROR and not timex.status & STA_UNSYNC


class ClockTrust:
    """Asked by the EMS every cycle; the kernel is asked at most every ``max_age_s``."""

    def __init__(self, mode: str, status: Callable[[], bool | None] = kernel_synchronised,
                 max_age_s: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.mode, self.status = mode, status
        self.max_age_s, self.monotonic = max_age_s, monotonic
        self._trusted: bool | None = None
        self._checked_at = -math.inf

    def trusted(self) -> bool:
        now = self.monotonic()
        if self._trusted is not None and now - self._checked_at < self.max_age_s:
            return self._trusted
        self._checked_at = now
        ok = self.mode == "trust" or bool(self.status())
        if ok != self._trusted:
            (log.info if ok else log.warning)(
                "clock %s", "trusted" if ok else "not synchronised (no NTP yet, no RTC "
                "declared): every connector held at its fallback limit until it is")
            self._trusted = ok
        return ok
