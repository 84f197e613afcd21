"""The heap keeper: what has lived a few seconds is out of the collector's automatic
passes (a full pass over 10,000 charge points' state stopped the loop for a second), and
garbage cycles among it are still freed by the keeper's own full pass."""

from __future__ import annotations

import asyncio
import gc
import weakref
from collections.abc import AsyncIterator

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ops import HeapKeeper


class _Node:
    """A connection-like object: it refers to itself, so only the cycle collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _collected_ids() -> set[int]:
    """Every object the automatic collections walk (the frozen ones are not listed)."""
    return {id(o) for o in gc.get_objects()}


async def _tick(clock: FakeClock, seconds: float) -> None:
    clock.advance(seconds)
    for _ in range(3):
        await asyncio.sleep(0)


@pytest.fixture
async def keeper() -> AsyncIterator[tuple[HeapKeeper, FakeClock]]:
    clock = FakeClock()
    heap = HeapKeeper(clock, freeze_every_s=10.0, full_every_s=60.0)
    await heap.start()
    yield heap, clock
    await heap.stop()


async def test_long_lived_objects_leave_the_automatic_collections(
        keeper: tuple[HeapKeeper, FakeClock]) -> None:
    _, clock = keeper
    held = [[i] for i in range(20_000)]  # charge points' state, here to stay
    assert {id(x) for x in held[:100]} <= _collected_ids()  # young: still walked
    await _tick(clock, 10.0)
    assert not {id(x) for x in held} & _collected_ids()
    # Something made after the freeze is walked again until the next one.
    late = [0]
    assert id(late) in _collected_ids()


def _full_collections_while_growing() -> int:
    """How many automatic full collections a heap growing by a million objects gets."""
    starts: list[int] = []

    def seen(phase: str, info: dict[str, int]) -> None:
        if phase == "start" and info["generation"] == 2:
            starts.append(1)

    gc.callbacks.append(seen)
    try:
        grown = [[i] for i in range(1_000_000)]
        del grown
    finally:
        gc.callbacks.remove(seen)
    return len(starts)


async def test_no_automatic_full_collection_while_the_heap_grows() -> None:
    assert _full_collections_while_growing() > 0  # the collector's own way
    clock = FakeClock()
    heap = HeapKeeper(clock)
    await heap.start()
    try:
        assert _full_collections_while_growing() == 0
    finally:
        await heap.stop()
    assert _full_collections_while_growing() > 0  # given back as it was


async def test_a_frozen_garbage_cycle_is_freed_by_the_full_pass(
        keeper: tuple[HeapKeeper, FakeClock]) -> None:
    heap, clock = keeper
    node = _Node()
    gone = weakref.ref(node)
    await _tick(clock, 10.0)  # frozen
    del node
    gc.collect()
    assert gone() is not None  # a frozen cycle waits for the keeper
    await _tick(clock, 50.0)  # the full pass is due at 60 s
    assert gone() is None
    assert heap.last_full is not None and heap.last_full.freed_objects >= 1


async def test_stopping_gives_the_heap_back_to_the_collector() -> None:
    clock = FakeClock()
    heap = HeapKeeper(clock)
    await heap.start()
    assert gc.get_freeze_count() > 0
    await heap.stop()
    assert gc.get_freeze_count() == 0
