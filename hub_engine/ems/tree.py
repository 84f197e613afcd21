"""The site tree as the allocation sees it: paths, voltages, and each node's capacity.

Capacity for charging under a node = its limit − margin − the non-charging load under it.
The non-charging load is estimated conservatively (DESIGN "The EMS", step 2): a site meter
read each second minus charge-point MeterValues up to a minute old underestimates the
building while EVs ramp down, so the larger of this cycle's and recent cycles' estimates
is used. A silent meter counts at its node's configured fallback load (or the whole limit,
leaving nothing to charge, when no fallback is configured: the site limit wins).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from hub_engine.ems.fill import Floats
from hub_engine.ems.model import Connector, ExternalLimit, Node, Phases3, Snapshot

__all__ = ["ActiveLimits", "NodeCapacity", "Tree", "active_limits", "node_capacities"]

DEFAULT_VOLTAGE_V = 230.0
ZERO: Phases3 = (0.0, 0.0, 0.0)


class _Shape:
    """What a tree's structure alone decides: built once per structure, not per cycle."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        by_id = {n.id: n for n in nodes}
        self.path: dict[str, tuple[str, ...]] = {}
        self.voltage_v: dict[str, float] = {}
        for node in nodes:
            chain = [node.id]
            cur = node
            while cur.parent is not None:
                cur = by_id[cur.parent]
                chain.append(cur.id)
            self.path[node.id] = tuple(chain)
            volt = next((by_id[i].voltage_v for i in chain if by_id[i].voltage_v), None)
            self.voltage_v[node.id] = volt or DEFAULT_VOLTAGE_V
        # Children before parents, so bottom-up sums see every child first.
        self.bottom_up = sorted(by_id, key=lambda i: -len(self.path[i]))
        self.position = {node_id: k for k, node_id in enumerate(by_id)}
        depth = max((len(chain) for chain in self.path.values()), default=1)
        # Row k: the positions of node k and its ancestors, padded with -1.
        matrix = np.full((len(by_id), depth), -1, dtype=np.int64)
        for node_id, ancestors in self.path.items():
            matrix[self.position[node_id], : len(ancestors)] = [self.position[c]
                                                                for c in ancestors]
        matrix.flags.writeable = False  # shared by every cycle's Tree
        self.path_matrix = matrix


_SHAPES: dict[tuple[tuple[str, str | None, float | None], ...], _Shape] = {}


def _shape(nodes: tuple[Node, ...]) -> _Shape:
    key = tuple((n.id, n.parent, n.voltage_v) for n in nodes)
    shape = _SHAPES.get(key)
    if shape is None:
        if len(_SHAPES) >= 8:  # a site edited many times: keep the memory bounded
            _SHAPES.clear()
        shape = _SHAPES[key] = _Shape(nodes)
    return shape


class Tree:
    """Parent links resolved once: ancestors (self first) and voltage of every node.

    The structure is shared between the cycles of an unchanged site (the EMS loop builds
    a Tree every second from fresh nodes; only their readings change)."""

    def __init__(self, nodes: tuple[Node, ...]) -> None:
        self.nodes = {n.id: n for n in nodes}
        shape = _shape(nodes)
        self.path, self.voltage_v = shape.path, shape.voltage_v
        self.bottom_up, self.position = shape.bottom_up, shape.position
        self.path_matrix = shape.path_matrix

    def carry_up(self, own: Floats) -> Floats:
        """Each node's value (rows in position order) plus all its descendants'."""
        total = own.copy()
        for column in self.path_matrix.T[1:]:
            above = column >= 0
            np.add.at(total, column[above], own[above])
        return total


@dataclass(frozen=True)
class NodeCapacity:
    phase_a: Phases3  # per-phase capacity for charging (may be negative: overloaded)
    total_a: float  # sum over phases, from kVA / W limits (inf when none)
    non_ev_a: Phases3
    non_ev_used_a: Phases3
    meter_status: Literal["fresh", "stale", "none"]
    # The node's limits in force: its rating lowered by external limits (inf: none).
    limit_a: float = math.inf
    limit_w: float = math.inf


ActiveLimits = dict[str, list[tuple[float | None, float | None, str]]]


_LIVE_A = 1.0  # a phase drawing less than this is not used by the car


