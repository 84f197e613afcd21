"""The allocation on named cases, each stated in one line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from hub_engine.ems import Allocation, Snapshot, allocate
from hub_engine.errors import ConfigError
from tests.unit.ems_helpers import car, limits, snap

GRID40 = [{"id": "grid", "limit_a": 100}, {"id": "g", "parent": "grid", "limit_a": 40}]
L = {"L1": [0], "L2": [1], "L3": [2]}


def _plan(hours: float, need_wh: float, taken: float = 0.0) -> dict[str, float]:
    return {"departure_s": 10_000 + hours * 3600, "energy_need_wh": need_wh,
            "energy_wh": taken}


def case(name: str, snapshot: Snapshot, expect: dict[str, float] | Callable[[Allocation], Any]):
    return pytest.param(snapshot, expect, id=name)


CASES = [
    case("four cars share a 40 A group equally",
         snap(GRID40, [car(f"c{i}") for i in range(4)]), {f"c{i}": 10.0 for i in range(4)}),
    case("cars under their max keep the rest for others",
         snap(GRID40, [car("a", max_a=6), car("b")]), {"a": 6.0, "b": 32.0}),
    case("eight cars, 40 A: six get the minimum, two pause (no setpoint below 6 A)",
         snap(GRID40, [car(f"c{i}") for i in range(8)]),
         lambda a: sorted(limits(a).values()) == [0, 0] + [6.6] * 6),
    case("the board binds above two groups",
         snap([{"id": "grid", "limit_a": 50}, {"id": "g", "parent": "grid", "limit_a": 40},
               {"id": "h", "parent": "grid", "limit_a": 40}],
              [car("a"), car("b"), car("c", node="h"), car("d", node="h")]),
         {"a": 12.5, "b": 12.5, "c": 12.5, "d": 12.5}),
    case("single-phase cars on three phases each get a full phase",
         snap([{"id": "g", "limit_a": 20}], [car(f"c{p}", phases=L[p]) for p in L]),
         {"cL1": 20.0, "cL2": 20.0, "cL3": 20.0}),
    case("single-phase cars on the same phase share it",
         snap([{"id": "g", "limit_a": 20}], [car(f"c{i}", phases=[0]) for i in range(3)]),
         {"c0": 6.6, "c1": 6.6, "c2": 6.6}),
    case("fair in amps: a 1-phase and a 3-phase car on one phase get equal amps",
         snap([{"id": "g", "limit_a": 20}], [car("mono", phases=[0]), car("tri")]),
         {"mono": 10.0, "tri": 10.0}),
    case("fair in watts: the 3-phase car gets a third of the amps",
         snap([{"id": "g", "limit_a": 40}], [car("mono", phases=[0]), car("tri")],
              params={"fairness_unit": "W"}),
         {"mono": 30.0, "tri": 10.0}),
    case("a detected single-phase EV on a 3-phase point frees the other phases",
         snap([{"id": "g", "limit_a": 20}],
              [car("ev1", session={"ev_phases": 1}), car("tri", phases=[1, 2])]),
         {"ev1": 20.0, "tri": 20.0}),
    case("W-only point, unknown EV: its power may all land on one phase",
         snap([{"id": "g", "limit_a": 32}],
              [car("w", control="W", max_power_w=22080)]),
         lambda a: a.by_id["w"].limit_w == pytest.approx(3 * 230 * 32 / 3, abs=0.2)),
    case("W-only point with a known 3-phase EV is spread over three phases",
         snap([{"id": "g", "limit_a": 32}],
              [car("w", control="W", max_power_w=22080, session={"ev_phases": 3})]),
         lambda a: a.by_id["w"].limit_w == 22080.0),
    case("DC has no 6 A rule and is limited in W",
         snap([{"id": "g", "limit_a": 10}],
              [car("dc", dc=True, max_power_w=50000, max_a=80, control="W")]),
         lambda a: a.by_id["dc"].limit_w == pytest.approx(3 * 230 * 10, abs=0.2)),
    case("strict tiers: the priority car is served in full first",
         snap(GRID40, [car("vip", tier=1), car("a"), car("b")]),
         {"vip": 32.0, "a": 8.0, "b": 0.0}),
    case("weights share in proportion",
         snap(GRID40, [car("a", weight=3), car("b", weight=1)]), {"a": 30.0, "b": 10.0}),
    case("a fresh meter's non-charging load is subtracted, charge points' draw added back",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [30, 30, 30], "age_s": 1}}],
              [car("a", session={"measured_a": [10, 10, 10], "measured_age_s": 5})]),
         {"a": 20.0}),
    case("a silent meter counts at its fallback load",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [0, 0, 0], "age_s": 60},
                "fallback_load_a": [25, 25, 25]}], [car("a")]), {"a": 15.0}),
    case("a silent meter without fallback leaves nothing to charge",
         snap([{"id": "g", "limit_a": 40, "has_meter": True}], [car("a")]), {"a": 0.0}),
    case("PV export (negative power) adds to what charging may take",
         snap([{"id": "g", "limit_a": 20, "meter": {"current_a": [10, 10, 10], "age_s": 1,
                                                     "power_w": [-2300, -2300, -2300]}}],
              [car("a")]), {"a": 30.0}),
    case("the larger of recent non-charging estimates is used while EVs ramp down",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [5, 5, 5], "age_s": 1},
                "non_ev_history_a": [[20, 20, 20], [8, 8, 8]]}], [car("a")]), {"a": 20.0}),
    case("a car ramping up unseen by MeterValues is counted as charging, not building",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [36, 36, 36], "age_s": 1},
                "meter_floor_a": [4, 4, 4], "non_ev_history_a": [[4, 4, 4]]}],
              [car("a", may_draw_a=16, session={"measured_a": [0, 0, 0], "measured_age_s": 1,
                                                "ramp_credit_a": 16}),
               car("b", may_draw_a=16, session={"measured_a": [0, 0, 0], "measured_age_s": 1,
                                                "ramp_credit_a": 16})]),
         {"a": 18.0, "b": 18.0}),
    case("without the ramp credit the same rise reads as building load and pauses them",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [36, 36, 36], "age_s": 1},
                "meter_floor_a": [4, 4, 4], "non_ev_history_a": [[4, 4, 4]]}],
              [car("a", may_draw_a=16, session={"measured_a": [0, 0, 0], "measured_age_s": 1}),
               car("b", may_draw_a=16, session={"measured_a": [0, 0, 0], "measured_age_s": 1})]),
         {"a": 0.0, "b": 0.0}),
    case("the ramp credit explains only the meter's rise above its recent floor",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [20, 20, 20], "age_s": 1},
                "meter_floor_a": [14, 14, 14]}],
              [car("a", may_draw_a=16, session={"ramp_credit_a": 16})]),
         {"a": 26.0}),
    case("no meter floor known: no ramp credit",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [20, 20, 20], "age_s": 1}}],
              [car("a", may_draw_a=16, session={"ramp_credit_a": 16})]),
         {"a": 20.0}),
    case("no ramp credit on a phase the car is measured not to use",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [30, 20, 20], "age_s": 1},
                "meter_floor_a": [10, 10, 10]}],
              [car("a", may_draw_a=16, session={"measured_a": [10, 0, 0], "measured_age_s": 1,
                                                "ramp_credit_a": 16})]),
         {"a": 20.0}),
    case("the subscribed kVA binds before the phase rating",
         snap([{"id": "g", "limit_a": 63, "limit_va": 13800}], [car("a"), car("b")]),
         {"a": 10.0, "b": 10.0}),
    case("the margin is kept free",
         snap([{"id": "g", "limit_a": 40, "margin_a": 4}], [car("a"), car("b")]),
         {"a": 18.0, "b": 18.0}),
    case("an external limit in force lowers its node",
         snap(GRID40, [car("a")], external_limits=[
             {"target": "g", "source": "node-red", "limit_a": 12, "expires_s": 20_000}]),
         {"a": 12.0}),
    case("an expired external limit with release is gone",
         snap(GRID40, [car("a")], external_limits=[
             {"target": "g", "source": "node-red", "limit_a": 12, "expires_s": 5_000}]),
         {"a": 32.0}),
    case("an expired shedding order with hold keeps its fallback",
         snap(GRID40, [car("a")], external_limits=[
             {"target": "g", "source": "shedding", "limit_a": 0, "expires_s": 5_000,
              "on_expiry": "hold", "fallback_a": 8}]), {"a": 8.0}),
    case("a scheduled limit not yet started does nothing",
         snap(GRID40, [car("a")], external_limits=[
             {"target": "g", "source": "tariff", "limit_a": 8, "starts_s": 11_000}]),
         {"a": 32.0}),
    case("a per-connector limit (EDF-SEI half power) caps that connector",
         snap(GRID40, [car("a", phases=[0])], external_limits=[
             {"target": "a", "source": "edf-sei", "limit_w": 3680}]), {"a": 16.0}),
    case("fire alarm: everything to 0",
         snap(GRID40, [car("a"), car("b")], inputs={"fire_alarm": True}),
         lambda a: limits(a) == {"a": 0, "b": 0} and a.by_id["a"].reason == "fire alarm"),
    case("a silent charge point stays reserved at what it may draw",
         snap(GRID40, [car("mute", may_draw_a=16, responsive=False), car("b")]),
         {"mute": 16.0, "b": 24.0}),
    case("an increase waits for the decrease it needs to be confirmed",
         snap(GRID40, [car("old", may_draw_a=32), car("new", may_draw_a=0)]),
         lambda a: limits(a) == {"old": 20.0, "new": 8.0} and a.by_id["new"].target_a == 20.0),
    case("a paused car restarts only if its whole minimum fits in confirmed headroom",
         snap(GRID40, [car("old", may_draw_a=36), car("new", may_draw_a=0)]),
         lambda a: limits(a) == {"old": 20.0, "new": 0.0}),
    case("a connector with no session gets 0 and still counts at what it may draw",
         snap(GRID40, [car("idle", may_draw_a=16, session=None), car("b", may_draw_a=0)]),
         lambda a: limits(a) == {"idle": 0.0, "b": 24.0} and a.by_id["b"].target_a == 32.0),
    case("a car taking less than given is capped; the others get the rest",
         snap(GRID40, [car("slow", may_draw_a=20, session={
             "measured_a": [5, 5, 5], "measured_age_s": 5,
             "rotation": {"probe_started_s": 9_900}}), car("b", may_draw_a=0)]),
         lambda a: limits(a) == {"slow": 7.0, "b": 20.0} and a.by_id["b"].target_a == 33 - 1),
    case("a car whose raise is not yet measured is not taken for one that takes less",
         snap(GRID40, [car("raised", may_draw_a=20, session={
             "measured_a": [5, 5, 5], "measured_age_s": 5, "ramp_credit_a": 20,
             "rotation": {"probe_started_s": 9_900}}), car("b", may_draw_a=20)]),
         {"raised": 20.0, "b": 20.0}),
    case("the capped car is probed back up periodically",
         snap(GRID40, [car("slow", may_draw_a=20, session={
             "measured_a": [5, 5, 5], "measured_age_s": 5,
             "rotation": {"probe_started_s": 0}}), car("b", may_draw_a=20)]),
         lambda a: limits(a) == {"slow": 20.0, "b": 20.0}
         and a.by_id["slow"].session_rotation.probe_started_s == 10_000),
    case("a car not asking for power keeps only the minimum",
         snap(GRID40, [car("full", session={"state": "suspended_ev"}), car("b")]),
         {"full": 6.0, "b": 32.0}),
    case("limits are rounded down to 0.1 A",
         snap([{"id": "g", "limit_a": 20}], [car(f"c{i}") for i in range(3)]),
         {"c0": 6.6, "c1": 6.6, "c2": 6.6}),
    case("a car paused less than min_off ago stays off even with room",
         snap(GRID40, [car("a", session={"rotation": {"on": False, "since_s": 9_900}})]),
         {"a": 0.0}),
    case("an exactly full row loses nothing to float noise: 120 cars on 1,920 A get 16 A",
         snap([{"id": "g", "limit_a": 1920}], [car(f"c{i}", may_draw_a=0) for i in range(120)]),
         lambda a: {s.limit_a for s in a.setpoints} == {16.0}),
    # A kVA subscription of 300 A in all, 300 A of building: no room. The W-limited car
    # (4,617 W) is single-phase, its unlabelled 20.1 A stands for each phase: taken off
    # the total three times, the building looked 40 A lighter and both cars were raised.
    case("an unlabelled reading is not taken off a total more than the car may draw",
         snap([{"id": "g", "limit_a": 200, "limit_va": 300 * 230,
                "meter": {"current_a": [130.1, 110, 110], "age_s": 1}}],
              [car("w", control="W", max_power_w=22080, may_draw_w=4617, session={
                  "measured_a": [20.1, 20.1, 20.1], "measured_age_s": 2}),
               car("a", may_draw_a=10, session={"measured_a": [10, 10, 10],
                                                "measured_age_s": 2})]),
         lambda a: limits(a) == {"w": 0.0, "a": 0.0}),  # before: 4,617 W and 6.7 A
    # After a decrease to 8 A, the car's last reading (30 A, a minute-long MeterValues
    # interval) is not subtracted in full: the car cannot draw more than 8 A now.
    case("a reading above what the car may now draw counts for no more than that",
         snap([{"id": "g", "limit_a": 40, "meter": {"current_a": [28, 28, 28], "age_s": 1}}],
              [car("a", may_draw_a=8, session={"measured_a": [30, 30, 30],
                                               "measured_age_s": 50}),
               car("b", may_draw_a=0, session={"measured_a": [0, 0, 0],
                                               "measured_age_s": 50})]),
         {"a": 10.0, "b": 10.0}),  # before: 21 A each, the building read as -2 A
    case("two sites are independent",
         snap([{"id": "s1", "limit_a": 10}, {"id": "s2", "limit_a": 30}],
              [car("a", node="s1"), car("b", node="s2")]), {"a": 10.0, "b": 30.0}),
    # Departure plans (now_s 10,000): 27.6 kWh in 2 h on three phases is 20 A, +10 %.
    case("a car's departure plan is given first, the rest shared",
         snap(GRID40, [car("a", session=_plan(2, 27_600)), car("b")]), {"a": 22.0, "b": 18.0}),
    case("a plan asks no more than the car's maximum; the other keeps its minimum",
         snap(GRID40, [car("a", session=_plan(1, 60_000)), car("b")]), {"a": 32.0, "b": 8.0}),
    case("plans that do not all fit share max-min",
         snap(GRID40, [car("a", session=_plan(1, 30_000)), car("b", session=_plan(1, 40_000)),
                       car("c", session=_plan(8, 5_000))]),
         {"a": 17.0, "b": 17.0, "c": 6.0}),
    case("a plan whose energy is taken gives no priority",
         snap(GRID40, [car("a", session=_plan(2, 27_600, taken=27_600)), car("b")]),
         {"a": 20.0, "b": 20.0}),
    case("a plan whose departure passed gives no priority",
         snap(GRID40, [car("a", session=_plan(-0.5, 27_600)), car("b")]),
         {"a": 20.0, "b": 20.0}),
    case("a plan does not lift the site limit",
         snap([{"id": "g", "limit_a": 16}], [car("a", session=_plan(1, 60_000))]), {"a": 16.0}),
]


@pytest.mark.parametrize(("snapshot", "expect"), CASES)
def test_case(snapshot: Snapshot, expect: Any) -> None:
    alloc = allocate(snapshot)
    if callable(expect):
        assert expect(alloc), alloc.setpoints
    else:
        assert limits(alloc) == expect, [(s.connector_id, s.limit_a, s.reason)
                                         for s in alloc.setpoints]


def test_pure_and_deterministic() -> None:
    s = snap(GRID40, [car(f"c{i}") for i in range(8)])
    assert allocate(s) == allocate(s)


@pytest.mark.parametrize(("data", "path"), [
    ({"now_s": 0, "nodes": [{"id": "g", "parent": "nope"}]}, "nodes[0].parent"),
    ({"now_s": 0, "nodes": [{"id": "g"}], "connectors": [
        {"id": "c", "node": "g", "max_current_a": 16, "phases": [0, 0]}]}, "connectors[0].phases"),
    ({"now_s": 0, "nodes": [{"id": "g"}], "connectors": [
        {"id": "c", "node": "g", "max_current_a": "x"}]}, "connectors[0].max_current_a"),
    ({"now_s": 0, "nodes": [{"id": "a", "parent": "b"}, {"id": "b", "parent": "a"}]}, "nodes"),
])
def test_bad_snapshot_names_path(data: dict[str, Any], path: str) -> None:
    with pytest.raises(ConfigError) as info:
        Snapshot.from_dict(data)
    assert info.value.path == path


def test_to_dict_round_trips_json() -> None:
    import json
    alloc = allocate(snap(GRID40, [car("a"), car("b")]))
    data = json.loads(json.dumps(alloc.to_dict()))
    assert data["setpoints"][0]["limit_a"] == 20.0
    assert data["nodes"][1]["node_id"] == "g"


def test_overload_ranks_connectors_by_their_worst_node() -> None:
    """A board over its rating (its cars counted at what they may draw) ranks its
    connectors' decreases ahead of those of a board within its own."""
    s = snap([{"id": "g", "limit_a": 100, "meter": {"current_a": [0, 0, 0], "age_s": 0}},
              {"id": "hot", "parent": "g", "limit_a": 32},
              {"id": "calm", "parent": "g", "limit_a": 63}],
             [car("H1", node="hot", may_draw_a=32), car("H2", node="hot", may_draw_a=16),
              car("C1", node="calm", may_draw_a=16)])
    over = {sp.connector_id: sp.overload_a for sp in allocate(s).setpoints}
    assert over == {"H1": 16.0, "H2": 16.0, "C1": 0.0}


def test_a_reserved_connector_over_its_node_is_asked_to_decrease() -> None:
    """Unanswered (not following), it counts at the 32 A it may draw, and the building
    takes 15 A of 38: it is sent the 23 A that fit, not its 32 A again."""
    s = snap([{"id": "g", "limit_a": 40, "margin_a": 2,
               "meter": {"current_a": [47, 47, 47], "age_s": 0}}],
             [car("CP1", may_draw_a=32, responsive=False,
                  session={"measured_a": [32, 32, 32], "measured_age_s": 0})])
    sp = allocate(s).setpoints[0]
    assert sp.limit_a == 23.0 and sp.reason == "silent or refusing: reserved"
