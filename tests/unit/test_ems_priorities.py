"""Priorities asked over the bus: what a request must say, what it covers, its expiry,
and what it changes in the allocation (the tier, never a limit)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ems import allocate
from hub_engine.ems.priorities import ExternalPriorities, apply_priorities
from hub_engine.errors import CommandError
from tests.unit.ems_helpers import car, limits, snap

BELOW = {"grid": frozenset({"CP1/1", "CP2/1"}), "board": frozenset({"CP2/1"}),
         "CP1/1": frozenset({"CP1/1"}), "CP2/1": frozenset({"CP2/1"})}


def _prios() -> tuple[ExternalPriorities, FakeClock]:
    clock = FakeClock(datetime(2026, 11, 29, 12, tzinfo=UTC))
    return ExternalPriorities(clock, BELOW), clock


@pytest.mark.parametrize(("target", "tier", "expires", "reason"), [
    ("nowhere", 3, 60, "target: no node or connector"),
    ("grid", 0, 60, "tier: an integer from 1 to 9"),
    ("grid", 10, 60, "tier: an integer from 1 to 9"),
    ("grid", True, 60, "tier: an integer from 1 to 9"),
    ("grid", 3, 0, "expires_in_s"),
    ("grid", 3, 8 * 86400, "at most 7 days"),
])
def test_a_bad_priority_is_refused_with_its_reason(target: str, tier: int, expires: float,
                                                   reason: str) -> None:
    prios, _ = _prios()
    with pytest.raises(CommandError, match=reason):
        prios.set(target, "flow", tier, expires)
    assert prios.tiers() == {}


def test_a_node_covers_its_connectors_the_highest_tier_wins_and_it_expires() -> None:
    prios, clock = _prios()
    prios.set("grid", "a", 2, 60)
    prios.set("board", "b", 5, 30)
    assert prios.tiers() == {"CP1/1": 2, "CP2/1": 5}
    clock.advance(31)
    assert prios.tiers() == {"CP1/1": 2, "CP2/1": 2}
    assert prios.clear("grid", "a") and not prios.clear("grid", "a")
    assert prios.tiers() == {}


def test_a_priority_serves_its_car_first_within_the_same_limit() -> None:
    nodes = [{"id": "g", "limit_a": 20, "meter": None}]
    base = [car("CP1/1"), car("CP2/1")]
    shared = limits(allocate(snap(nodes, base)))
    assert shared == {"CP1/1": 10.0, "CP2/1": 10.0}
    prios, _ = _prios()
    prios.set("CP2/1", "flow", 3, 60)
    first = snap(nodes, base)
    raised = replace(first, connectors=tuple(apply_priorities(list(first.connectors),
                                                              prios.tiers())))
    got = limits(allocate(raised))
    assert got["CP2/1"] > got["CP1/1"] and sum(got.values()) <= 20.0
