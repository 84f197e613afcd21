"""An independent, slow safety check of an allocation: the oracle of the property tests,
and a runtime assertion (``ems.self_check``).

Written from DESIGN.md "The EMS", sharing nothing with :func:`allocate` but the data
model: plain loops, no numpy, its own capacity of every node. Where the design leaves
room it is the more permissive of the two (a car's ramp credit lowers the building
estimate as far as it can; an expired external limit is gone; a node without a meter
carries no load of its own), so that what it reports is a real breach: a node, phase or
connector over its limit with every connector counted at the higher of what it may draw
and its new setpoint, while some connector under it was raised.
"""

from __future__ import annotations

from hub_engine.ems.model import Allocation, Connector, ConnectorSetpoint, Node, Snapshot

__all__ = ["violations", "weights_on_phases"]

_EPS = 1e-6


def _n(conn: Connector) -> int:
    """The phases the car draws on (all of the charge point's if unknown)."""
    s = conn.session
    return len(conn.phases[: s.ev_phases]) if s and s.ev_phases and not conn.dc else len(
        conn.phases)


def _per_phase(conn: Connector, sp: ConnectorSetpoint | None, volt: float) -> tuple[float, float]:
    """(setpoint, may draw) in A per phase of the car."""
    n = _n(conn)
    if conn.control == "W" or conn.dc:
        set_w = (sp.limit_w or 0.0) if sp is not None else 0.0
        may_w = conn.may_draw_w if conn.may_draw_w is not None else (conn.max_power_w or 0.0)
        return set_w / (n * volt), may_w / (n * volt)
    may = conn.may_draw_a if conn.may_draw_a is not None else conn.max_current_a
    return (sp.limit_a if sp is not None else 0.0), may


def weights_on_phases(conn: Connector, x_a: float) -> list[float]:
    """On each grid phase, the worst case of ``x_a`` per phase of the car: on each of its
    EV's phases (all the charge point's if unknown); a W-controlled one with an unknown
    EV may put its whole power on any one phase; DC draws balanced."""
    out = [0.0, 0.0, 0.0]
    s = conn.session
    known = s is not None and s.ev_phases is not None and not conn.dc
    if conn.control == "W" and not conn.dc and not known:
        for p in conn.phases:  # its whole power may go on any one phase
            out[p] = x_a * len(conn.phases)
        return out
    for p in conn.phases[: s.ev_phases] if known and s and s.ev_phases else conn.phases:
        out[p] = x_a
    return out


def _non_ev(snap: Snapshot, node: Node, under: list[Connector]) -> list[float]:
    params = snap.params
    if node.meter is None or node.meter.age_s > params.meter_timeout_s:
        if node.meter is None and not node.has_meter:
            return list(node.fallback_load_a or (0.0, 0.0, 0.0))
        lim = node.limit_a if node.limit_a is not None else float("inf")
        return list(node.fallback_load_a or (lim, lim, lim))
    est = list(node.meter.signed_a())
    for conn in under:
        s = conn.session
        if s is None:
            continue
        fresh = s.measured_a is not None and (s.measured_age_s or 0.0) <= (
            params.measurement_timeout_s)
        for k, p in enumerate(conn.phases):
            m = min(max(s.measured_a[k], 0.0), conn.max_current_a) if (
                fresh and s.measured_a is not None) else 0.0
            est[p] -= max(m, s.ramp_credit_a)
    for h in node.non_ev_history_a:
        est = [max(a, b) for a, b in zip(est, h, strict=True)]
    return est


def violations(snap: Snapshot, alloc: Allocation) -> list[str]:
    """What in ``alloc`` breaks a limit, in words (empty: nothing)."""
    out: list[str] = []
    parents = {n.id: n.parent for n in snap.nodes}
    own_volts = {n.id: n.voltage_v for n in snap.nodes}
    volts: dict[str, float] = {}
    for n in snap.nodes:  # a node without a voltage has its nearest ancestor's
        cur: str | None = n.id
        while cur is not None and own_volts[cur] is None:
            cur = parents[cur]
        volts[n.id] = (own_volts[cur] if cur is not None else None) or 230.0
    limits: dict[str, list[tuple[float | None, float | None]]] = {}
    for lim in snap.external_limits:
        if lim.starts_s <= snap.now_s < lim.expires_s:
            limits.setdefault(lim.target, []).append((lim.limit_a, lim.limit_w))
    by_id = {sp.connector_id: sp for sp in alloc.setpoints}
    for conn in snap.connectors:
        sp = by_id.get(conn.id)
        if sp is None:
            out.append(f"{conn.id}: no setpoint")
            continue
        if snap.inputs.fire_alarm and (sp.limit_a > 0 or (sp.limit_w or 0) > 0):
            out.append(f"{conn.id}: {sp.limit_a} A during a fire alarm")
        if conn.responsive and sp.limit_a > conn.max_current_a + _EPS:
            out.append(f"{conn.id}: {sp.limit_a} A above its {conn.max_current_a} A")
        for lim_a, _ in limits.get(conn.id, []):
            if conn.responsive and lim_a is not None and sp.limit_a > lim_a + _EPS:
                out.append(f"{conn.id}: {sp.limit_a} A above its external {lim_a} A")
    under: dict[str, list[Connector]] = {n.id: [] for n in snap.nodes}
    for c in snap.connectors:  # each connector counts on its node and every one above
        up: str | None = c.node
        while up is not None:
            under[up].append(c)
            up = parents[up]
    for node in snap.nodes:
        volt = volts[node.id]
        counted, raised, power_a = [0.0, 0.0, 0.0], [False, False, False], 0.0
        for c in under[node.id]:
            x, may = _per_phase(c, by_id.get(c.id), volts[c.node])
            power_a += max(x, may) * _n(c)  # its power over the volts, on whatever phase
            for p, w in enumerate(weights_on_phases(c, max(x, may))):
                counted[p] += w
                raised[p] = raised[p] or (w > 0 and x > may + _EPS)
        non_ev = _non_ev(snap, node, under[node.id])
        limit_a = min([node.limit_a if node.limit_a is not None else float("inf")] + [
            a for a, _ in limits.get(node.id, []) if a is not None])
        for p in range(3):
            room = limit_a - node.margin_a - non_ev[p]
            if raised[p] and counted[p] > room + _EPS:
                out.append(f"{node.id} L{p + 1}: {counted[p]:.1f} A counted, {room:.1f} A "
                           "left for charging, and a connector raised")
        total_w = min([x for x in (node.limit_va, node.limit_w) if x is not None] + [
            w for _, w in limits.get(node.id, []) if w is not None], default=None)
        if total_w is not None and any(raised):
            room_t = total_w / volt - 3 * node.margin_a - sum(non_ev)
            if power_a > room_t + _EPS:
                out.append(f"{node.id}: {power_a * volt:.0f} W counted, "
                           f"{room_t * volt:.0f} W left for charging, and a connector raised")
    return out
