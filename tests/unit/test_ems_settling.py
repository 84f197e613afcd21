"""A stable site stays stable: an hour of 1 s cycles, closed over a plant where each car
draws the lower of its limit and what it wants, and the meter sees the building and the
cars. Cars that take less than their share are capped at what they take + the margin;
the cap must hold (it flipped every cycle: 2,640 changes an hour per capped car, and
the others' shares with it), only the probe every ``probe_interval_s`` moves it."""

from __future__ import annotations

import dataclasses
import statistics

import pytest

from hub_engine.ems import Snapshot, allocate, next_snapshot
from hub_engine.ems.model import Reading
from tests.unit.ems_helpers import car, snap

WANTS_A = {"c0": 32, "c1": 32, "c2": 16, "c3": 10, "c4": 7.5, "c5": 32, "c6": 13, "c7": 9}
BUILDING_A = 10.0


def _plant(s: Snapshot) -> Snapshot:
    draws = {c.id: min(WANTS_A[c.id], c.may_draw_a or 0.0) for c in s.connectors}
    conns = tuple(dataclasses.replace(c, session=dataclasses.replace(
        c.session, measured_a=(draws[c.id],) * 3, measured_age_s=0.0))
        for c in s.connectors if c.session is not None)
    total = BUILDING_A + sum(draws.values())
    meter = Reading((total, total, total), 0.0)
    return dataclasses.replace(s, connectors=conns,
                               nodes=(dataclasses.replace(s.nodes[0], meter=meter),))


def hour(limit_a: float) -> dict[str, list[tuple[int, float]]]:
    """Per connector, its setpoint changes: (cycle, new limit)."""
    s = snap([{"id": "g", "limit_a": limit_a, "margin_a": 3,
               "meter": {"current_a": [BUILDING_A] * 3, "age_s": 0}}],
             [car(c, may_draw_a=0, session={"measured_a": [0, 0, 0], "measured_age_s": 0})
              for c in WANTS_A], now_s=0)
    changes: dict[str, list[tuple[int, float]]] = {c: [] for c in WANTS_A}
    last: dict[str, float] = {}
    for k in range(3600):
        alloc = allocate(s)
        for sp in alloc.setpoints:
            if last.get(sp.connector_id) != sp.limit_a:
                changes[sp.connector_id].append((k, sp.limit_a))
            last[sp.connector_id] = sp.limit_a
        s = _plant(next_snapshot(s, alloc, dt_s=1.0))
    return changes


@pytest.mark.parametrize("limit_a", [100, 150])
def test_an_hour_of_cycles_settles(limit_a: float) -> None:
    changes = hour(limit_a)
    probes = (3600 - 300) / 300  # one probe per 5 minutes once settled
    for cid, seen in changes.items():
        late = [k for k, _ in seen if k >= 300]
        # A probe: up (at most in two steps, headroom first), then back: 3 changes.
        assert len(late) <= 3 * probes, (cid, len(late), seen[:8])
    if limit_a == 150:  # what the capped cars leave goes to those that want it
        at = dict(changes["c0"])
        level, c0 = 0.0, []
        for k in range(3600):
            level = at.get(k, level)
            c0.append(level)
        assert statistics.median(c0[300:]) >= 23.0, changes["c0"][:8]
