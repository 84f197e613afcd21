"""One outstanding CALL per charge point (OCPP-J §4.1.1), with the EMS's limits first.

The ``ocpp`` library serialises a charge point's calls with one lock, in arrival order:
a limit decrease could then wait behind a queue of operator commands. This lock hands
itself to waiting *priority* calls (the engine's charging profiles) before the others.
A call already on the wire is still waited for — the protocol allows no second one — so
slow commands keep short timeouts. Priority is a context variable, set by
:meth:`hub_engine.ocpp.station.Station.request` for the task that makes the call.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections import deque
from types import TracebackType

__all__ = ["PRIORITY", "PriorityLock"]

PRIORITY: contextvars.ContextVar[bool] = contextvars.ContextVar("ocpp_call_priority",
                                                                default=False)


class PriorityLock:
    def __init__(self) -> None:
        self._locked = False
        self._high: deque[asyncio.Future[None]] = deque()
        self._low: deque[asyncio.Future[None]] = deque()

    def locked(self) -> bool:
        return self._locked

    async def acquire(self) -> bool:
        if not self._locked and not self._high and not self._low:
            self._locked = True
            return True
        fut: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue = self._high if PRIORITY.get() else self._low
        queue.append(fut)
        try:
            await fut
        except asyncio.CancelledError:
            if fut in queue:
                queue.remove(fut)
            elif fut.done() and not fut.cancelled():
                self.release()  # handed to us just as we were cancelled: pass it on
            raise
        return True

    def release(self) -> None:
        for queue in (self._high, self._low):
            while queue:
                fut = queue.popleft()
                if not fut.done():
                    fut.set_result(None)  # the lock passes straight to this waiter
                    return
        self._locked = False

    async def __aenter__(self) -> None:
        await self.acquire()

    async def __aexit__(self, exc_type: type[BaseException] | None,
                        exc: BaseException | None, tb: TracebackType | None) -> None:
        self.release()
