"""Peak and off-peak hours (HP/HC): outside the contract's off-peak windows (local time,
``hub.timezone``) each site's grid connection is held at ``signals.offpeak.peak_limit_a``
(external limits, source ``signal:offpeak``), renewed every 30 s for ten minutes, so a
stopped engine releases it at most ten minutes later: a price, not a safety limit."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub_engine.access.csvio import windows_of
from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.ems.external import LimitRequest
from hub_engine.signals.polling import Polling

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["SOURCE", "OffPeakService"]

log = logging.getLogger(__name__)
SOURCE = "signal:offpeak"
HOLD = timedelta(minutes=10)


class OffPeakService(Polling):
    """Nothing to fetch: the windows are configured. The limit is re-applied every 30 s."""

    name = "offpeak"

    def __init__(self, config: HubConfig, clock: Clock) -> None:
        super().__init__()
        self.config, self.clock = config, clock
        cfg = config.signals.offpeak
        self.windows = windows_of(cfg.windows) if cfg else ()
        self.ems: EmsLoop | None = None
        self.peak: bool | None = None

    async def start(self) -> None:
        if self.config.signals.offpeak is None:
            return
        self.apply()
        self.start_polling()

    @property
    def poll_s(self) -> float:
        return float("inf")

    async def poll(self) -> None:
        pass

    def tick_s(self) -> float:
        return 30.0

    def apply(self) -> None:
        cfg, ems = self.config.signals.offpeak, self.ems
        if cfg is None or ems is None:
            return
        now = self.clock.now()
        local = now.astimezone(ZoneInfo(self.config.hub.timezone))
        self.peak = not any(w.contains(local) for w in self.windows)
        changed = False
        for site in self.config.sites:
            own = site.signals.peak_limit_a
            limit = own if own is not None else cfg.peak_limit_a
            if self.peak and site.signals.follows("offpeak"):
                held = next((lim for lim in ems.external.in_force()
                             if lim.target == site.grid.id and lim.source == SOURCE), None)
                left = held.expires_s - self.clock.monotonic() if held else 0
                if held is None or held.limit_a != limit or left < HOLD.seconds / 2:
                    ems.external.set(LimitRequest(target=site.grid.id, source=SOURCE,
                                                  expires_at=now + HOLD, limit_a=limit))
                    changed |= held is None or held.limit_a != limit
            else:
                changed |= ems.external.clear(site.grid.id, SOURCE)
        if changed:
            log.info("%s hours: %s", "peak" if self.peak else "off-peak",
                     f"grid at {cfg.peak_limit_a:g} A" if self.peak else "limit lifted")
            ems.wake()

    def describe(self) -> dict[str, Any]:
        cfg = self.config.signals.offpeak
        return {"configured": cfg is not None, "peak": self.peak,
                "windows": cfg.windows if cfg else None,
                "peak_limit_a": cfg.peak_limit_a if cfg else None}
