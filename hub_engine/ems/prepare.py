"""Connectors in allocation space: one variable per connector, in amps per active phase.

A connector's variable ``x`` is the current on each phase it draws from. What weighs on
each grid phase and on the total depends on how it is controlled (DESIGN "The EMS", 4):
an A-controlled connector draws ``x`` on each of its EV's phases (all the charge point's
phases while the EV's are unknown); a W-controlled one is given ``x · n · V`` watts, which
a single-phase EV may take on one phase, so until its phases are known it weighs ``n · x``
on each phase; a DC charger is given watts and draws them balanced.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

from hub_engine.ems.model import Connector, Params, Rotation, Snapshot
from hub_engine.ems.plans import need_a
from hub_engine.ems.tree import ActiveLimits, Tree

__all__ = ["PLAN_MARGIN", "Item", "drawn_phases", "prepare"]

# A car's charge slows as its battery fills: a plan asks a tenth more than the even rate.
PLAN_MARGIN = 1.1


@dataclass(slots=True)
class Item:
    conn: Connector
    index: int
    phases: tuple[int, ...]  # grid phases it may draw on
    phase_coef: float  # weight of x on each of those phases (worst case)
    total_coef: float  # weight of x in the total (power) rows
    watts_per_a: float  # W given per unit of x (for W-controlled and DC connectors)
    lo: float
    hi: float
    may_draw: float
    weight: float
    participates: bool
    reason: str
    rotation: Rotation | None
    order_key: tuple[float, ...] = ()
    # The current its departure plan needs (0: no plan, or none needed): given first.
    need: float = 0.0


def drawn_phases(conn: Connector) -> tuple[tuple[int, ...], bool]:
    """The grid phases the connector's car draws on (all its charge point's while the
    car's are unknown, or for DC), and whether they are known."""
    s = conn.session
    if s is not None and s.ev_phases is not None and not conn.dc:
        return conn.phases[: min(s.ev_phases, len(conn.phases))], True
    return conn.phases, False


def _demand_cap(item: Item, params: Params, now_s: float) -> None:
    """Cap a car that takes less than it is given, except while probing it back up."""
    conn, rot = item.conn, item.rotation
    s = conn.session
    if s is None or rot is None or s.state != "charging" or s.measured_a is None:
        return
    if (s.measured_age_s or 0.0) > params.measurement_timeout_s or s.ramp_credit_a > 0:
        return  # stale, or taken before its latest increase: no sign it takes less
    taken = max(s.measured_a[: len(item.phases)]) if not conn.dc else max(s.measured_a)
    # Capped at what it takes + the margin, it is then given exactly that: were the cap
    # lifted at "takes less than given − margin", it would flip every cycle (capped,
    # uncapped, its neighbours cut and raised in turn). It is lifted only once the car
    # comes within half the margin of its limit (it asks for more), or by a probe.
    if taken >= item.may_draw - params.demand_margin_a / 2:
        return
    if now_s - rot.probe_started_s < params.probe_hold_s:
        item.reason = "probing"
        return
    if now_s - rot.probe_started_s >= params.probe_interval_s:
        item.rotation = dataclasses.replace(rot, probe_started_s=now_s)
        item.reason = "probing"
        return
    cap = max(item.lo, taken + params.demand_margin_a)
    if cap < item.hi:
        item.hi = cap
        item.reason = "car takes less"


def _plan_need(item: Item, now_s: float) -> None:
    """What its departure plan asks, within its bounds (a car that takes less keeps
    its cap: asking more of it would only take the room from the others)."""
    s = item.conn.session
    if s is None or s.departure_s is None or s.energy_need_wh is None:
        return
    need = PLAN_MARGIN * need_a(s.energy_need_wh - s.energy_wh, s.departure_s - now_s,
                                item.watts_per_a)
    if need > 0:
        item.need = min(max(need, item.lo), item.hi)
        if item.reason == "fair share":
            item.reason = "departure plan"


def prepare(snapshot: Snapshot, tree: Tree, limits: ActiveLimits) -> list[Item]:
    params, now_s = snapshot.params, snapshot.now_s
    per_watt = params.fairness_unit == "W"
    volts = tree.voltage_v
    items: list[Item] = []
    for index, conn in enumerate(snapshot.connectors):
        s = conn.session
        # drawn_phases(conn), inlined: this loop runs for every connector every cycle.
        known = s is not None and s.ev_phases is not None and not conn.dc
        phases = (conn.phases[: min(s.ev_phases, len(conn.phases))]
                  if known and s is not None and s.ev_phases is not None else conn.phases)
        n = len(phases)
        by_watts = conn.control == "W" or conn.dc
        phase_coef = float(len(conn.phases)) if by_watts and not known and not conn.dc else 1.0
        watts_per_a = n * volts[conn.node]
        hi = conn.max_current_a
        if conn.max_power_w is not None:
            hi = min(hi, conn.max_power_w / watts_per_a)
        for lim_a, lim_w, _ in limits.get(conn.id, ()):
            if lim_a is not None:
                hi = min(hi, lim_a)
            if lim_w is not None:
                hi = min(hi, lim_w / watts_per_a)
        if by_watts:
            may = conn.may_draw_w if conn.may_draw_w is not None else (conn.max_power_w or 0.0)
            may_draw = may / watts_per_a
        else:
            may_draw = conn.may_draw_a if conn.may_draw_a is not None else conn.max_current_a
        lo = 0.0 if conn.dc else conn.min_current_a
        weight = conn.weight / n if per_watt else conn.weight
        participates = s is not None and conn.responsive and hi >= lo and hi > 0
        reason = "no session" if s is None else "fair share"
        if not conn.responsive:
            reason = "silent or refusing: reserved"
        elif s is not None and not participates:
            reason = "limit below minimum"
        item = Item(conn, index, phases, phase_coef, float(n), watts_per_a, lo, max(hi, 0.0),
                    may_draw, weight, participates, reason,
                    s.rotation if s is not None else None)
        if participates and s is not None:
            if s.state == "suspended_ev":
                item.hi = item.lo  # keep it able to resume, give it nothing more
                item.reason = "car not asking"
            else:
                _demand_cap(item, params, now_s)
                if s.departure_s is not None:
                    _plan_need(item, now_s)
        if not math.isfinite(item.hi):
            raise ValueError(f"connector {conn.id}: no finite maximum")
        items.append(item)
    return items
