"""What a session's badge changes in the allocation: a strict tier (fleet vehicles
first), a higher minimum current (cars that stall at 6 A), and PV-only charging, which
caps the connector at the solar surplus its site's grid meter shows.

The surplus of a connector is, per phase, what the grid meter exports plus what the car
already draws (its own draw hides part of the export); the cap is the smallest over the
phases, and 0 without a fresh meter reading: when in doubt, no grid energy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hub_engine.ems.model import Connector, ExternalLimit, Reading

__all__ = ["PV_ONLY", "SessionRights", "apply_rights", "pv_surplus_a"]

PV_ONLY = "pv only"


@dataclass(frozen=True)
class SessionRights:
    tier: int = 0
    min_current_a: float | None = None
    pv_only: bool = False


def pv_surplus_a(connector: Connector, grid: Reading | None, timeout_s: float) -> float:
    if grid is None or grid.age_s > timeout_s or grid.power_w is None:
        return 0.0  # no signed reading: the export is unknown
    signed = grid.signed_a()
    own = (connector.session.measured_a if connector.session is not None
           and connector.session.measured_a is not None else (0.0, 0.0, 0.0))
    # The charge point's L1, L2… sit on the grid phases ``connector.phases`` (rotation).
    return max(0.0, min(own[k] - signed[p] for k, p in enumerate(connector.phases)))


def apply_rights(connectors: list[Connector], rights: dict[str, SessionRights],
                 grid_of: dict[str, Reading | None], timeout_s: float
                 ) -> tuple[list[Connector], list[ExternalLimit]]:
    """The connectors with their sessions' tier and minimum, and the PV-only caps."""
    out, limits = [], []
    for c in connectors:
        r = rights.get(c.id)
        if r is None or c.session is None:
            out.append(c)
            continue
        c = replace(c, tier=max(c.tier, r.tier),
                    min_current_a=max(c.min_current_a, r.min_current_a or 0.0))
        if r.pv_only:
            limits.append(ExternalLimit(target=c.id, source=PV_ONLY,
                                        limit_a=pv_surplus_a(c, grid_of.get(c.id), timeout_s)))
        out.append(c)
    return out, limits
