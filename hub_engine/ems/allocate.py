"""``allocate(snapshot) -> Allocation``: the EMS decision, a pure function.

Order (DESIGN "The EMS", step 4): (a) safety: every node's per-phase and power capacity,
after its non-charging load, bounds the sum of its connectors; connectors that are silent
stay reserved at what they may draw; (b) strict priority tiers, highest first, each tier
using only what the tiers above left; (c) within a tier, who gets the minimum (rotation);
(d) weighted max-min fairness of the rest, in amps per phase or in watts.

Then step 5's invariant is applied to the targets: a connector counts at the higher of
what it may still be drawing and its new setpoint, so decreases are given at once and
increases only from headroom that is already confirmed; the rest follows next cycles.
"""

from __future__ import annotations

import math

import numpy as np

from hub_engine.ems.fill import Constraints, Floats, fill
from hub_engine.ems.model import (
    Allocation,
    ConnectorSetpoint,
    NodeReport,
    Snapshot,
)
from hub_engine.ems.prepare import Item, prepare
from hub_engine.ems.rotation import next_rotation, select_minimum
from hub_engine.ems.tree import NodeCapacity, Tree, node_capacities

__all__ = ["allocate"]


class _Rows:
    """Constraint rows of the tree: three phase rows and one total row per limited node."""

    def __init__(self, tree: Tree, caps: dict[str, NodeCapacity], items: list[Item]) -> None:
        self.index: dict[tuple[str, int], int] = {}
        capacity: list[float] = []
        for node_id, cap in caps.items():
            for p in range(3):
                if math.isfinite(cap.phase_a[p]):
                    self.index[(node_id, p)] = len(capacity)
                    capacity.append(cap.phase_a[p])
            if math.isfinite(cap.total_a):
                self.index[(node_id, 3)] = len(capacity)
                capacity.append(cap.total_a)
        self.capacity = np.array(capacity, dtype=float)
        self.entries: dict[int, list[tuple[int, float]]] = {}
        rows: list[int] = []
        cols: list[int] = []
        coefs: list[float] = []
        for item in items:
            mine: list[tuple[int, float]] = []
            for node_id in tree.path[item.conn.node]:
                for p in item.phases:
                    row = self.index.get((node_id, p))
                    if row is not None:
                        mine.append((row, item.phase_coef))
                row = self.index.get((node_id, 3))
                if row is not None:
                    mine.append((row, item.total_coef))
            self.entries[item.index] = mine
            for row, coef in mine:
                rows.append(row)
                cols.append(item.index)
                coefs.append(coef)
        self.cons = Constraints(np.array(rows, dtype=np.int64), np.array(cols, dtype=np.int64),
                                np.array(coefs, dtype=float), self.capacity)

    def with_capacity(self, capacity: Floats) -> Constraints:
        return Constraints(self.cons.row, self.cons.item, self.cons.coef, capacity)


def _targets(items: list[Item], rows: _Rows, snapshot: Snapshot) -> tuple[Floats, set[int]]:
    n = len(items)
    target = np.zeros(n)
    if snapshot.inputs.fire_alarm:
        return target, set()
    may = np.array([it.may_draw for it in items])
    fixed = np.array([0.0 if it.conn.responsive else 1.0 for it in items])
    target += may * fixed
    room = rows.capacity - rows.cons.load(may * fixed)
    chosen_all: set[int] = set()
    for tier in sorted({it.conn.tier for it in items if it.participates}, reverse=True):
        in_tier = [it for it in items if it.participates and it.conn.tier == tier]
        chosen = select_minimum(in_tier, rows.entries, room.copy(), snapshot.params,
                                snapshot.now_s)
        lo, hi, w = np.zeros(n), np.zeros(n), np.ones(n)
        for it in in_tier:
            if it.index in chosen:
                lo[it.index], hi[it.index], w[it.index] = it.lo, it.hi, it.weight
        x = fill(lo, hi, w, rows.with_capacity(room))
        room = room - rows.cons.load(x)
        target += x
        chosen_all |= chosen
    return target, chosen_all


