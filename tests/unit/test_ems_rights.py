"""A session's rights in the allocation: tier, minimum current, PV-only surplus caps."""

from __future__ import annotations

import pytest

from hub_engine.ems.model import Connector, Reading, Session
from hub_engine.ems.rights import PV_ONLY, SessionRights, apply_rights, pv_surplus_a


def _conn(measured: tuple[float, float, float] | None = None,
          phases: tuple[int, ...] = (0, 1, 2)) -> Connector:
    return Connector("CP1/1", "grid", 32.0, phases=phases,
                     session=Session(measured_a=measured))


@pytest.mark.parametrize(("car", "grid_a", "grid_w", "age", "expect"), [
    (None, (20, 20, 20), (-4600, -4600, -4600), 0, 20.0),  # 20 A exported, car idle
    ((10, 10, 10), (10, 10, 10), (-2300, -2300, -2300), 0, 20.0),  # the car hides half
    ((8, 8, 8), (5, 5, 5), (1150, 1150, 1150), 0, 3.0),  # importing: what is left
    ((8, 8, 8), (10, 2, 10), (-2300, 460, -2300), 0, 6.0),  # the worst phase decides
    ((10, 10, 10), (20, 20, 20), (-4600, -4600, -4600), 30, 0.0),  # stale: no surplus
    ((6, 6, 6), (30, 30, 30), (6900, 6900, 6900), 0, 0.0),  # importing more than it draws
])
def test_pv_surplus(car: tuple[float, float, float] | None, grid_a: tuple[float, ...],
                    grid_w: tuple[float, ...], age: float, expect: float) -> None:
    grid = Reading((grid_a[0], grid_a[1], grid_a[2]), age, (grid_w[0], grid_w[1], grid_w[2]))
    assert pv_surplus_a(_conn(car), grid, timeout_s=10) == pytest.approx(expect)


def test_an_unsigned_meter_gives_no_surplus() -> None:
    assert pv_surplus_a(_conn(), Reading((20, 20, 20), 0.0, None), 10) == 0.0
    assert pv_surplus_a(_conn(), None, 10) == 0.0


def test_a_single_phase_car_on_a_rotated_phase() -> None:
    grid = Reading((0, 12, 0), 0.0, (0, -2760, 0))  # export on L2 only
    assert pv_surplus_a(_conn((4, 0, 0), phases=(1,)), grid, 10) == pytest.approx(16.0)


def test_rights_raise_tier_and_minimum_and_cap_pv_only() -> None:
    plain = Connector("CP2/1", "grid", 32.0, tier=1)
    fleet = _conn((0, 0, 0))
    out, limits = apply_rights(
        [fleet, plain], {"CP1/1": SessionRights(tier=5, min_current_a=10, pv_only=True),
                         "CP2/1": SessionRights(tier=0)},
        {"CP1/1": Reading((20, 20, 20), 0.0, (-4600, -4600, -4600))}, 10)
    assert (out[0].tier, out[0].min_current_a) == (5, 10.0)
    assert out[1] == plain  # no session: nothing changes; a lower tier never lowers
    assert [(x.target, x.source, x.limit_a) for x in limits] == [("CP1/1", PV_ONLY, 20.0)]
