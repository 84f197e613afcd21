"""RTE's EcoWatt v5: the state of the grid hour by hour for four days (0 low carbon,
1 normal, 2 risk of cuts, 3 cuts planned). The hours at a level with a rule
(``signals.ecowatt.level2``, ``level3``) limit each site's grid connection (external
limits, source ``signal:ecowatt``) until the end of that run of hours. Fetched at most
every 15 minutes (RTE answers 429 below), kept in ``core.db``; unknown hours apply no
rule.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.config import HubConfig
from hub_engine.config.signals import EcoWattConfig
from hub_engine.i18n import Text
from hub_engine.signals.common import hold_limit, load_setting, save_setting
from hub_engine.signals.http import RateLimited, SignalError
from hub_engine.signals.polling import Polling
from hub_engine.signals.rte import RteSession
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["SOURCE", "EcoWattService", "parse_signals"]

log = logging.getLogger(__name__)
SOURCE = "signal:ecowatt"
HOUR = timedelta(hours=1)


def parse_signals(data: Any) -> dict[datetime, int]:
    """Hour (UTC) → level, from ``signals[].jour`` (local midnight) + ``values[].pas``
    hours; DST days have 23 or 25 hours, counted from the day's midnight as given."""
    days = data.get("signals") if isinstance(data, dict) else None
    if not isinstance(days, list):
        raise SignalError(Text("the EcoWatt answer has no signals"))
    out: dict[datetime, int] = {}
    for day in days:
        start = parse_iso(day.get("jour")) if isinstance(day, dict) else None
        if start is None or not isinstance(day.get("values"), list):
            continue
        for value in day["values"]:
            if not isinstance(value, dict):
                continue
            step, level = value.get("pas"), value.get("hvalue")
            if isinstance(step, int) and isinstance(level, int) and 0 <= level <= 3:
                out[(start + step * HOUR).astimezone(UTC)] = level
    if days and not out:
        raise SignalError(Text("the EcoWatt answer has no hourly values"))
    return out


class EcoWattService(Polling):
    name = "ecowatt"

    def __init__(self, config: HubConfig, store: Store, clock: Clock) -> None:
        super().__init__()
        self.config, self.store, self.clock = config, store, clock
        cfg = config.signals.ecowatt
        self.rte = (RteSession(cfg.rte_host, cfg.client_id, cfg.client_secret,
                               cfg.client_secret_file, cfg.timeout_s) if cfg else None)
        self.ems: EmsLoop | None = None
        self.hours: dict[datetime, int] = {}
        self.state: dict[str, Any] = {"level": None, "limit_a": None, "until": None,
                                      "error": None, "fetched_at": None}

    @property
    def cfg(self) -> EcoWattConfig | None:
        return self.config.signals.ecowatt

    @property
    def poll_s(self) -> float:
        assert self.cfg is not None
        return self.cfg.poll_s

    async def start(self) -> None:
        if self.cfg is None:
            return
        for when, level in load_setting(self.store, "signals.ecowatt") or []:
            stamp = parse_iso(when)
            if stamp is not None:
                self.hours[stamp] = int(level)
        self.apply()
        self.start_polling()

    async def poll(self) -> None:
        rte = self.rte
        assert rte is not None
        try:
            data = await asyncio.to_thread(rte.get, "/open_api/ecowatt/v5/signals")
            got = parse_signals(data)
        except RateLimited as exc:
            self.wait_quota(max(900.0, exc.retry_after_s))
            self.state["error"] = str(exc)
            return
        except SignalError as exc:
            self.state["error"] = str(exc)
            log.warning("EcoWatt not fetched: %s", exc)
            return
        now = self.clock.now()
        self.hours.update(got)
        self.hours = {h: v for h, v in self.hours.items() if h > now - timedelta(days=2)}
        self.state.update(error=None, fetched_at=iso_utc(now))
        await save_setting(self.store, "signals.ecowatt",
                           [[iso_utc(h), v] for h, v in sorted(self.hours.items())])

    def apply(self) -> None:
        cfg, ems = self.cfg, self.ems
        if cfg is None or ems is None:
            return
        now = self.clock.now()
        hour = now.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
        level = self.hours.get(hour)
        rule = {2: cfg.level2, 3: cfg.level3}.get(level) if level is not None else None
        until = hour + HOUR
        while rule is not None and self.hours.get(until) == level:
            until += HOUR
        self.state.update(level=level, limit_a=rule.limit_a if rule else None,
                          until=iso_utc(until) if rule else None)
        changed = False
        for site in self.config.sites:
            own = getattr(site.signals, f"ecowatt_level{level}_a") if rule else None
            limit = (own if own is not None else rule.limit_a) if rule else None
            changed |= hold_limit(ems, site.grid.id, SOURCE,
                                  limit if site.signals.follows("ecowatt") else None, until)
        if changed:
            log.info("EcoWatt level %s: %s", level, f"grid at {rule.limit_a:g} A until {until}"
                     if rule else "limit lifted")
            ems.wake()

    def describe(self) -> dict[str, Any]:
        now = self.clock.now() - HOUR
        return {"configured": self.cfg is not None, **self.state,
                "hours": {iso_utc(h): v for h, v in sorted(self.hours.items()) if h > now}}