def _gate(items: list[Item], target: Floats, rows: _Rows) -> Floats:
    """Setpoints: decreases at once; increases only within confirmed headroom."""
    n = len(items)
    may = np.array([it.may_draw for it in items])
    setpoint = np.minimum(target, may)
    headroom = rows.capacity - rows.cons.load(may)
    rising = [it for it in items if target[it.index] > may[it.index] + 1e-9]
    lo, hi, w = np.zeros(n), np.zeros(n), np.ones(n)
    # A paused connector restarts only if its whole minimum fits; most senior tier first.
    for it in sorted(rising, key=lambda i: (-i.conn.tier, i.conn.id)):
        need = it.lo - may[it.index]
        if need > 0:
            rows_of = rows.entries[it.index]
            if not all(headroom[r] - c * need >= -1e-9 for r, c in rows_of):
                continue
            for r, c in rows_of:
                headroom[r] -= c * need
            lo[it.index] = need
        hi[it.index] = target[it.index] - may[it.index]
        w[it.index] = it.weight
    room = np.maximum(headroom + rows.cons.load(lo), rows.cons.load(lo))
    delta = fill(lo, np.maximum(hi, lo), w, rows.with_capacity(room))
    result: Floats = setpoint + delta
    return result


def _floor(value: float) -> float:
    return math.floor(value * 10 + 1e-6) / 10


def allocate(snapshot: Snapshot) -> Allocation:
    """Compute every connector's limit for this cycle (see the module docstring)."""
    tree = Tree(snapshot.nodes)
    caps = node_capacities(snapshot, tree)
    items = prepare(snapshot, tree)
    rows = _Rows(tree, caps, items)
    target, chosen = _targets(items, rows, snapshot)
    setpoint = _gate(items, target, rows)
    warnings: list[str] = []
    out: list[ConnectorSetpoint] = []
    final = np.zeros(len(items))
    for it in items:
        x = float(setpoint[it.index])
        if not it.conn.dc and 0 < x < it.lo - 1e-9:
            x = 0.0
        limit_a = _floor(x)
        by_watts = it.conn.control == "W" or it.conn.dc
        limit_w = _floor(x * it.watts_per_a) if by_watts else None
        final[it.index] = limit_w / it.watts_per_a if limit_w is not None else limit_a
        reason = it.reason
        if snapshot.inputs.fire_alarm:
            reason = "fire alarm"
        elif it.participates and it.index not in chosen:
            reason = "paused: not enough power for the minimum"
        elif target[it.index] > setpoint[it.index] + 0.05:
            reason = "rising: waiting for confirmed headroom"
        rot = None
        if it.rotation is not None or it.conn.session is not None:
            # What the car really gets decides its rotation clock, not the selection: a
            # start held back one cycle for headroom must not eat into its minimum on-time.
            on = final[it.index] > 0
            rot = next_rotation(it, on, snapshot.params, snapshot.now_s) if it.participates \
                else it.rotation
        out.append(ConnectorSetpoint(it.conn.id, limit_a, limit_w,
                                     _floor(float(target[it.index])), reason, rot))
    counted = rows.cons.load(np.maximum(final, np.array([it.may_draw for it in items])))
    reports = []
    for node_id, cap in caps.items():
        phase_counted = tuple(
            float(counted[rows.index[(node_id, p)]]) if (node_id, p) in rows.index else 0.0
            for p in range(3))
        reports.append(NodeReport(node_id, cap.non_ev_a, cap.non_ev_used_a, cap.phase_a,
                                  (phase_counted[0], phase_counted[1], phase_counted[2]),
                                  cap.meter_status))
        if cap.meter_status == "stale":
            warnings.append(f"meter of {node_id} is silent: counting its fallback load")
        if min(cap.phase_a) < 0:
            warnings.append(f"{node_id} is overloaded before any charging")
    return Allocation(tuple(out), tuple(reports), tuple(warnings))
