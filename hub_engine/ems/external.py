"""External limits in force: from the UI, the API and the bus, each with an expiry.

A request names its target (a node or connector id), its source, a limit in A per phase
and/or W, and an absolute expiry; after it, ``release`` drops the limit and ``hold``
keeps ``fallback_a``/``fallback_w`` (a shedding order must not loosen by itself). The
same source setting the same target again replaces its previous request. Times come in
as aware datetimes and are kept on the EMS's monotonic time base.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from hub_engine.clock import Clock, iso_utc
from hub_engine.ems.model import ExternalLimit
from hub_engine.errors import CommandError
from hub_engine.i18n import Text

__all__ = ["ExternalLimits", "LimitRequest"]

MAX_DURATION_S = 7 * 86400.0


@dataclass(frozen=True)
class LimitRequest:
    target: str
    source: str
    expires_at: datetime
    limit_a: float | None = None
    limit_w: float | None = None
    on_expiry: Literal["release", "hold"] = "release"
    fallback_a: float | None = None
    fallback_w: float | None = None


class ExternalLimits:
    def __init__(self, clock: Clock, targets: set[str]) -> None:
        self.clock = clock
        self.targets = targets
        self._limits: dict[tuple[str, str], tuple[ExternalLimit, LimitRequest]] = {}
        # Called with every request in force after each change (the store keeps them,
        # so a shedding order survives a restart).
        self.on_change: Callable[[list[LimitRequest]], None] | None = None

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change([req for _, req in self._limits.values()])

    def requests(self) -> list[LimitRequest]:
        return [req for _, req in self._limits.values()]

    def restore(self, requests: list[LimitRequest]) -> int:
        """Put back what was in force before a restart: expired ``release`` requests
        are dropped, expired ``hold`` ones keep holding. Returns how many were kept."""
        for req in requests:
            left = (req.expires_at - self.clock.now()).total_seconds()
            if req.target not in self.targets or (left <= 0 and req.on_expiry == "release"):
                continue
            self._limits[(req.target, req.source)] = (self._limit(req, left), req)
        return len(self._limits)

    def _limit(self, req: LimitRequest, left: float) -> ExternalLimit:
        return ExternalLimit(target=req.target, source=req.source, limit_a=req.limit_a,
                             limit_w=req.limit_w, expires_s=self.clock.monotonic() + left,
                             on_expiry=req.on_expiry, fallback_a=req.fallback_a,
                             fallback_w=req.fallback_w)

    def set(self, req: LimitRequest) -> ExternalLimit:
        """Validate and put in force; raises :class:`CommandError` with the reason."""
        if req.target not in self.targets:
            raise CommandError(Text("target: no node or connector {target!r}", target=req.target))
        if not req.source:
            raise CommandError(Text("source: must not be empty"))
        if req.limit_a is None and req.limit_w is None:
            raise CommandError(Text("limit_a or limit_w is required"))
        for name in ("limit_a", "limit_w", "fallback_a", "fallback_w"):
            value = getattr(req, name)
            if value is not None and not 0 <= value < 1e7:
                raise CommandError(Text("{name}: got {value!r}, expected a number ≥ 0", name=name,
                                        value=value))
        if req.expires_at.tzinfo is None:
            raise CommandError(Text("expires_at: a time with its UTC offset is required"))
        left = (req.expires_at - self.clock.now()).total_seconds()
        if not 0 < left <= MAX_DURATION_S:
            raise CommandError(Text("expires_at: must be in the future, at most 7 days ahead"))
        if req.on_expiry == "hold" and req.fallback_a is None and req.fallback_w is None:
            raise CommandError(Text("on_expiry hold needs fallback_a or fallback_w"))
        lim = self._limit(req, left)
        self._limits[(req.target, req.source)] = (lim, req)
        self._changed()
        return lim

    def clear(self, target: str, source: str) -> bool:
        found = self._limits.pop((target, source), None) is not None
        if found:
            self._changed()
        return found

    def in_force(self) -> tuple[ExternalLimit, ...]:
        """The limits to pass to the allocation; released expired ones are dropped."""
        now = self.clock.monotonic()
        expired = [key for key, (lim, _) in self._limits.items()
                   if lim.expires_s <= now and lim.on_expiry == "release"]
        for key in expired:
            del self._limits[key]
        if expired:
            self._changed()
        return tuple(lim for lim, _ in self._limits.values())

    def describe(self) -> list[dict[str, Any]]:
        now = self.clock.monotonic()
        return [{"target": r.target, "source": r.source, "limit_a": r.limit_a,
                 "limit_w": r.limit_w, "expires_at": iso_utc(r.expires_at),
                 "on_expiry": r.on_expiry, "fallback_a": r.fallback_a,
                 "fallback_w": r.fallback_w, "expired": lim.expires_s <= now}
                for lim, r in self._limits.values()]
