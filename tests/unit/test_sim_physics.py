"""Breaker curve and site profiles."""

from __future__ import annotations

from datetime import datetime

import pytest

from hub_engine.sim.physics import Breaker, building_load_a, pv_power_w


def minutes_to_trip(multiple: float, limit_min: float = 180) -> float | None:
    b = Breaker(rating_a=100)
    for second in range(int(limit_min * 60)):
        if b.step(1.0, (100 * multiple, 0, 0), second):
            return second / 60
    return None


def test_breaker_curve() -> None:
    assert minutes_to_trip(1.0) is None
    assert minutes_to_trip(1.13) is None  # conventional non-tripping current
    t145 = minutes_to_trip(1.45)
    assert t145 is not None and t145 < 60  # conventional tripping current: within the hour
    t2 = minutes_to_trip(2.0)
    assert t2 is not None and t2 < 15
    assert minutes_to_trip(10.0) == 0  # magnetic: at once


def test_breaker_cools_down() -> None:
    b = Breaker(rating_a=100)
    for s in range(600):
        assert not b.step(1.0, (140, 0, 0), s)  # ten minutes at 1.4 × In: warm, not tripped
    for s in range(600, 4200):
        b.step(1.0, (50, 0, 0), s)
    for s in range(4200, 4800):
        assert not b.step(1.0, (140, 0, 0), s)  # cooled down in between


def test_step_length_does_not_change_the_curve() -> None:
    fine, coarse = Breaker(100), Breaker(100)
    for s in range(3600):
        fine.step(1.0, (150, 0, 0), s)
    for s in range(60):
        coarse.step(60.0, (150, 0, 0), s * 60)
    assert fine.tripped_at_s is not None and coarse.tripped_at_s is not None
    assert abs(fine.tripped_at_s - coarse.tripped_at_s) <= 60


@pytest.mark.parametrize(("when", "busy"), [
    (datetime(2026, 3, 10, 11, 0), True),    # a Tuesday morning
    (datetime(2026, 3, 10, 3, 0), False),    # night
    (datetime(2026, 3, 14, 11, 0), False),   # Saturday
])
def test_office_load(when: datetime, busy: bool) -> None:
    l1, l2, l3 = building_load_a("office", when, base_a=30, peak_a=120)
    assert (l2 > 90) is busy and l1 > l2 > l3  # L1 the most loaded


def test_pv_bell() -> None:
    june_noon = pv_power_w(36, datetime(2026, 6, 21, 13, 0))
    assert 20_000 < june_noon < 26_000
    assert pv_power_w(36, datetime(2026, 12, 21, 13, 0)) < june_noon
    assert pv_power_w(36, datetime(2026, 6, 21, 23, 0)) == 0
