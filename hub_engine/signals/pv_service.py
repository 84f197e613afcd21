"""The PV forecast of each site with ``pv.forecast``, and its measured production.

Every ``poll_s`` the sky of today and tomorrow is fetched from Open-Meteo (in a thread)
and turned into each array's power (:mod:`hub_engine.signals.pvmodel`); the result is
kept in ``core.db``, so a restart without the internet still has it. Each minute the slot
in force gives the power expected now. A forecast older than ``valid_s``, or one that
does not cover now, is unknown: the ``forecast_unknown`` alert is raised until a fresh
one comes. The inverters' measured power (devices with role ``pv``) stands beside it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.config import HubConfig
from hub_engine.config.pv import PvConfig
from hub_engine.signals.common import load_setting, save_setting
from hub_engine.signals.forecast_solar import fetch_estimate
from hub_engine.signals.http import RateLimited, SignalError, read_secret
from hub_engine.signals.openmeteo import STEP, fetch_sky
from hub_engine.signals.polling import Polling
from hub_engine.signals.pvmodel import PvSlot, pv_power
from hub_engine.store import Store

__all__ = ["PvForecastService"]

log = logging.getLogger(__name__)
Alert = Callable[[str, str, dict[str, object]], None]


def _fetch(pv: PvConfig) -> list[PvSlot]:
    """The forecast of ``pv``'s arrays, from its provider."""
    f = pv.forecast
    assert f is not None
    if f.provider == "forecast.solar":
        return fetch_estimate(pv, f.url, read_secret(f.api_key, f.api_key_file), f.timeout_s)
    return pv_power(pv, fetch_sky(pv, f.url, f.timeout_s))


class PvForecastService(Polling):
    name = "pv-forecast"

    def __init__(self, config: HubConfig, store: Store, clock: Clock,
                 fetcher: Callable[[PvConfig], list[PvSlot]] = _fetch) -> None:
        super().__init__()
        self.config, self.store, self.clock, self.fetcher = config, store, clock, fetcher
        self.pv = {s.id: s.pv for s in config.sites if s.pv is not None}
        self.forecast = {k: pv for k, pv in self.pv.items() if pv.forecast is not None}
        self.slots: dict[str, list[PvSlot]] = {}
        self.fetched: dict[str, datetime] = {}
        self.errors: dict[str, str | None] = {}
        self.known: dict[str, bool] = {}
        self.alert: Alert | None = None
        self.measured: Callable[[str], float | None] | None = None  # site → W

    @property
    def poll_s(self) -> float:
        return min(pv.forecast.poll_s for pv in self.forecast.values() if pv.forecast)

    async def start(self) -> None:
        if not self.forecast:
            return
        for site in self.forecast:
            kept = load_setting(self.store, f"pv.forecast.{site}") or {}
            fetched = parse_iso(kept.get("fetched_at"))
            slots = [PvSlot(end, float(w), dict(arrays)) for e, w, arrays in kept.get("slots", [])
                     if (end := parse_iso(e)) is not None]
            if fetched is not None and slots:
                self.fetched[site], self.slots[site] = fetched, slots
        # No apply before the first fetch: a fresh hub has no forecast yet, which is no
        # news (the loop applies once that fetch has been tried).
        self.start_polling()

    async def poll(self) -> None:
        for site, pv in self.forecast.items():
            try:
                slots = await asyncio.to_thread(self.fetcher, pv)
            except RateLimited as exc:
                self.wait_quota(exc.retry_after_s)
                self.errors[site] = str(exc)
                return
            except SignalError as exc:
                self.errors[site] = str(exc)
                log.warning("PV forecast of %s not fetched: %s", site, exc)
                continue
            now = self.clock.now()
            self.slots[site], self.fetched[site], self.errors[site] = slots, now, None
            await save_setting(self.store, f"pv.forecast.{site}", {
                "fetched_at": iso_utc(now),
                "slots": [[iso_utc(s.end), s.power_w, s.by_array_w] for s in slots]})

    def now_w(self, site: str) -> float | None:
        """The power expected now; None when no valid forecast covers now."""
        slots = self.ahead(site)
        now = self.clock.now()
        return next((w for start, end, w in slots or [] if start < now <= end), None)

    def ahead(self, site: str) -> list[tuple[datetime, datetime, float]] | None:
        """The slots of a valid forecast: (start, end, W); None when it is not valid (the
        solar anticipation then does without it)."""
        pv, fetched = self.forecast.get(site), self.fetched.get(site)
        if pv is None or pv.forecast is None or fetched is None or (
                self.clock.now() - fetched).total_seconds() > pv.forecast.valid_s:
            return None
        return [(s.end - STEP, s.end, s.power_w) for s in self.slots.get(site, [])]

    def apply(self) -> None:
        for site in self.forecast:
            known = self.now_w(site) is not None
            if self.known.get(site, True) != known and self.alert is not None:
                self.alert("forecast_known" if known else "forecast_unknown", site,
                           {"error": self.errors.get(site)})
            self.known[site] = known

    def _energy_kwh(self, site: str, day: datetime) -> float | None:
        tz = ZoneInfo(self.config.hub.timezone)
        start = day.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        end = start + timedelta(days=1)
        mine = [s for s in self.slots.get(site, []) if start < s.end <= end]
        if len(mine) < 24 * 4 - 8:  # the day not covered (DST days have 92 or 100 slots)
            return None
        return round(sum(s.power_w for s in mine) * STEP.total_seconds() / 3.6e6, 1)

    def now(self) -> dict[str, dict[str, Any]]:
        """Per site with panels, what the live state shows every second: kWp, the
        forecast now and for today, the measured power."""
        now = self.clock.now()
        return {site: {"kwp": round(sum(a.kwp for a in pv.arrays), 2),
                       "now_w": self.now_w(site), "today_kwh": self._energy_kwh(site, now),
                       "measured_w": self.measured(site) if self.measured else None}
                for site, pv in self.pv.items()}

    def describe(self) -> dict[str, Any]:
        """:meth:`now`, with tomorrow, the last fetch or its error, and the slots of the
        next 48 hours."""
        now = self.clock.now()
        out: dict[str, Any] = self.now()
        for site, pv in self.pv.items():
            fetched = self.fetched.get(site)
            out[site].update({
                "forecast": pv.forecast is not None,
                "fetched_at": iso_utc(fetched) if fetched else None,
                "error": self.errors.get(site),
                "tomorrow_kwh": self._energy_kwh(site, now + timedelta(days=1)),
                "slots": [{"end": iso_utc(s.end), "power_w": s.power_w}
                          for s in self.slots.get(site, [])
                          if now < s.end <= now + timedelta(hours=48)]})
        return out
