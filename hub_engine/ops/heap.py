"""Keeping Python's cycle collector off the long-lived heap.

CPython's full (generation 2) collection walks every container object the process holds.
At 10,000 charge points that is about a gigabyte of connections, sessions and protocol
state, and one pass stopped the event loop for up to a second, about every second during a
boot storm and about once a minute afterwards, for nothing: they freed no object. Every
OCPP answer and every EMS write waiting behind it took that second (p99 1.1 s).

So while the keeper runs, the collector makes no automatic full pass (its third
threshold is out of reach), and what has lived a few seconds moves to the collector's
permanent generation (``gc.freeze``, O(1)), out of reach of any other full collection
too. Young objects are still collected as usual (generations 0 and 1). Old objects are
still freed by reference counting; only garbage *cycles* among them wait, for the full
pass made every ``full_every_s`` (unfreeze, collect, freeze again), whose duration and
yield are logged: measured, they are almost nothing (passes over 10,000 charge points'
state freed no object). See docs/scaling.md.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from dataclasses import dataclass

from hub_engine.clock import Clock
from hub_engine.tasks import cancel_and_wait

__all__ = ["FullPass", "HeapKeeper"]

log = logging.getLogger(__name__)

# Generation-1 collections before an automatic full one: out of reach, since the
# keeper's own full pass resets the count every hour (an hour is a few million).
_NEVER = 1_000_000_000


@dataclass(frozen=True)
class FullPass:
    """One full collection of the keeper: how long the loop stood still, what it freed."""

    duration_s: float
    freed_objects: int
    frozen_objects: int


class HeapKeeper:
    """Freezes survivors every ``freeze_every_s``; a full pass every ``full_every_s``."""

    name = "heap"

    def __init__(self, clock: Clock, freeze_every_s: float = 10.0,
                 full_every_s: float = 3600.0) -> None:
        self.clock = clock
        self.freeze_every_s = freeze_every_s
        self.full_every_s = full_every_s
        self.last_full: FullPass | None = None
        self._task: asyncio.Task[None] | None = None
        self._thresholds: tuple[int, int, int] | None = None

    async def start(self) -> None:
        young, middle, full = gc.get_threshold()
        if full != _NEVER:  # not already set by another keeper of this process
            self._thresholds = (young, middle, full)
            gc.set_threshold(young, middle, _NEVER)
        gc.freeze()  # modules, configuration, the store: all here for good
        self._task = asyncio.create_task(self._run(), name="heap")

    def full_pass(self) -> FullPass:
        """Collect everything, frozen included, then freeze the survivors again."""
        t0 = time.perf_counter()
        gc.unfreeze()
        freed = gc.collect()
        gc.freeze()
        self.last_full = FullPass(round(time.perf_counter() - t0, 3), freed,
                                  gc.get_freeze_count())
        log.info("heap: full collection took %.3f s, freed %d objects, %d kept",
                 self.last_full.duration_s, freed, self.last_full.frozen_objects)
        return self.last_full

    async def _run(self) -> None:
        last_full = self.clock.monotonic()
        while True:
            await self.clock.sleep(self.freeze_every_s)
            if self.clock.monotonic() - last_full >= self.full_every_s:
                last_full = self.clock.monotonic()
                self.full_pass()
            else:
                gc.freeze()

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        # Whatever runs next in this process (tests, a restart) gets a normal collector.
        if self._thresholds is not None:
            gc.set_threshold(*self._thresholds)
        gc.unfreeze()
