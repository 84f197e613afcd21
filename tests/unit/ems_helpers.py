"""Compact builders for EMS snapshots, and an independent oracle of what a setpoint weighs."""

from __future__ import annotations

from typing import Any

from hub_engine.ems import Allocation, Connector, Snapshot


def car(cid: str, node: str = "g", max_a: float = 32, **kw: Any) -> dict[str, Any]:
    """A connector with a charging session (kw: connector fields; session=dict to override)."""
    session = kw.pop("session", {})
    data = {"id": cid, "node": node, "max_current_a": max_a, "session": session}
    if session is None:
        data.pop("session")
    data.update(kw)
    return data


def snap(nodes: list[dict[str, Any]], conns: list[dict[str, Any]], now_s: float = 10_000,
         **kw: Any) -> Snapshot:
    return Snapshot.from_dict({"now_s": now_s, "nodes": nodes, "connectors": conns, **kw})


def limits(alloc: Allocation) -> dict[str, float]:
    return {s.connector_id: s.limit_a for s in alloc.setpoints}


def weight_on_phases(conn: Connector, x_a: float, volt: float) -> dict[int, float]:
    """Worst-case current per grid phase of a connector set to ``x_a`` amps per phase.

    Written from DESIGN.md, not from the implementation: A-controlled draws x on each of
    its EV's phases (all the charge point's phases if unknown); a W-controlled one with an
    unknown EV may put its whole power on any one phase; DC draws balanced.
    """
    s = conn.session
    known = s is not None and s.ev_phases is not None and not conn.dc
    phases = conn.phases[: s.ev_phases] if known and s is not None and s.ev_phases else conn.phases
    if (conn.control == "W" and not conn.dc) and not known:
        return {p: x_a * len(conn.phases) for p in conn.phases}
    return {p: x_a for p in phases}
