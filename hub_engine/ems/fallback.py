"""The fallback limits: what each connector may draw if it never hears from the hub again.

DESIGN "The EMS", profile layout: the fallback (a TxDefaultProfile at stack 0 with no
expiry) must keep the site safe on its own, with the building at its worst case and no
meter read. It is the allocation of a derived snapshot: every node at its configured
worst-case load (``fallback_load_a``; a metered node without one counts at its whole
rating, so nothing charges on it without the hub), no measurement, no confirmed limit,
only the plugged-in connectors asking. So the priority tiers and the 6 A rule of the
allocation hold here too: at least the minimum to as many connectors as fit, by priority,
0 to the rest; room left over is shared as usual.
"""

from __future__ import annotations

import dataclasses
import math

from hub_engine.ems.allocate import allocate
from hub_engine.ems.model import Node, Session, Snapshot

__all__ = ["fallback_limits", "worst_case_node"]


def worst_case_node(node: Node) -> Node:
    """The node as the fallback must assume it: no reading, its worst-case load."""
    load = node.fallback_load_a
    if load is None and (node.has_meter or node.meter is not None):
        lim = node.limit_a if node.limit_a is not None else math.inf
        load = (lim, lim, lim)
    return dataclasses.replace(node, meter=None, has_meter=False, fallback_load_a=load,
                               non_ev_history_a=())


def fallback_limits(snapshot: Snapshot, plugged: frozenset[str]
                    ) -> dict[str, tuple[float, float | None]]:
    """Per connector: (limit in A per phase, limit in W or None), for the plugged set."""
    nodes = tuple(worst_case_node(n) for n in snapshot.nodes)
    connectors = tuple(
        dataclasses.replace(
            c, may_draw_a=0.0, may_draw_w=0.0, responsive=True,
            session=Session(state="waiting") if c.id in plugged else None)
        for c in snapshot.connectors)
    derived = dataclasses.replace(snapshot, nodes=nodes, connectors=connectors)
    alloc = allocate(derived)
    return {sp.connector_id: (sp.limit_a, sp.limit_w) for sp in alloc.setpoints}
