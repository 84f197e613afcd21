"""What the closed-loop trace counts as time over a limit (benchmarks and tests read it)."""

from __future__ import annotations

from hub_engine.sim.closed_loop import Trace


def test_stretches_over_a_limit_and_beyond_the_reaction_window() -> None:
    trace = Trace()
    # Over from 10 to 30 s (20 s), then from 50 to 55 s (5 s), ticks of 1 s.
    trace.over = [(float(t), 10 <= t < 30 or 50 <= t < 55) for t in range(100)]
    longest, beyond = trace.over_beyond(15.0)
    assert longest == 20.0 and beyond == 5.0
    assert trace.over_beyond(15.0, after=20.0) == (10.0, 0.0)  # from 20 s on


def test_a_stretch_still_over_at_the_end_counts() -> None:
    trace = Trace()
    trace.over = [(float(t), t >= 80) for t in range(100)]
    assert trace.over_beyond(15.0) == (20.0, 5.0)  # 80 to 99, plus the last tick
