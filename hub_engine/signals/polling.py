"""The loop every signal service runs: fetch every ``poll_s`` (not before a quota's wait
is over), apply what is known every tick, stop cleanly."""

from __future__ import annotations

import asyncio

from hub_engine.clock import Clock
from hub_engine.tasks import cancel_and_wait

__all__ = ["Polling"]


class Polling:
    """Subclasses give ``name``, ``poll_s``, :meth:`poll` and :meth:`apply`, and may say
    how long to sleep between ticks (:meth:`tick_s`)."""

    name = "polling"
    clock: Clock

    def __init__(self) -> None:
        self._not_before = 0.0
        self._next_poll = 0.0
        self._task: asyncio.Task[None] | None = None

    @property
    def poll_s(self) -> float:
        raise NotImplementedError

    async def poll(self) -> None:
        raise NotImplementedError

    def apply(self) -> None:
        raise NotImplementedError

    def tick_s(self) -> float:
        return 60.0

    def wait_quota(self, seconds: float) -> None:
        """No fetch before ``seconds`` from now (a 429's Retry-After)."""
        self._not_before = self.clock.monotonic() + seconds

    def next_fetch_in_s(self) -> float:
        return max(self._next_poll, self._not_before) - self.clock.monotonic()

    def start_polling(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        while True:
            now = self.clock.monotonic()
            if now >= self._next_poll and now >= self._not_before:
                await self.poll()
                self._next_poll = self.clock.monotonic() + self.poll_s
            self.apply()
            await self.clock.sleep(self.tick_s())
