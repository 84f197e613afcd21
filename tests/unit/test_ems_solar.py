"""Solar charging decisions (ems/solar.py): tables of cases and scripted days."""

from __future__ import annotations

import pytest

from hub_engine.ems.solar import (
    SolarBattery,
    SolarCar,
    SolarRules,
    SolarTrack,
    decide,
    share_w,
)
from tests.unit.ems_helpers import one_site

V = 230.0
RULES = SolarRules(start_delay_s=60, stop_delay_s=300, start_margin_w=0, stop_import_w=300)


def car(cid: str, mode: str = "surplus", phases: int = 3, draw_w: float = 0.0,
        **kw: object) -> SolarCar:
    wpa = phases * V
    return SolarCar(id=cid, mode=mode, min_w=6 * wpa, max_w=32 * wpa,  # type: ignore[arg-type]
                    watts_per_a=wpa, draw_w=draw_w, **kw)  # type: ignore[arg-type]


def on(cap_w: float, started_s: float = 0.0) -> SolarTrack:
    return SolarTrack(on=True, cap_w=cap_w, started_s=started_s)


@pytest.mark.parametrize(("surplus_w", "expect"), [
    (0.0, {"a": 4140.0, "b": 1380.0}),  # nothing: each at its minimum
    (9200.0, {"a": 6900.0, "b": 2300.0}),  # equal amps per phase: 10 A each
    (50000.0, {"a": 22080.0, "b": 7360.0}),  # more than they take: each at its maximum
])
def test_the_surplus_is_shared_at_equal_amps(surplus_w: float, expect: dict[str, float]
                                             ) -> None:
    got = share_w([car("a"), car("b", phases=1)], surplus_w)
    assert got == pytest.approx(expect, abs=1.0)


def test_a_car_taking_less_leaves_the_rest_to_the_others() -> None:
    full = car("a", takes_w=2000.0)  # given more, it takes 2 kW (its battery is nearly full)
    got = share_w([full, car("b")], 12000.0)
    assert got["a"] == pytest.approx(max(4140.0, 2000 + 2 * 690))
    assert got["b"] == pytest.approx(12000 - got["a"], abs=1.0)


# (grid_w, previous track, now_s) → (on, cap_w): one surplus car, 3-phase (min 4140 W).
@pytest.mark.parametrize(("grid_w", "draw_w", "track", "now_s", "expect"), [
    (-5000.0, 0.0, SolarTrack(), 0.0, (False, 0.0)),  # enough, but not yet for 60 s
    (-5000.0, 0.0, SolarTrack(ready_since_s=0.0), 59.0, (False, 0.0)),
    (-5000.0, 0.0, SolarTrack(ready_since_s=0.0), 60.0, (True, 5000.0)),  # started
    (-3000.0, 0.0, SolarTrack(ready_since_s=0.0), 60.0, (False, 0.0)),  # short: reset
    (-1000.0, 6000.0, on(6000.0), 100.0, (True, 7000.0)),  # it hides its own draw
    (200.0, 4140.0, on(4140.0), 100.0, (True, 4140.0)),  # 200 W import: tolerated
    (1000.0, 4140.0, on(4140.0), 100.0, (True, 4140.0)),  # stop timer starts
    (1000.0, 4140.0, SolarTrack(on=True, cap_w=4140, short_since_s=0.0), 299.0, (True, 4140.0)),
    (1000.0, 4140.0, SolarTrack(on=True, cap_w=4140, short_since_s=0.0), 300.0, (False, 0.0)),
    (None, 4140.0, on(4140.0), 100.0, (False, 0.0)),  # export unknown: no grid energy
])
def test_one_surplus_car(grid_w: float | None, draw_w: float, track: SolarTrack,
                         now_s: float, expect: tuple[bool, float]) -> None:
    d = decide([car("a", draw_w=draw_w)], {"a": track}, grid_w, RULES, now_s)
    got = d.tracks["a"]
    assert (got.on, got.cap_w) == pytest.approx(expect)


def test_the_stop_timer_restarts_when_the_sun_comes_back() -> None:
    a = car("a", draw_w=4140.0)
    t = decide([a], {"a": on(4140.0)}, 1000.0, RULES, 100.0).tracks
    assert t["a"].short_since_s == 100.0
    t = decide([a], t, -500.0, RULES, 200.0).tracks  # back to export
    assert t["a"].short_since_s is None and t["a"].on
    t = decide([a], t, 1000.0, RULES, 380.0).tracks  # short again: a new 300 s
    assert t["a"].on and decide([a], t, 1000.0, RULES, 679.0).tracks["a"].on
    assert not decide([a], t, 1000.0, RULES, 680.0).tracks["a"].on


def test_min_solar_always_charges_at_least_its_minimum() -> None:
    d = decide([car("a", mode="min_solar")], {}, 800.0, RULES, 0.0)  # importing, at night
    assert (d.tracks["a"].on, d.tracks["a"].cap_w) == (True, 4140.0)
    d = decide([car("a", mode="min_solar", draw_w=4140.0)], d.tracks, -3000.0, RULES, 30.0)
    assert d.tracks["a"].cap_w == pytest.approx(7140.0)  # and the export on top
    d = decide([car("a", mode="min_solar")], {}, None, RULES, 0.0)  # meter lost
    assert (d.tracks["a"].on, d.tracks["a"].cap_w) == (True, 4140.0)


