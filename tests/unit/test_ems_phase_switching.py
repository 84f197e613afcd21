"""3→1-phase switching: the solar choice of phases (a table over scripted decisions) and
the applier's bookkeeping of the phases each limit says (scripted ports, a fake clock)."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ems.apply import Applier
from hub_engine.ems.interfaces import ConnectorState, LimitOutcome
from hub_engine.ems.model import Allocation, ConnectorSetpoint
from hub_engine.ems.solar_phases import PhaseCar, PhaseRules, PhaseTrack, choose_phases
from hub_engine.ocpp.profiles import Layout, dynamic

MIN1, MIN3 = 6 * 230.0, 6 * 690.0
RULES = PhaseRules(start_delay_s=60, start_margin_w=0, hold_s=300)


def car(on: bool, cap_w: float = 0.0, asking: bool = True) -> PhaseCar:
    return PhaseCar("c", on, asking, cap_w, MIN1, MIN3)


# ``free_w``: the surplus less the minimum of every car that is on (this one included).
@pytest.mark.parametrize(("case", "the_car", "track", "free_w", "phases"), [
    ("waiting, 2.5 kW: one phase at once", car(False), PhaseTrack(), 2500, 1),
    ("waiting, 1 kW: starts on neither, left as is", car(False), PhaseTrack(), 1000, 3),
    ("waiting on one, 5 kW: three at once", car(False), PhaseTrack(1), 5000, 3),
    ("waiting on one, 3 kW: stays", car(False), PhaseTrack(1), 3000, 1),
    ("charging on three, the grid feeding 800 W of the minimums: after the delay",
     car(True, MIN3), PhaseTrack(3, want_since_s=-60), -800, 1),
    ("charging on three, short for 30 s only: waits", car(True, MIN3),
     PhaseTrack(3, want_since_s=-30), -800, 3),
    ("charging on one, sun for three for the delay", car(True, 2500),
     PhaseTrack(1, want_since_s=-60), MIN3 - MIN1, 3),
    ("charging on one, just under three's minimum: stays", car(True, 2500),
     PhaseTrack(1, want_since_s=-600), MIN3 - MIN1 - 10, 1),
    ("switched 100 s ago: held", car(True, 2500), PhaseTrack(1, since_s=-100), 6500, 1),
    ("not asking: left", car(True, MIN3, asking=False), PhaseTrack(3, want_since_s=-600),
     -3000, 3),
])
def test_phase_choice(case: str, the_car: PhaseCar, track: PhaseTrack, free_w: float,
                      phases: int) -> None:
    got = choose_phases([the_car], {"c": track}, free_w, RULES, now_s=0.0)
    assert got["c"].phases == phases, case


def test_one_waiting_car_takes_the_rest_on_one_phase_not_every_car() -> None:
    """2.5 kW and three three-phase cars waiting: one goes to one phase; the others
    would only share its watts (and pile on their charge points' L1)."""
    cars = [PhaseCar(k, False, True, 0.0, MIN1, MIN3) for k in ("a", "b", "c")]
    got = choose_phases(cars, {}, 2500, RULES, now_s=0.0)
    assert [got[k].phases for k in ("a", "b", "c")] == [1, 3, 3]
    # 6.5 kW: the first starts on three, the 2.4 kW left put the second on one phase.
    got = choose_phases(cars, {}, 6500, RULES, now_s=0.0)
    assert [got[k].phases for k in ("a", "b", "c")] == [3, 1, 3]


def test_a_switch_starts_the_hold_and_a_wish_its_delay() -> None:
    short = car(True, MIN3)
    first = choose_phases([short], {}, -800, RULES, now_s=0.0)
    assert first["c"].phases == 3 and first["c"].want_since_s == 0.0
    later = choose_phases([short], first, -800, RULES, now_s=60.0)
    assert later["c"] == PhaseTrack(1, since_s=60.0)
    sunny = car(True, MIN1)
    assert choose_phases([sunny], later, 9000, RULES, now_s=300.0)["c"].phases == 1  # held
    again = choose_phases([sunny], later, 9000, RULES, now_s=361.0)
    assert again["c"].phases == 1 and again["c"].want_since_s == 361.0


class Port:
    def __init__(self, answer: LimitOutcome = "accepted") -> None:
        self.answer = answer
        self.sent: list[tuple[float, int | None]] = []

    def state(self) -> ConnectorState:
        return ConnectorState(True, "Charging", 1, None, None, phase_switching=True)

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float,
                        phases: int | None = None) -> LimitOutcome:
        self.sent.append((limit, phases))
        return self.answer


