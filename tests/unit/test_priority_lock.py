"""One outstanding CALL per charge point, the EMS's limits served first."""

from __future__ import annotations

import asyncio

from hub_engine.ocpp.priority import PRIORITY, PriorityLock


async def test_priority_waiters_go_first_then_arrival_order() -> None:
    lock = PriorityLock()
    order: list[str] = []

    async def call(name: str, priority: bool) -> None:
        PRIORITY.set(priority)
        async with lock:
            order.append(name)
            await asyncio.sleep(0.01)

    async with lock:  # a slow GetConfiguration on the wire
        tasks = [asyncio.create_task(call("operator-1", False)),
                 asyncio.create_task(call("operator-2", False)),
                 asyncio.create_task(call("limit-decrease", True))]
        await asyncio.sleep(0.01)
        assert order == []  # nobody passes a call that is on the wire
    await asyncio.gather(*tasks)
    assert order == ["limit-decrease", "operator-1", "operator-2"]
    assert not lock.locked()


async def test_a_cancelled_waiter_does_not_keep_the_lock() -> None:
    lock = PriorityLock()
    await lock.acquire()
    waiter = asyncio.create_task(lock.acquire())
    await asyncio.sleep(0)
    waiter.cancel()
    lock.release()
    await asyncio.gather(waiter, return_exceptions=True)
    assert not lock.locked()
    async with lock:  # still usable
        assert lock.locked()