def test_two_cars_never_start_on_the_same_spare() -> None:
    cars = [car("a"), car("b")]
    t = decide(cars, {}, -5000.0, RULES, 0.0).tracks  # 5 kW: room for one minimum
    assert t["a"].ready_since_s == 0.0 and t["b"].ready_since_s is None
    t = decide(cars, t, -5000.0, RULES, 60.0).tracks
    assert t["a"].on and not t["b"].on
    cars = [car("a", draw_w=5000.0), car("b")]
    t = decide(cars, t, -4500.0, RULES, 90.0).tracks  # 9.5 kW: now b's minimum fits
    assert t["b"].ready_since_s == 90.0


def test_a_higher_tier_starts_first_and_the_latest_started_stops_first() -> None:
    cars = [car("a"), car("b", tier=1)]
    t = decide(cars, {"a": SolarTrack(ready_since_s=0), "b": SolarTrack(ready_since_s=10)},
               -5000.0, RULES, 70.0).tracks
    assert t["b"].on and not t["a"].on  # the priority badge first, though it waited less
    cars = [car("a", draw_w=4140.0), car("b", draw_w=4140.0)]
    t = decide(cars, {"a": on(4140.0, 0.0), "b": on(4140.0, 50.0)}, 2000.0, RULES, 100.0
               ).tracks  # 2 kW import: one minimum is enough to stop
    assert t["b"].short_since_s == 100.0 and t["a"].short_since_s is None


def test_a_cloud_over_three_cars_stops_as_many_as_the_import_needs() -> None:
    cars = [car(x, draw_w=4140.0) for x in "abc"]
    tracks = {x: on(4140.0, k * 10.0) for k, x in enumerate("abc")}
    t = decide(cars, tracks, 12420.0 - 1000.0, RULES, 100.0).tracks  # 1 kW of sun left
    assert {x for x in "abc" if t[x].short_since_s is not None} == {"a", "b", "c"}
    t = decide(cars, tracks, 12420.0 - 8000.0, RULES, 100.0).tracks  # 8 kW left
    assert {x for x in "abc" if t[x].short_since_s is not None} == {"c"}


def test_a_car_that_does_not_ask_keeps_its_minimum_and_takes_no_share() -> None:
    cars = [car("a", asking=False), car("b", draw_w=4140.0)]
    t = decide(cars, {"a": on(4140.0), "b": on(4140.0)}, -6000.0, RULES, 100.0).tracks
    assert t["a"].cap_w == 4140.0 and t["b"].cap_w == pytest.approx(10140.0)


def test_a_scripted_sunny_day_starts_once_and_stops_once() -> None:
    """Export rising from 0 to 8 kW over the morning, a 2-minute cloud at noon, falling
    in the afternoon: one start, one stop, no flapping under the cloud."""
    tracks: dict[str, SolarTrack] = {}
    switches, was_on, draw = [], False, 0.0
    for k in range(0, 12 * 3600, 30):
        sun_w = 8000.0 * max(0.0, 1 - abs(k - 6 * 3600) / (5 * 3600))
        if 6 * 3600 <= k < 6 * 3600 + 120:
            sun_w = 500.0
        d = decide([car("a", draw_w=draw)], tracks, draw - sun_w, RULES, float(k))
        tracks = d.tracks
        draw = tracks["a"].cap_w
        if tracks["a"].on != was_on:
            switches.append(k)
            was_on = tracks["a"].on
    assert len(switches) == 2, switches
    assert switches[0] < 6 * 3600 < switches[1]


@pytest.mark.parametrize(("cars", "grid_w", "battery", "expect_w"), [
    ([], -3000.0, SolarBattery(5000, 0), 3000.0),  # no car: the battery takes the export
    ([], -8000.0, SolarBattery(5000, 0), 5000.0),  # up to its maximum
    ([], -8000.0, SolarBattery(0, 0), 0.0),  # full
    ([], -1000.0, SolarBattery(5000, 2000), 3000.0),  # its own charging hides export
    ([], 500.0, SolarBattery(5000, 2000), 1500.0),  # importing: it gives back
    ([], None, SolarBattery(5000, 2000), 0.0),  # export unknown: nothing
])
def test_a_battery_takes_what_no_car_takes(cars: list[SolarCar], grid_w: float | None,
                                            battery: SolarBattery, expect_w: float) -> None:
    assert decide(cars, {}, grid_w, RULES, 0.0, battery).battery_w == expect_w


