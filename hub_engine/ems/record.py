"""The cycle record (DESIGN "The EMS", step 6): what one cycle saw and decided.

Published to the UI's live feed and the bus, and sampled into the store. Plain JSON
data; currents in A per grid phase (L1, L2, L3), powers in W, times in UTC.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from hub_engine.clock import iso_utc
from hub_engine.ems.model import Allocation, Snapshot

__all__ = ["RECORD_VERSION", "cycle_record", "summary"]

RECORD_VERSION = 1


def _r(values: tuple[float, ...]) -> list[float]:
    return [round(v, 2) for v in values]


def cycle_record(now: datetime, snap: Snapshot, alloc: Allocation, cycle_ms: float,
                 fallbacks: dict[str, float], external: list[dict[str, Any]],
                 offered: dict[str, float] | None = None) -> dict[str, Any]:
    nodes = {n.id: n for n in snap.nodes}
    return {
        "version": RECORD_VERSION,
        "time": iso_utc(now),
        "cycle_ms": round(cycle_ms, 2),
        "nodes": [{
            "id": rep.node_id,
            "meter_status": rep.meter_status,
            "meter_current_a": (_r(nodes[rep.node_id].meter.current_a)  # type: ignore[union-attr]
                                if nodes[rep.node_id].meter is not None else None),
            "non_ev_current_a": _r(rep.non_ev_used_a),
            "charging_counted_a": _r(rep.counted_a),
            "capacity_a": _r(rep.capacity_a),
            "limit_a": rep.limit_a, "limit_w": rep.limit_w,
        } for rep in alloc.nodes],
        "connectors": [{
            "id": c.id,
            "limit_a": sp.limit_a, "limit_w": sp.limit_w, "target_a": sp.target_a,
            "reason": sp.reason, "may_draw_a": c.may_draw_a, "may_draw_w": c.may_draw_w,
            "responsive": c.responsive, "fallback": fallbacks.get(c.id),
            # The limit in force as the charge point last read it back (Current.Offered).
            "offered": (offered or {}).get(c.id),
            # The grid phases it is counted on, and those it is told (switching ones).
            "phases": list(c.phases), "phases_cmd": c.phases_cmd,
            "session": None if c.session is None else {
                "state": c.session.state,
                "measured_a": _r(c.session.measured_a) if c.session.measured_a else None,
                "ev_phases": c.session.ev_phases,
                "phases_basis": c.session.phases_basis,
                "energy_wh": round(c.session.energy_wh),
                # The departure plan (docs/ems.md "Departure plans"), if it has one.
                "departure": (None if c.session.departure_s is None else iso_utc(
                    now + timedelta(seconds=c.session.departure_s - snap.now_s))),
                "energy_need_wh": c.session.energy_need_wh},
        } for c, sp in ((c, alloc.by_id[c.id]) for c in snap.connectors)],
        "external_limits": external,
        "warnings": list(alloc.warnings),
    }


def summary(record: dict[str, Any], roots: list[str]) -> str:
    """One log line per cycle record: each site's import against its capacity, sessions."""
    parts = []
    nodes = {n["id"]: n for n in record["nodes"]}
    for root in roots:
        n = nodes.get(root)
        if n is None:
            continue
        meter = n["meter_current_a"]
        seen = f"meter {max(meter):.0f} A" if meter else f"meter {n['meter_status']}"
        parts.append(f"{root}: {seen}, charging {max(n['charging_counted_a']):.0f} A counted")
    conns = record["connectors"]
    sessions = [c for c in conns if c["session"] is not None]
    charging = [c for c in sessions if c["limit_a"] > 0]
    return (f"EMS: {'; '.join(parts)}; {len(sessions)} sessions, {len(charging)} charging, "
            f"{sum(1 for c in sessions if c['limit_a'] == 0)} paused; "
            f"cycle {record['cycle_ms']:.1f} ms")