def alloc(limit: float, phases: int | None) -> Allocation:
    return Allocation((ConnectorSetpoint("a", limit, None, limit, "test", phases=phases),), ())


async def _apply(applier: Applier, port: Port, limit: float, phases: int | None) -> None:
    applier.apply(alloc(limit, phases), {"a": port}, {})
    for _ in range(5):
        await asyncio.sleep(0)


async def test_the_phases_of_a_limit_count_once_accepted_and_settled() -> None:
    clock, port = FakeClock(), Port()
    applier = Applier(clock, settle_s=10)
    await _apply(applier, port, 10, 3)
    clock.advance(10)
    assert applier.phases("a") == 3
    await _apply(applier, port, 10, 1)  # same amps, one phase: sent all the same
    assert port.sent == [(10, 3), (10, 1)]
    assert applier.phases("a") is None  # settling
    switched = clock.monotonic()
    clock.advance(10)
    assert applier.phases("a") == 1 and applier.phases_since("a") == switched
    await _apply(applier, port, 10, 3)  # back to three: an increase, the car ramps
    assert applier.raised_at("a") == clock.monotonic()
    port.answer = "timed_out"
    await _apply(applier, port, 10, 1)
    clock.advance(30)
    assert applier.phases("a") is None  # either may be in force: not one phase


async def test_a_new_limit_on_the_same_phase_keeps_it_on_one_phase() -> None:
    """A limit change every solar decision must not count the car on three phases while
    it is in flight (the others' shares would bounce each time)."""
    clock, port = FakeClock(), Port()
    applier = Applier(clock, settle_s=10)
    await _apply(applier, port, 10, 1)
    clock.advance(10)
    assert applier.phases("a") == 1
    gate = asyncio.Event()
    real = port.set_limit

    async def slow(limit: float, unit: Literal["A", "W"], valid_s: float,
                   phases: int | None = None) -> LimitOutcome:
        await gate.wait()
        return await real(limit, unit, valid_s, phases)
    port.set_limit = slow  # type: ignore[method-assign]
    await _apply(applier, port, 12, 1)
    assert applier.phases("a") == 1  # in flight, same phase
    await _apply(applier, port, 8, 3)  # a decrease may follow: three phases now
    assert applier.phases("a") is None
    gate.set()
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_charge_point_refusing_one_phase_is_not_switched_again() -> None:
    clock, port = FakeClock(), Port()
    applier = Applier(clock, settle_s=10)
    await _apply(applier, port, 10, 3)
    port.answer = "rejected"
    await _apply(applier, port, 10, 1)
    assert "a" in applier.phases_refused
    applier.forget("a")  # a reboot: it may be asked again
    assert "a" not in applier.phases_refused


def test_number_phases_is_said_only_when_switching() -> None:
    from datetime import UTC, datetime
    now = datetime(2026, 6, 1, 12, tzinfo=UTC)
    one = dynamic(Layout(), 1, 16.0, "A", 300, now, phases=1)
    assert one["chargingSchedule"]["chargingSchedulePeriod"] == [
        {"startPeriod": 0, "limit": 16.0, "numberPhases": 1}]
    plain = dynamic(Layout(), 1, 16.0, "A", 300, now)
    assert "numberPhases" not in plain["chargingSchedule"]["chargingSchedulePeriod"][0]


@pytest.mark.parametrize(("cp", "ok"), [
    ("{id: CP1, phase_switching: true}", True),
    ("{id: CP1, phases: 1, max_current_a: 32, phase_switching: true}", False),
    ("{id: CP1, control: W, max_power_w: 22000, phase_switching: true}", False),
    ("{id: CP1, dc: true, max_power_w: 50000, max_current_a: 125, phase_switching: true}",
     False),
])
def test_only_three_phase_ac_points_in_amps_switch(cp: str, ok: bool) -> None:
    from hub_engine.config import parse_config
    from hub_engine.errors import ConfigError
    text = f"sites:\n  - id: s\n    grid: {{id: g, limit_a: 63, charge_points: [{cp}]}}\n"
    if ok:
        assert parse_config(text).sites[0].grid.charge_points[0].phase_switching is True
        return
    with pytest.raises(ConfigError, match=r"charge_points\[0\]\.phase_switching: only a "
                                          r"three-phase AC charge point"):
        parse_config(text)