def test_cars_come_before_the_battery() -> None:
    """A car on takes its share first; a waiting car sees the export the battery takes
    and starts on it; the battery then gets what is left."""
    bat = SolarBattery(10000, 6000)
    d = decide([car("a", draw_w=5000)], {"a": on(5000)}, -1000.0, RULES, 0.0, bat)
    assert d.tracks["a"].cap_w == pytest.approx(12000.0) and d.battery_w == 0.0
    t = decide([car("b")], {}, 0.0, RULES, 0.0, SolarBattery(10000, 6000)).tracks
    assert t["b"].ready_since_s == 0.0  # the battery's 6 kW counts as spare for the car
    d = decide([car("b")], t, 0.0, RULES, 60.0, SolarBattery(10000, 6000))
    assert d.tracks["b"].on and d.tracks["b"].cap_w == pytest.approx(6000.0)
    assert d.battery_w == 0.0


def test_the_first_decision_averages_the_last_interval_not_the_whole_night() -> None:
    """A surplus site without a car for hours keeps sampling its grid meter: when a car
    arrives, the export it is judged on is the last interval's, not a mean since dawn
    (and nothing piles up meanwhile)."""
    from hub_engine.ems.model import Connector, Node, Reading, Session

    control = one_site("solar: {mode: surplus, interval_s: 30, start_delay_s: 0}")

    def grid(power_w: float) -> tuple[Node]:
        per = power_w / 3
        return (Node("g", meter=Reading((abs(per) / 230,) * 3, 0.0, (per, per, per))),)  # type: ignore[arg-type]

    for t in range(0, 4 * 3600):  # four hours of import, no car
        control.limits(float(t), grid(3000.0), [], {})
    assert len(control.sites["s"].samples_w) <= 31
    for t in range(4 * 3600, 4 * 3600 + 40):  # then 40 s of 6 kW export
        control.limits(float(t), grid(-6000.0), [], {})
    car = Connector("CP1/1", "g", 32.0, session=Session(state="charging"))
    control.limits(4 * 3600 + 40.0, grid(-6000.0), [car], {})
    assert control.tracks["CP1/1"].on  # 6 kW covers its 4.1 kW minimum: started


class _Battery:
    id, max_charge_w, max_soc_pct, max_discharge_w, min_soc_pct = "bat", 8000.0, 95.0, 6900.0, 20.0
    phases = 3

    def __init__(self, power_w: float | None) -> None:
        self.power_w = power_w

    def reading(self):  # type: ignore[no-untyped-def]
        from hub_engine.ems.interfaces import BatteryReading
        from hub_engine.errors import ReadError

        if self.power_w is None:
            raise ReadError("not read")
        return BatteryReading(self.power_w, 50.0, 0.0)

    async def set_power(self, power_w: float) -> None:
        pass


@pytest.mark.parametrize(("battery_w", "grid_w", "expect_w"), [
    (-6900.0, 3000.0, 9900.0),  # discharging 6.9 kW: the grid as if it did not
    (-6900.0, -2000.0, 4900.0),  # even across zero (sign and magnitude)
    (4000.0, 3000.0, 3000.0),  # charging: nothing to add back
    (None, 3000.0, 9900.0),  # not read: as if at its full discharge
])
def test_the_ems_sees_the_grid_without_the_battery_s_discharge(
        battery_w: float | None, grid_w: float, expect_w: float) -> None:
    from hub_engine.ems.model import Node, Reading

    control = one_site()
    control.batteries = {"s": _Battery(battery_w)}  # type: ignore[dict-item]
    per = grid_w / 3
    node = Node("g", meter=Reading((abs(per) / 230,) * 3, 0.0, (per, per, per)),
                meter_floor_a=(1.0, 1.0, 1.0))
    seen = control.without_discharge([node])[0]
    assert seen.meter is not None and seen.meter.power_w is not None
    assert sum(seen.meter.power_w) == pytest.approx(expect_w)
    assert sum(seen.meter.signed_a()) * 230 == pytest.approx(expect_w)
    back = (expect_w - grid_w) / 690
    assert seen.meter_floor_a == pytest.approx((1 + back,) * 3)


@pytest.mark.parametrize(("extra", "path"), [
    ("max_discharge_w: 5000", "max_discharge_w"),  # without max_charge_w
    ("max_charge_w: 5000, max_discharge_w: -1", "max_discharge_w"),
    ("max_charge_w: 5000, min_soc_pct: 96", "min_soc_pct"),
])
def test_a_bad_battery_discharge_setting_is_named(extra: str, path: str) -> None:
    from hub_engine.config import parse_config
    from hub_engine.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        parse_config(f"""
sites: [{{id: s, grid: {{id: g, limit_a: 63, meter: m, charge_points: [{{id: CP1}}]}}}}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
devices: [{{id: bat, role: battery, node: g, {extra}, options: {{host: 127.0.0.1}}}}]
""")
    assert err.value.path.endswith(path)


def test_a_single_phase_battery_s_discharge_counts_on_each_phase() -> None:
    from hub_engine.ems.model import Node, Reading

    control = one_site()
    battery = _Battery(-2300.0)
    battery.phases = 1
    control.batteries = {"s": battery}  # type: ignore[dict-item]
    node = Node("g", meter=Reading((5.0, 5.0, 5.0), 0.0, (1150.0, 1150.0, 1150.0)))
    seen = control.without_discharge([node])[0]
    assert seen.meter is not None and seen.meter.current_a == pytest.approx((15.0,) * 3)
