"""systemd's notification protocol (``sd_notify``), without libsystemd.

Under ``Type=notify`` systemd passes ``NOTIFY_SOCKET`` (a datagram socket, ``@`` for an
abstract one) and, with ``WatchdogSec=``, ``WATCHDOG_USEC``. The hub says ``READY=1``
once every component is started and ``STOPPING=1`` when it stops; the **EMS loop** feeds
the watchdog (``WATCHDOG=1``) after each completed cycle, at most every third of the
watchdog period: a loop that is stuck stops the pings and systemd restarts the engine.
Without ``NOTIFY_SOCKET`` (not under systemd, tests) every call does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["Notifier", "Watchdog"]

log = logging.getLogger(__name__)


class Notifier:
    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        self.watchdog_s = int(usec) / 1e6 if usec.isdigit() and int(usec) > 0 else None

    def send(self, message: str) -> bool:
        if self.address is None:
            return False
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.sendto(message.encode(), address)
            return True
        except OSError as exc:  # systemd gone: nothing to tell, nothing to stop for
            log.debug("sd_notify %s: %s", message, exc)
            return False


class Watchdog:
    """An EMS record listener: a completed cycle proves the loop alive."""

    def __init__(self, notifier: Notifier) -> None:
        self.notifier = notifier
        self.every_s = notifier.watchdog_s / 3 if notifier.watchdog_s else None
        self._last = -1e18
        self.pings = 0

    def __call__(self, record: dict[str, Any]) -> None:
        if self.every_s is None:
            return
        now = time.monotonic()
        if now - self._last >= self.every_s and self.notifier.send("WATCHDOG=1"):
            self._last = now
            self.pings += 1
