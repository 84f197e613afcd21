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
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.site import SiteLoad, SiteReport, SiteSim

__all__ = ["LOADS", "Arrival", "office_arrivals", "run_scenario"]

log = logging.getLogger(__name__)

# Building loads of the reference sites (shared reference SITES.md).
LOADS = {
    "office": SiteLoad("office", base_a=32, peak_a=125, pv_kwp=36),
    "condominium": SiteLoad("residential", base_a=0, peak_a=0),  # dedicated IRVE supply
    "fleet": SiteLoad("office", base_a=15, peak_a=29),
    "island": SiteLoad("residential", base_a=10, peak_a=40, pv_kwp=20),
    "campus": SiteLoad("office", base_a=120, peak_a=300),
}


@dataclass(frozen=True)
class Arrival:
    cp_id: str
    at_s: float  # simulated seconds after the start
    leave_s: float
    ev: EV


def office_arrivals(site: SiteConfig, rng: random.Random, day: int = 0) -> list[Arrival]:
    """Staff arrive 07:30–10:00, leave 16:30–19:00, want 8–20 kWh (reference site 1)."""
    out = []
    stack = [site.grid]
    cps: list[ChargePointConfig] = []
    while stack:
        node = stack.pop()
        cps.extend(node.charge_points)
        stack.extend(node.children)
    base = day * 86400
    for cp in sorted(cps, key=lambda c: c.id):
        phases = cp.phases if cp.phases == 1 else rng.choice([3, 3, 3, 1])
        ev = EV(battery_wh=rng.choice([50_000, 60_000, 77_000]), soc=rng.uniform(0.2, 0.6),
                max_current_a=32 if phases == 1 else rng.choice([16, 32]), phases=phases,
                energy_wanted_wh=rng.uniform(8_000, 20_000))
        arrive = base + rng.uniform(7.5, 10) * 3600
        leave = base + rng.uniform(16.5, 19) * 3600
        out.append(Arrival(cp.id, arrive, leave, ev))
    return out


async def run_scenario(config: HubConfig, url: str, *, speed: float = 60.0,
                       hours: float = 24.0, seed: int = 1, start: datetime | None = None,
                       quirks: frozenset[Quirk] = frozenset(), tick_s: float = 0.05,
                       scenario: str = "office") -> SiteReport:
    site = config.sites[0]
    tz = ZoneInfo(config.hub.timezone)
    start_local = start or datetime(2026, 3, 10, 0, 0, tzinfo=tz)  # a Tuesday
    rng = random.Random(seed)
    arrivals = sorted((a for d in range(int(hours // 24) + 1)
                       for a in office_arrivals(site, rng, d)), key=lambda a: a.at_s)
    sim = SiteSim(site, LOADS.get(scenario, LOADS["office"]))
    runners = {cp.id: SimRunner(SimConfig(cp.id, max_current_a=cp.max_current_a,
                                          phases=cp.phases, speed=speed, quirks=quirks),
                                url, tick_s=None)
               for cp in config.charge_points()}
    tasks = [asyncio.create_task(r.run()) for r in runners.values()]
    try:
        await asyncio.wait_for(asyncio.gather(*(r.connected.wait()
                                                for r in runners.values())), 120)
        cps = {cp_id: r.cp for cp_id, r in runners.items() if r.cp is not None}
        t, pending, leaving = 0.0, list(arrivals), []
        last = time.monotonic()
        while t < hours * 3600:
            await asyncio.sleep(tick_s)
            now = time.monotonic()
            dt = (now - last) * speed
            last, t = now, t + dt
            while pending and pending[0].at_s <= t:
                a = pending.pop(0)
                await cps[a.cp_id].plug(1, a.ev)
                leaving.append(a)
            for a in [a for a in leaving if a.leave_s <= t]:
                leaving.remove(a)
                await cps[a.cp_id].unplug(1)
            for cp in cps.values():
                cp.tick(dt, t)
            sim.step(dt, t, start_local + timedelta(seconds=t), cps)
        for a in leaving:
            await cps[a.cp_id].unplug(1)
    finally:
        for r in runners.values():
            r.stop()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
    return sim.report
