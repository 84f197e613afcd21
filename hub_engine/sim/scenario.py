"""Scenarios: a simulated site driven against a hub, faster than real time if wanted.

``run_scenario`` connects one simulated charge point per configured charge point, then
advances simulated time: cars arrive (plug + StartTransaction), draw what their charge
point lets them, leave (StopTransaction); the site model heats the breakers and records
the import. It returns the site report (trips, overshoot, energy).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hub_engine.config import ChargePointConfig, HubConfig, SiteConfig
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.cpo import SimCpo
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.site import SiteLoad, SiteReport, SiteSim

__all__ = ["ARRIVALS", "LOADS", "Arrival", "load_of", "office_arrivals", "run_scenario"]

log = logging.getLogger(__name__)

# Building loads of the reference sites (shared reference SITES.md).
LOADS = {
    "office": SiteLoad("office", base_a=32, peak_a=125, pv_kwp=36),
    "condominium": SiteLoad("residential", base_a=0, peak_a=0),  # dedicated IRVE supply
    "fleet": SiteLoad("office", base_a=15, peak_a=29),
    "island": SiteLoad("residential", base_a=10, peak_a=40, pv_kwp=20),
    "campus": SiteLoad("office", base_a=120, peak_a=300),
}


NO_LOAD = SiteLoad("office", base_a=0, peak_a=0)


def load_of(scenario: str, site_index: int) -> SiteLoad:
    """The building load of a reference configuration's site: the first site carries the
    scenario's buildings; the others (the campus's remote car park) none."""
    return LOADS.get(scenario, LOADS["office"]) if site_index == 0 else NO_LOAD


@dataclass(frozen=True)
class Arrival:
    cp_id: str
    at_s: float  # simulated seconds after the start
    leave_s: float
    ev: EV


def _car(cp: ChargePointConfig, rng: random.Random, wanted_kwh: tuple[float, float]) -> EV:
    if cp.dc:
        return EV(battery_wh=75_000, soc=rng.uniform(0.1, 0.4),
                  max_current_a=(cp.max_power_w or 50_000) / 690, phases=3,
                  energy_wanted_wh=rng.uniform(*wanted_kwh) * 1000)
    phases = cp.phases if cp.phases == 1 else rng.choice([3, 3, 3, 1])
    return EV(battery_wh=rng.choice([50_000, 60_000, 77_000]), soc=rng.uniform(0.2, 0.6),
              max_current_a=32 if phases == 1 else rng.choice([16, 32]), phases=phases,
              energy_wanted_wh=rng.uniform(*wanted_kwh) * 1000)


def office_arrivals(site: SiteConfig, rng: random.Random, day: int = 0) -> list[Arrival]:
    """Staff arrive 07:30–10:00, leave 16:30–19:00, want 8–20 kWh (reference site 1)."""
    base = day * 86400
    return [Arrival(cp.id, base + rng.uniform(7.5, 10) * 3600,
                    base + rng.uniform(16.5, 19) * 3600, _car(cp, rng, (8, 20)))
            for cp in site.charge_points()]


def condominium_arrivals(site: SiteConfig, rng: random.Random, day: int = 0) -> list[Arrival]:
    """Households come home 17:00–21:00 (four in five each evening), leave 07:00–09:00,
    want 6–15 kWh (reference site 2)."""
    base = day * 86400
    return [Arrival(cp.id, base + rng.uniform(17, 21) * 3600,
                    base + 86400 + rng.uniform(7, 9) * 3600, _car(cp, rng, (6, 15)))
            for cp in site.charge_points() if rng.random() < 0.8]


def fleet_arrivals(site: SiteConfig, rng: random.Random, day: int = 0) -> list[Arrival]:
    """Vans back 17:00–19:00, out again 05:30–07:00 in a known order, 30–60 kWh each
    (reference site 3); the departure is given to the hub's EMS through the session."""
    base = day * 86400
    out = []
    for cp in site.charge_points():
        leave = base + 86400 + rng.uniform(5.5, 7) * 3600
        out.append(Arrival(cp.id, base + rng.uniform(17, 19) * 3600, leave,
                           _car(cp, rng, (30, 60))))
    return out


def daytime_arrivals(site: SiteConfig, rng: random.Random, day: int = 0) -> list[Arrival]:
    """Visitors 09:00–17:00 staying one to three hours, 5–15 kWh (reference site 4)."""
    base = day * 86400
    out = []
    for cp in site.charge_points():
        t = base + rng.uniform(9, 11) * 3600
        while t < base + 17 * 3600:
            stay = rng.uniform(1, 3) * 3600
            out.append(Arrival(cp.id, t, t + stay, _car(cp, rng, (5, 15))))
            t += stay + rng.uniform(0.2, 1.5) * 3600
    return out


ARRIVALS = {"office": office_arrivals, "campus": office_arrivals,
            "condominium": condominium_arrivals, "fleet": fleet_arrivals,
            "island": daytime_arrivals}


async def run_scenario(config: HubConfig, url: str, *, speed: float = 60.0,
                       hours: float = 24.0, seed: int = 1, start: datetime | None = None,
                       quirks: dict[Quirk, float] | None = None, tick_s: float = 0.05,
                       scenario: str = "office") -> dict[str, SiteReport]:
    """Run ``scenario`` on every site of ``config``; return each site's report."""
    tz = ZoneInfo(config.hub.timezone)
    start_local = start or datetime(2026, 3, 10, 0, 0, tzinfo=tz)  # a Tuesday
    rng = random.Random(seed)
    make = ARRIVALS.get(scenario, office_arrivals)
    arrivals = sorted((a for site in config.sites for d in range(int(hours // 24) + 1)
                       for a in make(site, rng, d)), key=lambda a: a.at_s)
    sims = [SiteSim(site, load_of(scenario, k)) for k, site in enumerate(config.sites)]
    mix = quirks or {}
    runners = {cp.id: SimRunner(SimConfig(
        cp.id, max_current_a=cp.max_current_a, phases=cp.phases, speed=speed,
        quirks=frozenset(q for q, share in mix.items() if rng.random() < share)),
        url, tick_s=None) for cp in config.charge_points()}
    cpo_port = config.simulation.cpo_port if config.simulation else 0
    cpo = SimCpo(cpo_port) if cpo_port else None  # the relayed charge points' backend
    if cpo is not None:
        await cpo.start()
    tasks = [asyncio.create_task(r.run()) for r in runners.values()]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.connected.wait()
                                                for r in runners.values())), 120)
        cps = {cp_id: r.cp for cp_id, r in runners.items() if r.cp is not None}
        busy: dict[str, Arrival] = {}  # one car per charge point at a time
        t, pending = 0.0, list(arrivals)
        last = time.monotonic()
        while t < hours * 3600:
            await asyncio.sleep(tick_s)
            now = time.monotonic()
            dt = (now - last) * speed
            last, t = now, t + dt
            for a in [a for a in busy.values() if a.leave_s <= t]:
                del busy[a.cp_id]
                await cps[a.cp_id].unplug(1)
            while pending and pending[0].at_s <= t:
                a = pending.pop(0)
                if a.cp_id not in busy and a.leave_s > t:
                    await cps[a.cp_id].plug(1, a.ev)
                    busy[a.cp_id] = a
            for cp in cps.values():
                cp.tick(dt, t)
            for sim in sims:
                sim.step(dt, t, start_local + timedelta(seconds=t), cps)
        for a in busy.values():
            await cps[a.cp_id].unplug(1)
    finally:
        for r in runners.values():
            r.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if cpo is not None:
            await cpo.stop()
    return {sim.site.id: sim.report for sim in sims}
