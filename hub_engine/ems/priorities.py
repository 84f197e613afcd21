"""Priorities asked from outside (a Node-RED flow, a bus client): a tier for the
connectors of a node of the site tree, or for one connector, until an expiry.

The allocation serves strict tiers, highest first (allocate.py); a request only raises a
connector's tier (the configured or badge tier stays if higher), never a limit: every
node's capacity still bounds what the higher tier gets. Kept in memory: after an engine
restart the flow asks again (limits, which may be a shedding order, are kept in the store).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from hub_engine.clock import Clock
from hub_engine.ems.external import MAX_DURATION_S
from hub_engine.ems.model import Connector
from hub_engine.errors import CommandError
from hub_engine.i18n import Text

__all__ = ["MAX_TIER", "ExternalPriorities", "apply_priorities"]

MAX_TIER = 9


@dataclass(frozen=True)
class _Request:
    target: str
    source: str
    tier: int
    expires_s: float  # on the EMS's monotonic clock


class ExternalPriorities:
    def __init__(self, clock: Clock, below: Mapping[str, frozenset[str]]) -> None:
        """``below``: for each target (node or connector id), the connectors it covers."""
        self.clock, self.below = clock, below
        self._requests: dict[tuple[str, str], _Request] = {}

    def set(self, target: str, source: str, tier: int, expires_in_s: float) -> None:
        if target not in self.below:
            raise CommandError(Text("target: no node or connector {target!r}", target=target))
        if not source:
            raise CommandError(Text("source: must not be empty"))
        if isinstance(tier, bool) or not isinstance(tier, int) or not 1 <= tier <= MAX_TIER:
            raise CommandError(Text("tier: an integer from 1 to {most}", most=MAX_TIER))
        if not 0 < expires_in_s <= MAX_DURATION_S:
            raise CommandError(Text("expires_in_s: in the future, at most 7 days ahead"))
        self._requests[(target, source)] = _Request(
            target, source, tier, self.clock.monotonic() + expires_in_s)

    def clear(self, target: str, source: str) -> bool:
        return self._requests.pop((target, source), None) is not None

    def tiers(self) -> dict[str, int]:
        """Connector id → the highest tier asked for it now; expired requests dropped."""
        now = self.clock.monotonic()
        for key in [k for k, r in self._requests.items() if r.expires_s <= now]:
            del self._requests[key]
        out: dict[str, int] = {}
        for r in self._requests.values():
            for cid in self.below[r.target]:
                out[cid] = max(out.get(cid, 0), r.tier)
        return out

    def describe(self) -> list[dict[str, Any]]:
        now = self.clock.monotonic()
        return [{"target": r.target, "source": r.source, "tier": r.tier,
                 "expires_in_s": round(r.expires_s - now, 1)}
                for r in self._requests.values() if r.expires_s > now]


def apply_priorities(connectors: list[Connector], tiers: Mapping[str, int]
                     ) -> list[Connector]:
    return [replace(c, tier=max(c.tier, tiers[c.id])) if c.id in tiers else c
            for c in connectors]
