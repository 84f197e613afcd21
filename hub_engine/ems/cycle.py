"""Carry one allocation into the next cycle's snapshot, as the EMS loop does."""

from __future__ import annotations

import dataclasses

from hub_engine.ems.model import Allocation, Snapshot

__all__ = ["next_snapshot"]


def next_snapshot(snapshot: Snapshot, allocation: Allocation, dt_s: float = 1.0,
                  confirmed: bool = True) -> Snapshot:
    """The snapshot ``dt_s`` later, with each session's rotation state carried over.

    With ``confirmed`` every setpoint counts as applied (its may-draw limit becomes the new
    setpoint); without it the may-draw limits stay as they were, as while a charge point
    has not yet confirmed. For tests, benchmarks and simulators; the loop builds its own
    snapshots from what the charge points really confirmed.
    """
    conns = []
    for conn in snapshot.connectors:
        sp = allocation.by_id[conn.id]
        session = conn.session
        if session is not None and sp.session_rotation is not None:
            session = dataclasses.replace(session, rotation=sp.session_rotation)
        changes: dict[str, object] = {"session": session}
        if confirmed:
            if sp.limit_w is not None:
                changes["may_draw_w"] = sp.limit_w
            else:
                changes["may_draw_a"] = sp.limit_a
        conns.append(dataclasses.replace(conn, **changes))  # type: ignore[arg-type]
    return dataclasses.replace(snapshot, now_s=snapshot.now_s + dt_s, connectors=tuple(conns))
