"""The fallback limits (profile layout, DESIGN "The EMS"): safe with no hub at all."""

from __future__ import annotations

import pytest

from hub_engine.ems.fallback import fallback_limits
from tests.unit.ems_helpers import car, snap

METERED = {"id": "g", "limit_a": 40, "meter": {"current_a": [2, 2, 2], "age_s": 1}}


def _fallback(nodes, conns, plugged, **kw):  # type: ignore[no-untyped-def]
    return {k: v[0] for k, v in fallback_limits(snap(nodes, conns, **kw),
                                                frozenset(plugged)).items()}


@pytest.mark.parametrize(("nodes", "conns", "plugged", "expect"), [
    pytest.param([{"id": "g", "limit_a": 40}], [car(f"c{i}") for i in range(5)],
                 ["c0", "c1", "c2", "c3"], {"c0": 10, "c1": 10, "c2": 10, "c3": 10, "c4": 0},
                 id="plugged connectors share the group, the others get 0"),
    pytest.param([METERED], [car("a"), car("b")], ["a", "b"], {"a": 0, "b": 0},
                 id="a metered node with no worst-case load: nothing charges without the hub"),
    pytest.param([{**METERED, "fallback_load_a": [30, 30, 30]}], [car("a"), car("b")],
                 ["a", "b"], {"a": 10, "b": 0},
                 id="worst-case building load: the minimum to as many as fit"),
    pytest.param([{**METERED, "fallback_load_a": [30, 30, 30]}],
                 [car("a"), car("vip", tier=1)], ["a", "vip"], {"a": 0, "vip": 10},
                 id="by priority"),
    pytest.param([{"id": "g", "limit_a": 40}],
                 [car("a", may_draw_a=32, session={"measured_a": [30, 30, 30],
                                                   "measured_age_s": 1}), car("b")],
                 ["a", "b"], {"a": 20, "b": 20},
                 id="what connectors draw now does not matter, only the worst case"),
])
def test_fallback(nodes, conns, plugged, expect) -> None:  # type: ignore[no-untyped-def]
    assert _fallback(nodes, conns, plugged) == expect


def test_fire_alarm_gives_zero_fallbacks() -> None:
    got = _fallback([{"id": "g", "limit_a": 40}], [car("a")], ["a"],
                    inputs={"fire_alarm": True})
    assert got == {"a": 0}


def test_fallbacks_fit_every_node_at_worst_case() -> None:
    """A two-level tree with single-phase points: every phase of every node holds."""
    nodes = [{"id": "grid", "limit_a": 63, "fallback_load_a": [40, 20, 10],
              "meter": {"current_a": [0, 0, 0], "age_s": 1}},
             {"id": "g", "parent": "grid", "limit_a": 32}]
    conns = [car(f"c{i}", phases=[i % 3]) for i in range(9)]
    got = _fallback(nodes, conns, [f"c{i}" for i in range(9)])
    per_phase = [sum(v for k, v in got.items() if int(k[1:]) % 3 == p) for p in range(3)]
    assert per_phase[0] <= 63 - 40 and per_phase[1] <= 32 and per_phase[2] <= 32
    assert all(v == 0 or v >= 6 for v in got.values())
    assert sum(1 for v in got.values() if v >= 6) >= 7
