"""Tempo colours turned into the site's limits.

Every ``signals.tempo.poll_s`` the colours of today and tomorrow are fetched (kept in
``core.db`` for a restart without the internet); every minute the rule of the tariff
day's colour (06:00 → 06:00) is applied: between its ``start`` and ``end`` (local; equal:
the whole tariff day) each site's grid connection gets an external limit of
``limit_a`` (source ``signal:tempo``; 0 defers charging), lifted outside it. An unknown
colour applies no rule: Tempo is a price, not a safety signal.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING, Any

from hub_engine.clock import Clock, iso_utc
from hub_engine.config import HubConfig
from hub_engine.config.signals import TempoConfig, TempoRule
from hub_engine.signals.common import hold_limit, load_setting, save_setting
from hub_engine.signals.http import RateLimited, SignalError
from hub_engine.signals.polling import Polling
from hub_engine.signals.tempo import PARIS, TempoClient, tariff_day
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["SOURCE", "TempoService", "rule_window"]

log = logging.getLogger(__name__)
SOURCE = "signal:tempo"


def rule_window(day: date, rule: TempoRule) -> tuple[datetime, datetime]:
    """The rule's window within the tariff day ``day`` (06:00 → 06:00, Paris)."""
    def at(hhmm: str) -> datetime:
        h, m = (int(x) for x in hhmm.split(":"))
        when = datetime.combine(day, time(h, m), PARIS)
        return when if time(h, m) >= time(6) else when + timedelta(days=1)
    start, end = at(rule.start), at(rule.end)
    if end <= start:
        end = start + timedelta(days=1) if end == start else end + timedelta(days=1)
    return start, min(end, datetime.combine(day + timedelta(days=1), time(6), PARIS))


class TempoService(Polling):
    name = "tempo"

    def __init__(self, config: HubConfig, store: Store, clock: Clock,
                 fetcher: Callable[[date], dict[date, str]] | None = None) -> None:
        super().__init__()
        self.config, self.store, self.clock = config, store, clock
        cfg = config.signals.tempo
        self.fetcher: Callable[[date], dict[date, str]] | None = fetcher or (
            TempoClient(cfg).fetch if cfg is not None else None)
        self.ems: EmsLoop | None = None
        self.days: dict[date, str] = {}
        self.state: dict[str, Any] = {"colour": None, "day": None, "limit_a": None,
                                      "until": None, "error": None, "fetched_at": None}

    @property
    def cfg(self) -> TempoConfig | None:
        return self.config.signals.tempo

    @property
    def poll_s(self) -> float:
        assert self.cfg is not None
        return self.cfg.poll_s

    async def start(self) -> None:
        if self.cfg is None:
            return
        kept = load_setting(self.store, "signals.tempo.days") or {}
        self.days = {date.fromisoformat(d): c for d, c in kept.items()}
        self.apply()
        self.start_polling()

    async def poll(self) -> None:
        fetcher = self.fetcher
        assert fetcher is not None
        today = tariff_day(self.clock.now())
        try:
            got: dict[date, str] = await asyncio.to_thread(fetcher, today)
        except RateLimited as exc:
            self.wait_quota(exc.retry_after_s)
            self.state["error"] = str(exc)
            return
        except SignalError as exc:
            self.state["error"] = str(exc)
            log.warning("Tempo colours not fetched: %s", exc)
            return
        self.days.update(got)
        self.days = {d: c for d, c in self.days.items() if d >= today - timedelta(days=7)}
        self.state.update(error=None, fetched_at=iso_utc(self.clock.now()))
        await save_setting(self.store, "signals.tempo.days",
                           {d.isoformat(): c for d, c in sorted(self.days.items())})

    def apply(self) -> None:
        cfg, ems = self.cfg, self.ems
        if cfg is None or ems is None:
            return
        now = self.clock.now()
        day = tariff_day(now)
        colour = self.days.get(day)
        rule: TempoRule | None = getattr(cfg, colour.lower()) if colour else None
        window = rule_window(day, rule) if rule is not None else None
        active = rule is not None and window is not None and window[0] <= now < window[1]
        self.state.update(colour=colour, day=day.isoformat(),
                          limit_a=rule.limit_a if active and rule else None,
                          until=iso_utc(window[1]) if active and window else None)
        changed = False
        for site in self.config.sites:
            own = getattr(site.signals, f"tempo_{colour.lower()}_a") if colour else None
            limit = (own if own is not None else rule.limit_a) if active and rule else None
            changed |= hold_limit(ems, site.grid.id, SOURCE,
                                  limit if site.signals.follows("tempo") else None,
                                  window[1] if window else now)
        if changed:
            log.info("Tempo %s day: %s", colour or "unknown",
                     f"grid limited to {rule.limit_a:g} A until {window[1] if window else '-'}"
                     if active and rule else "limit lifted")
            ems.wake()

    def describe(self) -> dict[str, Any]:
        return {"configured": self.cfg is not None, **self.state,
                "days": {d.isoformat(): c for d, c in sorted(self.days.items())}}
