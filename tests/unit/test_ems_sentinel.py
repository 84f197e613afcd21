"""What wakes the EMS between two cycles: a meter's rise worth acting on, a meter lost or
back, a contact or a device limit that changed; nothing else (no busy loop)."""

from __future__ import annotations

import pytest

from hub_engine.ems.model import ExternalLimit, HardInputs
from hub_engine.ems.sentinel import Sentinel, Watched

QUIET = (HardInputs(), ())


def sentinel(now: Watched, rating_a: float | None = 100.0) -> Sentinel:
    return Sentinel(lambda: now, {"grid": rating_a})


@pytest.mark.parametrize(("before", "after", "rating_a", "why"), [
    ((40.0, 40.0, 40.0), (40.0, 40.0, 40.0), 100.0, None),
    ((40.0, 40.0, 40.0), (44.0, 40.0, 40.0), 100.0, None),  # under 5 % of 100 A
    ((40.0, 40.0, 40.0), (40.0, 45.0, 40.0), 100.0, "meter of grid rose 5.0 A"),
    ((40.0, 40.0, 40.0), (20.0, 20.0, 20.0), 100.0, None),  # a drop waits for the tick
    ((10.0, 10.0, 10.0), (12.0, 10.0, 10.0), None, "meter of grid rose 2.0 A"),  # 2 A floor
    ((-30.0, 0.0, 0.0), (-27.0, 0.0, 0.0), 40.0, "meter of grid rose 3.0 A"),  # less export
    ((40.0, 40.0, 40.0), None, 100.0, "meter of grid lost"),
    (None, (40.0, 40.0, 40.0), 100.0, "meter of grid back"),
])
def test_meter_changes(before: tuple[float, float, float] | None,
                       after: tuple[float, float, float] | None, rating_a: float | None,
                       why: str | None) -> None:
    s = sentinel(Watched({"grid": before}, QUIET), rating_a)
    s.remember()
    s.look = lambda: Watched({"grid": after}, QUIET)
    assert s.changed() == why


@pytest.mark.parametrize("inputs", [
    (HardInputs(fire_alarm=True), ()),
    (HardInputs(), (ExternalLimit(target="grid", source="input:shed", limit_a=20.0),)),
])
def test_an_input_or_device_limit_change_wakes(inputs: object) -> None:
    s = sentinel(Watched({"grid": (1.0, 1.0, 1.0)}, QUIET))
    s.remember()
    assert s.changed() is None
    s.look = lambda: Watched({"grid": (1.0, 1.0, 1.0)}, inputs)
    assert s.changed() == "inputs changed"
    s.remember()
    assert s.changed() is None  # once the cycle has seen it


def test_nothing_before_the_first_cycle() -> None:
    s = sentinel(Watched({"grid": (90.0, 90.0, 90.0)}, QUIET))
    assert s.changed() is None
