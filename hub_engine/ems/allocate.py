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
    """Constraint rows of the tree: three phase rows and one total row per limited node.

    Rows that cannot bind (every connector under them at its maximum, or at what it may
    still draw, fits) are left out: on a big site most charge points' own circuit rows.
    """

    def __init__(self, tree: Tree, caps: dict[str, NodeCapacity], items: list[Item]) -> None:
        node_ids = list(caps)
        node_pos = {node_id: k for k, node_id in enumerate(node_ids)}
        table = np.full((len(node_ids), 4), -1, dtype=np.int64)
        capacity: list[float] = []
        for k, node_id in enumerate(node_ids):
            cap = caps[node_id]
            for p, value in enumerate((*cap.phase_a, cap.total_a)):
                if math.isfinite(value):
                    table[k, p] = len(capacity)
                    capacity.append(value)
        n = len(items)
        depth = max((len(tree.path[it.conn.node]) for it in items), default=1)
        path = np.full((n, depth), -1, dtype=np.int64)
        mask = np.zeros((n, 4), dtype=bool)
        coef = np.zeros((n, 4))
        for it in items:
            chain = tree.path[it.conn.node]
            path[it.index, : len(chain)] = [node_pos[c] for c in chain]
            mask[it.index, list(it.phases)] = True
            mask[it.index, 3] = True
            coef[it.index, :3] = it.phase_coef
            coef[it.index, 3] = it.total_coef
        rows_l, items_l, coefs_l = [], [], []
        item_ids = np.arange(n)
        for d in range(depth):
            nodes = path[:, d]
            for p in range(4):
                row = np.where(nodes >= 0, table[np.maximum(nodes, 0), p], -1)
                keep = (row >= 0) & mask[:, p]
                rows_l.append(row[keep])
                items_l.append(item_ids[keep])
                coefs_l.append(coef[keep, p])
        row_a = np.concatenate(rows_l) if rows_l else np.zeros(0, dtype=np.int64)
        item_a = np.concatenate(items_l) if items_l else np.zeros(0, dtype=np.int64)
        coef_a = np.concatenate(coefs_l) if coefs_l else np.zeros(0)
        cap_a = np.array(capacity, dtype=float)
        most = np.array([max(it.hi, it.may_draw) for it in items]) if items else np.zeros(0)
        worst = np.bincount(row_a, weights=coef_a * most[item_a], minlength=len(cap_a))
        live = worst > cap_a - 1e-9
        renum = np.cumsum(live) - 1
        keep = live[row_a]
        row_a, item_a, coef_a = renum[row_a[keep]], item_a[keep], coef_a[keep]
        self.capacity = cap_a[live]
        self.index: dict[tuple[str, int], int] = {}
        for k, node_id in enumerate(node_ids):
            for p in range(4):
                r = table[k, p]
                if r >= 0 and live[r]:
                    self.index[(node_id, p)] = int(renum[r])
        order = np.argsort(item_a, kind="stable")
        row_s, coef_s = row_a[order].tolist(), coef_a[order].tolist()
        bounds = np.searchsorted(item_a[order], np.arange(n + 1)).tolist()
        self.entries: dict[int, list[tuple[int, float]]] = {
            i: list(zip(row_s[bounds[i]:bounds[i + 1]], coef_s[bounds[i]:bounds[i + 1]],
                        strict=True))
            for i in range(n)
        }
        self.cons = Constraints(row_a, item_a, coef_a, self.capacity)

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
    # Reports count every phase of every node, including rows left out as never binding.
    counted: dict[str, list[float]] = {node_id: [0.0, 0.0, 0.0] for node_id in caps}
    for it in items:
        load = it.phase_coef * max(float(final[it.index]), it.may_draw)
        for node_id in tree.path[it.conn.node]:
            per_phase = counted[node_id]
            for p in it.phases:
                per_phase[p] += load
    reports = []
    for node_id, cap in caps.items():
        c = counted[node_id]
        reports.append(NodeReport(node_id, cap.non_ev_a, cap.non_ev_used_a, cap.phase_a,
                                  (round(c[0], 3), round(c[1], 3), round(c[2], 3)),
                                  cap.meter_status))
        if cap.meter_status == "stale":
            warnings.append(f"meter of {node_id} is silent: counting its fallback load")
        if min(cap.phase_a) < 0:
            warnings.append(f"{node_id} is overloaded before any charging")
    return Allocation(tuple(out), tuple(reports), tuple(warnings))
