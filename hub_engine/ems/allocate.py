"""``allocate(snapshot) -> Allocation``: the EMS decision, a pure function.

Order (DESIGN "The EMS", step 4): (a) safety: every node's per-phase and power capacity,
after its non-charging load, bounds the sum of its connectors; connectors that are silent
stay reserved at what they may draw; (b) strict priority tiers, highest first, each tier
using only what the tiers above left; (c) within a tier, who gets the minimum (rotation);
(d) the current each car's departure plan needs (max-min fair among the plans when they
do not all fit), then weighted max-min fairness of the rest, in amps per phase or in
watts.

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
from hub_engine.ems.rotation import (
    Entries,
    locked_off,
    next_rotation,
    select_minimum,
    waiting,
)
from hub_engine.ems.tree import NodeCapacity, Tree, active_limits, node_capacities

__all__ = ["allocate"]


class _Rows:
    """Constraint rows of the tree: three phase rows and one total row per limited node.

    Rows that cannot bind (every connector under them at its maximum, or at what it may
    still draw, fits) are left out: on a big site most charge points' own circuit rows.
    """

    def __init__(self, tree: Tree, caps: dict[str, NodeCapacity], items: list[Item]) -> None:
        node_ids = list(tree.nodes)
        capmat = np.array([(*caps[k].phase_a, caps[k].total_a) for k in node_ids], dtype=float)
        finite = np.isfinite(capmat)
        table = np.where(finite, np.cumsum(finite.ravel()).reshape(finite.shape) - 1, -1)
        cap_all = capmat[finite]
        n = len(items)
        depth = tree.path_matrix.shape[1]
        path = np.full((n, depth), -1, dtype=np.int64)
        where = np.zeros(n, dtype=np.int64)
        mask = np.zeros((n, 4), dtype=bool)
        mask[:, 3] = True
        phase_coef = np.array([it.phase_coef for it in items], dtype=float)
        total_coef = np.array([it.total_coef for it in items], dtype=float)
        if items:
            where = np.array([tree.position[it.conn.node] for it in items], dtype=np.int64)
            path = tree.path_matrix[where, :depth]
        mask[[it.index for it in items for _ in it.phases],
             [p for it in items for p in it.phases]] = True
        # Triplets (row, item, coef) for every (node on the path, phase or total).
        rows_3d = np.where(path[:, :, None] >= 0, table[np.maximum(path, 0)], -1)
        valid = (rows_3d >= 0) & mask[:, None, :]
        item_3d = np.broadcast_to(np.arange(n)[:, None, None], rows_3d.shape)
        coef_3d = np.broadcast_to(np.concatenate(
            [np.repeat(phase_coef[:, None], 3, axis=1), total_coef[:, None]], axis=1
        )[:, None, :], rows_3d.shape)
        row_a, item_a, coef_a = rows_3d[valid], item_3d[valid], coef_3d[valid]
        self.where, self.phase_mask, self.phase_coef = where, mask[:, :3], phase_coef
        self.may_draw = np.array([it.may_draw for it in items], dtype=float)
        most = np.maximum(np.array([it.hi for it in items], dtype=float), self.may_draw)
        worst = np.bincount(row_a, weights=coef_a * most[item_a], minlength=len(cap_all))
        live = worst > cap_all + 1e-9
        renum = np.cumsum(live) - 1
        keep = live[row_a]
        row_a, item_a, coef_a = renum[row_a[keep]], item_a[keep], coef_a[keep]
        self.capacity = cap_all[live]
        order = np.argsort(item_a, kind="stable")
        row_a, item_a, coef_a = row_a[order], item_a[order], coef_a[order]
        self.entries = Entries(row_a, coef_a, np.searchsorted(item_a, np.arange(n + 1)))
        self.cons = Constraints(row_a, item_a, coef_a, self.capacity)

    def with_capacity(self, capacity: Floats) -> Constraints:
        return Constraints(self.cons.row, self.cons.item, self.cons.coef, capacity)


def _targets(items: list[Item], rows: _Rows, snapshot: Snapshot, forced: set[int]
             ) -> tuple[Floats, set[int]]:
    n = len(items)
    target = np.zeros(n)
    if snapshot.inputs.fire_alarm:
        return target, set()
    may = rows.may_draw
    fixed = np.array([0.0 if it.conn.responsive else 1.0 for it in items])
    target += may * fixed
    room = rows.capacity - rows.cons.load(may * fixed)
    chosen_all: set[int] = set()
    for tier in sorted({it.conn.tier for it in items if it.participates}, reverse=True):
        in_tier = [it for it in items if it.participates and it.conn.tier == tier]
        chosen = select_minimum(in_tier, rows.entries, rows.cons, room.copy(), snapshot.params,
                                snapshot.now_s, forced)
        lo, hi, w = np.zeros(n), np.zeros(n), np.ones(n)
        picked = [it for it in in_tier if it.index in chosen]
        where = [it.index for it in picked]
        lo[where] = [it.lo for it in picked]
        hi[where] = [it.hi for it in picked]
        w[where] = [it.weight for it in picked]
        cons = rows.with_capacity(room)
        planned = [it for it in picked if it.need > it.lo]
        if planned:  # what the departure plans need first, then the rest shared fairly
            need = lo.copy()
            need[[it.index for it in planned]] = [it.need for it in planned]
            lo = fill(lo, need, w, cons)
        x = fill(lo, hi, w, cons)
        room = room - rows.cons.load(x)
        target += x
        chosen_all |= chosen
    _lower_reserved(items, rows, room, target)
    return target, chosen_all


def _lower_reserved(items: list[Item], rows: _Rows, room: Floats, target: Floats) -> None:
    """A connector reserved at what it may draw (refusing, unanswered, ignoring, offline)
    still counts at that; but what it is *sent* is the most that fits once everyone is
    counted, so that where its node is over, it is asked to decrease. It was re-sent
    what it may draw: one unanswered call, and the only car that could make room was
    never asked to (47 A on a 40 A supply until its profile expired)."""
    if not (room < -1e-9).any():
        return
    for it in items:
        if it.conn.responsive:
            continue
        short = min([0.0] + [float(room[r]) / c for r, c in rows.entries.of(it.index) if c > 0])
        if short < 0:
            target[it.index] = max(0.0, target[it.index] + short)


def _gate(items: list[Item], target: Floats, rows: _Rows) -> Floats:
    """Setpoints: decreases at once; increases only within confirmed headroom."""
    n = len(items)
    may = rows.may_draw
    setpoint = np.minimum(target, may)
    headroom = rows.capacity - rows.cons.load(may)
    up = (target > may + 1e-9).tolist()
    rising = [it for it in items if up[it.index]]
    lo, hi, w = np.zeros(n), np.zeros(n), np.ones(n)
    # A paused connector restarts only if its whole minimum fits; most senior tier first.
    for it in sorted(rising, key=lambda i: (-i.conn.tier, i.conn.id)):
        need = it.lo - may[it.index]
        if need > 0:
            rows_of = rows.entries.of(it.index)
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


def _overload(items: list[Item], rows: _Rows) -> list[float]:
    """Per connector: how far (A) the most loaded node above it is over its capacity,
    counting every connector at what it may draw (0: none is). The applier sends the
    decreases under the worst overloaded nodes first."""
    if not items:
        return []
    over = rows.cons.load(rows.may_draw) - rows.capacity
    if not (over > 1e-9).any():
        return [0.0] * len(items)
    return [max([0.0] + [float(over[r]) for r, _ in rows.entries.of(it.index)])
            for it in items]


def _counted(rows: _Rows, final: list[float], tree: Tree) -> list[list[float]]:
    """Per node (in position order) and phase, the charging load counted at max(may
    draw, new setpoint). Every phase of every node, including rows left out of the
    filling as never binding.
    """
    load = rows.phase_coef * np.maximum(np.array(final, dtype=float), rows.may_draw)
    own = np.zeros((len(tree.position), 3))
    np.add.at(own, rows.where, rows.phase_mask * load[:, None])
    counted: list[list[float]] = tree.carry_up(own).tolist()
    return counted


def _finite(x: float) -> float | None:
    return x if math.isfinite(x) else None


def allocate(snapshot: Snapshot) -> Allocation:
    """Compute every connector's limit for this cycle (see the module docstring)."""
    tree = Tree(snapshot.nodes)
    limits = active_limits(snapshot.external_limits, snapshot.now_s)  # once per call
    caps = node_capacities(snapshot, tree, limits)
    items = prepare(snapshot, tree, limits)
    rows = _Rows(tree, caps, items)
    forced: set[int] = set()
    target, chosen = _targets(items, rows, snapshot, forced)
    setpoint = _gate(items, target, rows)
    overload = _overload(items, rows)
    overloaded = any(overload)
    warnings: list[str] = []
    out: list[ConnectorSetpoint] = []
    setpoints, targets = setpoint.tolist(), target.tolist()
    final: list[float] = [0.0] * len(items)
    fire = snapshot.inputs.fire_alarm
    params, now_s = snapshot.params, snapshot.now_s
    for it in items:
        conn, i = it.conn, it.index
        x = setpoints[i]
        if not conn.dc and 0 < x < it.lo - 1e-9:
            x = 0.0
        # Rounded down to 0.1 (x ≥ 0, so int() is floor); the 1e-6 absorbs float noise.
        limit_a = int(x * 10 + 1e-6) / 10
        limit_w = (int(x * it.watts_per_a * 10 + 1e-6) / 10
                   if conn.control == "W" or conn.dc else None)
        final[i] = limit_w / it.watts_per_a if limit_w is not None else limit_a
        reason = it.reason
        if fire:
            reason = "fire alarm"
        elif it.participates and i not in chosen:
            reason = ("paused: minimum off time" if locked_off(it, params, now_s)
                      else "paused: not enough power for the minimum")
        elif targets[i] > setpoints[i] + 0.05:
            reason = "rising: waiting for confirmed headroom"
        rot = it.rotation
        if it.participates and final[i] <= 0 and (i in forced or (
                snapshot.restarting and i not in chosen)):
            rot = waiting(it.rotation, conn.session, now_s)
        elif it.participates and (final[i] > 0 or i not in chosen):
            # What the car really gets decides its rotation clock, not the selection: a
            # start held back for confirmed headroom neither starts its minimum on-time
            # nor counts as a pause (it keeps its state until it really starts).
            rot = next_rotation(it, final[i] > 0, params, now_s)
        out.append(ConnectorSetpoint(
            conn.id, limit_a, limit_w, math.floor(targets[i] * 10 + 1e-6) / 10, reason, rot,
            round(overload[i], 3) if overloaded else 0.0, conn.phases_cmd))
    counted = _counted(rows, final, tree)
    reports = []
    for node_id, cap in caps.items():
        c = counted[tree.position[node_id]]
        reports.append(NodeReport(node_id, cap.non_ev_a, cap.non_ev_used_a, cap.phase_a,
                                  (c[0], c[1], c[2]), cap.meter_status,
                                  _finite(cap.limit_a), _finite(cap.limit_w)))
        if cap.meter_status == "stale":
            warnings.append(f"meter of {node_id} is silent: counting its fallback load")
        if min(cap.phase_a) < 0:
            warnings.append(f"{node_id} is overloaded before any charging")
    return Allocation(tuple(out), tuple(reports), tuple(warnings))