def active_limits(limits: tuple[ExternalLimit, ...], now_s: float) -> ActiveLimits:
    """External limits in force now, by target: (limit_a, limit_w, source)."""
    out: ActiveLimits = {}
    for lim in limits:
        if now_s < lim.starts_s:
            continue
        if now_s < lim.expires_s:
            out.setdefault(lim.target, []).append((lim.limit_a, lim.limit_w, lim.source))
        elif lim.on_expiry == "hold":
            out.setdefault(lim.target, []).append((lim.fallback_a, lim.fallback_w,
                                                    f"{lim.source} (expired, held)"))
    return out


def _may_draw(conn: Connector, volt: float) -> tuple[float, float]:
    """What the connector may draw, in A: on any one phase, and in all (its power over
    the volts). A W-limited car whose phases are unknown may put all of it on one."""
    n = len(conn.phases)
    s = conn.session
    if conn.control == "W" or conn.dc:
        may_w = conn.may_draw_w if conn.may_draw_w is not None else conn.max_power_w
        if may_w is None:
            return conn.max_current_a, n * conn.max_current_a
        known = s is not None and s.ev_phases is not None and not conn.dc
        k = min(s.ev_phases, n) if known and s is not None and s.ev_phases else 1
        return may_w / (k * volt), may_w / volt
    may_a = conn.may_draw_a if conn.may_draw_a is not None else conn.max_current_a
    return may_a, n * may_a


def _ev_current_by_node(snapshot: Snapshot, tree: Tree
                        ) -> tuple[list[list[float]], list[list[float]], list[float]]:
    """What the cars draw under each node, by the node's position in the tree: (as
    measured, with the ramp credits, and in the first place the part of the measured not
    counted in the node's total).

    A reading is never taken for more than the connector may draw now, on a phase or in
    all (a stale reading after a decrease, a unit mix-up, an unlabelled value read on
    every phase): subtracted from the meter, the excess would make the building look
    lighter by it. A W-limited single-phase car whose unlabelled 20 A stood for each
    phase took 60 A off the building's total while it drew 20 (the field week found a
    kVA subscription exceeded that way): in all, at most its power over the volts.
    """
    timeout = snapshot.params.measurement_timeout_s
    volts, position = tree.voltage_v, tree.position
    # Flat (node position × 3 + grid phase) slots, summed and carried up in numpy below.
    slot: list[int] = []
    took: list[float] = []
    cred: list[float] = []
    over_at: list[int] = []
    over_a: list[float] = []
    for conn in snapshot.connectors:
        s = conn.session
        if s is None:
            continue
        m = s.measured_a
        fresh = m is not None and (s.measured_age_s or 0.0) <= timeout
        ramp = s.ramp_credit_a
        if not fresh and ramp <= 0:
            continue
        node, phases = conn.node, conn.phases
        per_phase, in_all = _may_draw(conn, volts[node])
        cap = min(conn.max_current_a, per_phase)
        taken = ([min(max(m[k], 0.0), cap) for k in range(len(phases))]
                 if fresh and m is not None else [0.0] * len(phases))
        over = sum(taken) - in_all
        if over > 0:
            over_at.append(position[node])
            over_a.append(over)
        base = 3 * position[node]
        slot.extend([base + p for p in phases])
        took.extend(taken)
        if ramp <= 0:  # no credit: counted as measured
            cred.extend(taken)
            continue
        # A phase the car is measured not to use gets no credit (a 1-phase car on L1).
        live = ([k < len(phases) and m[k] >= _LIVE_A for k in range(3)]
                if fresh and m is not None and max(m) >= _LIVE_A else [True, True, True])
        # A W-limited car of unknown phases may ramp its whole power on one phase.
        ramp_a = per_phase if conn.control == "W" else ramp
        cred.extend([max(taken[k], ramp_a if live[k] else 0.0) for k in range(len(phases))])
    n = len(position)
    where = np.array(slot, dtype=np.int64)
    ev = np.bincount(where, weights=took, minlength=3 * n).astype(np.float64).reshape(n, 3)
    credited = np.bincount(where, weights=cred, minlength=3 * n).astype(np.float64).reshape(
        n, 3)
    excess = np.bincount(np.array(over_at, dtype=np.int64), weights=over_a,
                         minlength=n).astype(np.float64)
    return (tree.carry_up(ev).tolist(), tree.carry_up(credited).tolist(),
            tree.carry_up(excess).tolist())


