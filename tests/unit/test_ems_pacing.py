"""Triggered cycles are paced: a flood of triggers (a boot storm's status notifications)
does not run the EMS back to back, while a lone trigger (a load step) runs at once."""

from __future__ import annotations

import asyncio
import itertools

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.ems.loop import PACE, EmsLoop

CONFIG = "sites:\n  - id: s\n    grid: {id: g, limit_a: 63, charge_points: [{id: CP1}]}\n"
CYCLE_S = 0.1  # what each cycle costs here (a big site's cycle)


async def _cycles(trigger_every_s: float | None, lone_at_s: float | None = None
                  ) -> list[float]:
    """Start times of the cycles over 300 steps of 10 ms (plus what the cycles take),
    triggers coming as asked."""
    clock = FakeClock()
    loop = EmsLoop(parse_config(CONFIG), lambda: {}, {}, clock)
    starts: list[float] = []
    t0 = clock.monotonic()

    def slow_cycle() -> None:
        starts.append(round(clock.monotonic() - t0, 3))
        clock.advance(CYCLE_S)

    loop.cycle = slow_cycle  # type: ignore[method-assign]
    await loop.start()
    step = 0.01
    for k in range(300):
        await asyncio.sleep(0)
        if trigger_every_s is not None and k % round(trigger_every_s / step) == 0:
            loop.wake()
        if lone_at_s is not None and clock.monotonic() - t0 >= lone_at_s:
            lone_at_s = None
            loop.wake()
        for _ in range(3):
            await asyncio.sleep(0)
        clock.advance(step)
    await loop.stop()
    return starts


def test_a_flood_of_triggers_leaves_the_core_to_the_traffic() -> None:
    starts = asyncio.run(_cycles(trigger_every_s=0.02))
    gaps = [b - a for a, b in itertools.pairwise(starts[1:])]
    assert gaps and min(gaps) >= PACE * CYCLE_S - 0.011, starts
    # Still far more often than the timer alone (one a second).
    assert len(starts) >= 3 / (PACE * CYCLE_S + 0.05), starts


def test_a_lone_trigger_after_a_timed_cycle_runs_at_once() -> None:
    starts = asyncio.run(_cycles(trigger_every_s=None, lone_at_s=1.35))
    assert any(1.35 <= s <= 1.37 for s in starts), starts
