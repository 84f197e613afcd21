"""Each EV behaviour the EMS must cope with, shown."""

from __future__ import annotations

import pytest

from hub_engine.sim.ev import EV


def run(ev: EV, pilot_a: float, seconds: float, dt: float = 0.5) -> list[float]:
    return [ev.step(dt, pilot_a) for _ in range(int(seconds / dt))]


def test_ramps_to_a_new_pilot_in_about_five_seconds() -> None:
    ev = EV(max_current_a=32)
    trace = run(ev, 32, 10)
    assert trace[1] < 16  # not instantly
    assert trace[int(4.5 / 0.5)] >= 30 and trace[int(5.5 / 0.5)] == 32
    down = run(ev, 10, 6)
    assert down[0] > 25 and down[-1] == 10  # follows a decrease within the window


def test_pauses_below_six_amps() -> None:
    ev = EV()
    run(ev, 16, 10)
    assert run(ev, 5.9, 10)[-1] == 0.0
    assert run(ev, 6.0, 10)[-1] == 6.0


def test_does_not_take_more_than_its_own_maximum() -> None:
    ev = EV(max_current_a=16, phases=1)
    assert run(ev, 32, 10)[-1] == 16


def test_tapers_near_full_and_stops_when_full() -> None:
    ev = EV(battery_wh=1000, soc=0.85, max_current_a=32)
    trace = run(ev, 32, 180, dt=1)
    assert max(trace) < 25  # tapering already at 85 %
    assert ev.full and trace[-1] == 0.0


def test_stops_when_the_energy_wanted_is_delivered() -> None:
    ev = EV(energy_wanted_wh=500, max_current_a=16, phases=1)
    run(ev, 16, 600, dt=1)  # 16 A × 230 V = 3.7 kW: 500 Wh in about 8 minutes
    assert ev.full and ev.state.current_a == 0.0
    assert ev.state.energy_wh == pytest.approx(500, abs=30)


def test_energy_and_soc_follow_the_power() -> None:
    ev = EV(battery_wh=60_000, soc=0.5, phases=3)
    run(ev, 16, 3600 + 5, dt=1)
    # About 11 kW for an hour, less the ramp.
    assert ev.state.energy_wh == pytest.approx(16 * 230 * 3, rel=0.01)
    assert ev.state.soc == pytest.approx(0.5 + 11040 / 60000, rel=0.01)


@pytest.mark.parametrize("resumes", [True, False])
def test_some_cars_never_resume_after_a_pause(resumes: bool) -> None:
    ev = EV(resumes_after_pause=resumes, pause_before_giving_up_s=30)
    run(ev, 16, 10)
    run(ev, 0, 60)
    after = run(ev, 16, 20)[-1]
    assert after == (16.0 if resumes else 0.0)


def test_a_short_pause_is_survived_even_by_a_sleepy_car() -> None:
    ev = EV(resumes_after_pause=False, pause_before_giving_up_s=30)
    run(ev, 16, 10)
    run(ev, 0, 10)
    assert run(ev, 16, 20)[-1] == 16.0


def test_phase_count_is_checked() -> None:
    with pytest.raises(ValueError):
        EV(phases=4)