def _estimate(node: Node, measured: list[float], credited: list[float]) -> Phases3:
    """Meter minus the cars, the cars counted with the part of their ramp credit that
    the meter's rise above its recent floor can explain."""
    assert node.meter is not None
    signed, floor = node.meter.signed_a(), node.meter_floor_a
    out = []
    for p in range(3):
        credit = credited[p] - measured[p]
        rise = max(0.0, signed[p] - floor[p]) if floor is not None else 0.0
        out.append(signed[p] - measured[p] - min(credit, rise))
    return (out[0], out[1], out[2])


def node_capacities(snapshot: Snapshot, tree: Tree, limits: ActiveLimits
                    ) -> dict[str, NodeCapacity]:
    params = snapshot.params
    ev, ev_credited, excess = _ev_current_by_node(snapshot, tree)
    position = tree.position
    used: dict[str, Phases3] = {}
    raw: dict[str, Phases3] = {}
    status: dict[str, Literal["fresh", "stale", "none"]] = {}
    # What the children of each node carry, summed as the walk goes up the tree.
    below: dict[str, list[float]] = {n: [0.0, 0.0, 0.0] for n in tree.nodes}
    for node_id in tree.bottom_up:
        node = tree.nodes[node_id]
        b = below[node_id]
        if node.meter is not None and node.meter.age_s <= params.meter_timeout_s:
            k = position[node_id]
            est = _estimate(node, ev[k], ev_credited[k])
            raw[node_id] = est
            u0, u1, u2 = est
            for h in node.non_ev_history_a:
                u0, u1, u2 = max(u0, h[0]), max(u1, h[1]), max(u2, h[2])
            used[node_id] = (u0, u1, u2)
            status[node_id] = "fresh"
        else:
            stale = node.has_meter or node.meter is not None
            status[node_id] = "stale" if stale else "none"
            if node.fallback_load_a is not None:
                base = node.fallback_load_a
            elif stale:
                lim = node.limit_a if node.limit_a is not None else math.inf
                base = (lim, lim, lim)
            else:
                base = ZERO
            # A node without a fresh reading carries at least what its children measured.
            if stale:
                used[node_id] = (max(base[0], b[0]), max(base[1], b[1]), max(base[2], b[2]))
            else:
                used[node_id] = (base[0] + b[0], base[1] + b[1], base[2] + b[2])
            raw[node_id] = used[node_id]
        if node.parent is not None:
            u, up = used[node_id], below[node.parent]
            up[0] += u[0]
            up[1] += u[1]
            up[2] += u[2]
    out: dict[str, NodeCapacity] = {}
    for node_id, node in tree.nodes.items():
        volt = tree.voltage_v[node_id]
        limit_a = node.limit_a if node.limit_a is not None else math.inf
        total_w = min(node.limit_va or math.inf, node.limit_w or math.inf)
        for lim_a, lim_w, _ in limits.get(node_id, []):
            if lim_a is not None:
                limit_a = min(limit_a, lim_a)
            if lim_w is not None:
                total_w = min(total_w, lim_w)
        u = used[node_id]
        if not (math.isfinite(u[0]) and math.isfinite(u[1]) and math.isfinite(u[2])):
            # A silent meter on a node without a current rating: nothing is known, give 0.
            out[node_id] = NodeCapacity(ZERO, 0.0, raw[node_id], u, status[node_id],
                                        limit_a, total_w)
            continue
        phase = (limit_a - node.margin_a - u[0], limit_a - node.margin_a - u[1],
                 limit_a - node.margin_a - u[2])
        # Meter minus the cars, in all: minus what they may draw at most, not the sum of
        # readings that stand for any phase. The excess mends the raw estimate only: a
        # phase already raised to its recent peak needs no mending, and mending it again
        # counted a W-limited single-phase car's unlabelled 27 A twice over (a total
        # capacity of -27 A paused it each time it was measured).
        in_all = sum(u)
        if status[node_id] == "fresh":
            in_all = max(in_all, sum(raw[node_id]) + excess[position[node_id]])
        total = total_w / volt - 3 * node.margin_a - in_all if total_w < math.inf else math.inf
        out[node_id] = NodeCapacity(phase, total, raw[node_id], u, status[node_id],
                                    limit_a, total_w)
    return out
