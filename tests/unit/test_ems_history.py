"""The non-charging load window: counted in time, and reaching back to the oldest car
reading still subtracted (a stale reading must not make the building look lighter)."""

from __future__ import annotations

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ems.history import NonEvHistory
from tests.unit.ems_helpers import car, snap

PARENTS = {"g": None, "td": "g"}


def history(clock: FakeClock) -> NonEvHistory:
    return NonEvHistory(clock, window_s=5.0, cycle_s=0.5, timeout_s=120.0, parents=PARENTS)


def worst(h: NonEvHistory, node: str, oldest: float | None = None) -> float:
    return max((e[0] for e in h.window(node, oldest)), default=float("nan"))


def test_a_burst_of_triggered_cycles_does_not_shorten_the_window() -> None:
    clock = FakeClock()
    h = history(clock)
    h.remember("g", (30.0, 30.0, 30.0))  # the building before a power cut
    clock.advance(0.5)
    for _ in range(40):  # 40 reconnections, a cycle each, within one second
        h.remember("g", (-290.0, -290.0, -290.0))
        clock.advance(0.025)
    assert worst(h, "g") == 30.0
    assert len(h.seen["g"]) <= 10  # merged: bounded memory
    clock.advance(5.0)
    h.remember("g", (-290.0, -290.0, -290.0))
    assert worst(h, "g") == -290.0  # past the window (no old reading): forgotten


@pytest.mark.parametrize(("reading_a", "age_s", "counted", "expected"), [
    (12.6, 12.0, True, 0.0),  # stale live reading: the estimate made when it was fresh
    (12.6, 3.0, True, -25.0),  # within the window anyway
    (0.0, 12.0, False, -25.0),  # a 0 A reading subtracts nothing: no need to reach back
    (12.6, 130.0, False, -25.0),  # past the measurement timeout: not subtracted at all
])
def test_the_window_reaches_back_to_the_oldest_live_reading(
        reading_a: float, age_s: float, counted: bool, expected: float) -> None:
    clock = FakeClock()
    h = history(clock)
    for t in range(200):  # estimates every 0.5 s: 0 A until 12 s ago, then -25 A
        h.remember("g", (0.0,) * 3 if t < 176 else (-25.0,) * 3)
        clock.advance(0.5)
    session = {"measured_a": [reading_a] * 3, "measured_age_s": age_s}
    s = snap([{"id": "g", "limit_a": 40}, {"id": "td", "parent": "g"}],
             [car("CP1", node="td", session=session)])
    oldest = h.oldest_readings(s.connectors)
    assert set(oldest) == ({"g", "td"} if counted else set())
    assert worst(h, "g", oldest.get("g")) == expected
