"""What every polled device shares: its task, and reporting a loss or a return once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from hub_engine.tasks import cancel_and_wait

__all__ = ["ChangeHook", "Watched"]

log = logging.getLogger(__name__)
ChangeHook = Callable[[str, bool, str], None]  # device id, online, reason


class Watched:
    """Base of a device read by a task of its own (:meth:`_run`)."""

    id: str

    def __init__(self, on_change: ChangeHook | None) -> None:
        self.on_change = on_change
        self.online: bool | None = None  # None until the first read
        self._task: asyncio.Task[None] | None = None

    def _set_online(self, online: bool, reason: str) -> None:
        """Report a change once (not once a poll); a first good read is not news."""
        if online == self.online:
            return
        first, self.online = self.online is None, online
        if first and online:
            return
        (log.info if online else log.warning)("device %s %s%s", self.id,
                                              "back" if online else "lost: ", reason)
        if self.on_change is not None:
            self.on_change(self.id, online, reason)

    async def _run(self) -> None:
        raise NotImplementedError

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"device-{self.id}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
