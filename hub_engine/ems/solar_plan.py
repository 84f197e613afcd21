"""Solar charging with anticipation: a solar car with a departure plan gets from the grid
only what the PV forecast says the sun will not give it before it leaves.

Pure functions over the forecast and each planned car, applied to the solar decision's
caps (:mod:`hub_engine.ems.solar_control`):

- the sun ahead: the forecast's PV over what the building takes now (its consumption,
  grid import plus PV minus the cars and the battery), slot by slot until the car
  leaves, shared equally among the site's solar cars;
- enough sun ahead: the car stays on the sun alone (waits for it: that is the holding
  back before the peak);
- not enough: its cap is raised by the grid power that spreads the deficit evenly until
  it leaves (a tenth more, as the EMS's plans), and at least its minimum so that it
  charges at all;
- near the departure (less than ``LAST_CALL_S`` to spare at its full power), or no
  forecast at all: its cap is lifted; the site's limits still hold every watt of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hub_engine.ems.prepare import PLAN_MARGIN

__all__ = ["LAST_CALL_S", "PlannedCar", "TopUp", "sun_ahead_wh", "top_up"]

LAST_CALL_S = 1800.0


@dataclass(frozen=True)
class PlannedCar:
    remaining_wh: float  # its plan's energy not taken yet
    left_s: float  # until its departure
    min_w: float
    max_w: float


@dataclass(frozen=True)
class TopUp:
    cap_w: float
    sun_wh: float | None  # its share of the sun ahead (None: no forecast)
    grid_w: float  # what the grid adds to its solar cap
    why: str


def sun_ahead_wh(slots: Sequence[tuple[float, float, float]], now_s: float, until_s: float,
                 building_w: float, cars: int) -> float:
    """One car's share of the PV expected above the building's load between now and
    ``until_s``; ``slots``: (start s, end s, PV W) on the same time scale."""
    total = 0.0
    for start, end, pv_w in slots:
        a, b = max(start, now_s), min(end, until_s)
        if b > a:
            total += max(0.0, pv_w - building_w) * (b - a) / 3600.0
    return total / max(1, cars)


def top_up(car: PlannedCar, cap_w: float, sun_wh: float | None) -> TopUp:
    """The car's cap with the grid's part of its plan (see the module docstring)."""
    if car.remaining_wh <= 0 or car.left_s <= 0:
        return TopUp(cap_w, sun_wh, 0.0, "plan met or departure passed: sun only")
    spare_s = car.left_s - car.remaining_wh * 3600.0 / max(car.max_w, 1.0)
    if sun_wh is None or spare_s <= LAST_CALL_S:
        why = "no forecast" if sun_wh is None else "departure near"
        return TopUp(car.max_w, sun_wh, max(0.0, car.max_w - cap_w), why + ": grid allowed")
    deficit_wh = car.remaining_wh - sun_wh
    if deficit_wh <= 0:
        return TopUp(cap_w, sun_wh, 0.0, "enough sun ahead: waits for it")
    grid_w = PLAN_MARGIN * deficit_wh * 3600.0 / car.left_s
    cap = min(car.max_w, max(car.min_w, cap_w + grid_w))
    return TopUp(cap, sun_wh, cap - cap_w, "sun short: the grid for the rest")
