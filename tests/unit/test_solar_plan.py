"""Solar charging with anticipation: the sun ahead from the forecast, and the grid's part
of a planned solar car (hub_engine.ems.solar_plan), then in the solar control."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ems.model import Connector, Node, Reading, Session
from hub_engine.ems.solar_plan import LAST_CALL_S, PlannedCar, sun_ahead_wh, top_up
from tests.unit.ems_helpers import one_site

H = 3600.0
# 10 kW of PV for two hours from t = 1 h, a 2 kW building: 16 kWh above it.
SLOTS = [(1 * H, 2 * H, 10_000.0), (2 * H, 3 * H, 10_000.0), (3 * H, 4 * H, 1_000.0)]


@pytest.mark.parametrize(("until_s", "cars", "expect_wh"), [
    (5 * H, 1, 16_000.0), (2 * H, 1, 8_000.0), (5 * H, 2, 8_000.0), (0.5 * H, 1, 0.0)])
def test_the_sun_ahead(until_s: float, cars: int, expect_wh: float) -> None:
    assert sun_ahead_wh(SLOTS, 0.0, until_s, 2_000.0, cars) == pytest.approx(expect_wh)


CAR = PlannedCar(remaining_wh=10_000.0, left_s=8 * H, min_w=4_140.0, max_w=22_080.0)


@pytest.mark.parametrize(("car", "cap_w", "sun_wh", "expect_cap", "why"), [
    # Enough sun before it leaves: it waits for it (held back before the peak).
    (CAR, 0.0, 12_000.0, 0.0, "enough sun"),
    # 4 kWh short over 8 h: 0.55 kW more, at least its minimum to charge at all.
    (CAR, 0.0, 6_000.0, 4_140.0, "sun short"),
    (CAR, 5_000.0, 6_000.0, 5_550.0, "sun short"),
    # No forecast, or the departure near: the grid as the limits allow.
    (CAR, 0.0, None, 22_080.0, "no forecast"),
    (PlannedCar(10_000.0, LAST_CALL_S + 1_000.0, 4_140.0, 22_080.0), 0.0, 50_000.0,
     22_080.0, "departure near"),
    # Its plan met: the sun only.
    (PlannedCar(0.0, 8 * H, 4_140.0, 22_080.0), 3_000.0, 0.0, 3_000.0, "plan met"),
])
def test_the_grid_s_part(car: PlannedCar, cap_w: float, sun_wh: float | None,
                         expect_cap: float, why: str) -> None:
    got = top_up(car, cap_w, sun_wh)
    assert got.cap_w == pytest.approx(expect_cap) and why in got.why, got


def test_a_planned_surplus_car_waits_for_the_sun_the_forecast_promises() -> None:
    """Morning, no export yet: a car leaving at 18:00 needing 10 kWh waits (the forecast
    gives it 30 kWh by then); told it leaves at 09:00, it charges from the grid now."""
    clock = FakeClock(datetime(2026, 6, 8, 6, tzinfo=UTC))  # 08:00 in Paris
    control = one_site("solar: {mode: surplus, interval_s: 30, start_delay_s: 0}", clock)
    noon = clock.now().replace(hour=10)
    control.forecast = lambda site: [(noon + timedelta(hours=k), noon + timedelta(hours=k + 1),
                                      12_000.0) for k in range(5)]
    # 1 kW imported: the building's load (no PV yet).
    grid = (Node("g", meter=Reading((1.45,) * 3, 0.0, (333.3,) * 3)),)

    def cap(leaves_in_s: float) -> float:
        now_s = clock.monotonic()
        car = Connector("CP1/1", "g", 32.0, session=Session(
            state="charging", departure_s=now_s + leaves_in_s, energy_need_wh=10_000.0))
        control.tracks.clear()
        control.sites["s"].cars = frozenset()
        limits = control.limits(now_s, grid, [car], {})
        return float(limits[0].limit_a or 0.0)

    assert cap(10 * H) == 0.0  # the sun will do: it waits
    assert control.describe(clock.monotonic())["s"]["cars"]["CP1/1"]["plan"]["why"].startswith(
        "enough sun")
    assert cap(1 * H) >= 6.0  # leaving before the sun: the grid, at least its minimum
    control.forecast = lambda site: None
    assert cap(10 * H) == 32.0  # no forecast: the grid as the limits allow
