"""What a session's badge changes in the allocation: a strict tier (fleet vehicles
first), a higher minimum current (cars that stall at 6 A), and its solar mode (read by
:mod:`hub_engine.ems.solar_control`; None follows the charge point's and the site's).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from hub_engine.config.solar import SolarMode
from hub_engine.ems.model import Connector

__all__ = ["SessionRights", "apply_rights"]


@dataclass(frozen=True)
class SessionRights:
    tier: int = 0
    min_current_a: float | None = None
    solar: SolarMode | None = None


def apply_rights(connectors: list[Connector], rights: dict[str, SessionRights]
                 ) -> list[Connector]:
    """The connectors with their sessions' tier and minimum."""
    out = []
    for c in connectors:
        r = rights.get(c.id)
        if r is not None and c.session is not None:
            c = replace(c, tier=max(c.tier, r.tier),
                        min_current_a=max(c.min_current_a, r.min_current_a or 0.0))
        out.append(c)
    return out
