"""A C4 site's subscribed power, held as Enedis bills it: a 10-minute average.

A *tarif jaune* (C4) site pays for every 10-minute window whose mean apparent power is
above the power subscribed for the TURPE period in force (HPH, HCH, HPB, HCB, Pointe);
within a window, the import may go higher as long as the mean stays under. So each
cycle, per site with a ``subscription``:

- the import since the window began (the grid meter's currents × the voltage, VA) is
  added up; a window begun before the hub saw it counts as used at the full power;
- what is left of the window's budget (``power_va`` × ``average_s``, less a margin),
  spread over what is left of the window, is the site's power limit for this cycle, at
  most ``burst_share`` × the power;
- that limit is an external limit of source ``subscription`` on the grid connection
  (``limit_w``): the allocation holds the cars under it, and under every other limit
  (the breakers, ``limit_va``) as always. A billing limit, not a safety one: it is
  left out of the fallback profiles.

A grid meter without a fresh reading: the time counts as used at the burst power, and
the limit is the power itself (when in doubt, the strict case).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.access.csvio import windows_of
from hub_engine.access.policy import Window, in_windows
from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.config.subscription import SubscriptionConfig, SubscriptionPeriod
from hub_engine.ems.model import ExternalLimit, Node

__all__ = ["SUBSCRIPTION", "SubscriptionControl", "allowed_va", "period_at"]

SUBSCRIPTION = "subscription"


def period_at(cfg: SubscriptionConfig, now: datetime, tz: ZoneInfo,
              windows: tuple[tuple[Window, ...], ...]) -> SubscriptionPeriod:
    """The first period whose months and windows hold ``now`` in the site's time (the
    last holds always)."""
    month = now.astimezone(tz).month
    for period, own in zip(cfg.periods, windows, strict=True):
        if (not period.months or month in period.months) and in_windows(own, now, tz):
            return period
    return cfg.periods[-1]


def allowed_va(cfg: SubscriptionConfig, power_va: float, elapsed_s: float,
               used_vas: float) -> float:
    """The power the rest of the window may take so that its mean stays under."""
    budget = power_va * (1 - cfg.margin_share) * cfg.average_s - used_vas
    left = cfg.average_s - elapsed_s
    if left <= 1.0:
        return power_va * (1 - cfg.margin_share)
    return min(cfg.burst_share * power_va, max(0.0, budget / left))


@dataclass
class _Window:
    index: int
    used_vas: float
    last_s: float  # monotonic time of the last addition


class SubscriptionControl:
    def __init__(self, config: HubConfig, clock: Clock, timeout_s: float) -> None:
        self.clock, self.timeout_s = clock, timeout_s
        self.tz = ZoneInfo(config.hub.timezone)
        self.sites = {s.id: (s.subscription, s.grid.id, s.voltage_v) for s in config.sites
                      if s.subscription is not None}
        self.windows: dict[str, tuple[tuple[Window, ...], ...]] = {
            site: tuple(windows_of(p.windows) for p in cfg.periods)
            for site, (cfg, _, _) in self.sites.items()}
        self.open: dict[str, _Window] = {}
        self.state: dict[str, dict[str, Any]] = {}

    def limits(self, nodes: tuple[Node, ...] | list[Node]) -> tuple[ExternalLimit, ...]:
        now, mono = self.clock.now(), self.clock.monotonic()
        grid = {n.id: n for n in nodes}
        out = []
        for site, (cfg, grid_id, volt) in self.sites.items():
            period = period_at(cfg, now, self.tz, self.windows[site])
            index = math.floor(now.timestamp() / cfg.average_s)
            elapsed = now.timestamp() - index * cfg.average_s
            w = self.open.get(site)
            if w is None or w.index != index:
                # Begun before the hub saw it: counted as used at the full power.
                used = period.power_va * elapsed if w is None or w.index != index - 1 else 0.0
                w = self.open[site] = _Window(index, used, mono)
            node = grid.get(grid_id)
            reading = node.meter if node is not None else None
            fresh = reading is not None and reading.age_s <= self.timeout_s
            dt = max(0.0, mono - w.last_s)
            if fresh:
                assert reading is not None
                w.used_vas += sum(max(0.0, a) for a in reading.current_a) * volt * dt
                allowed = allowed_va(cfg, period.power_va, elapsed, w.used_vas)
            else:
                w.used_vas += cfg.burst_share * period.power_va * dt
                allowed = period.power_va * (1 - cfg.margin_share)
            w.last_s = mono
            self.state[site] = {"period": period.name, "power_va": period.power_va,
                                "average_va": round(w.used_vas / max(elapsed, 1.0)),
                                "window_left_s": round(cfg.average_s - elapsed, 1),
                                "allowed_va": round(allowed)}
            out.append(ExternalLimit(target=grid_id, source=SUBSCRIPTION, limit_a=None,
                                     limit_w=round(allowed, 1)))
        return tuple(out)
