"""A whole site for EMS tests: the real hub (OCPP over websockets on 127.0.0.1, the EMS
loop), simulated charge points and cars, and the site's physics (building load,
breakers, grid meter) stepped every 0.1 s of real time."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from hub_engine.clock import SystemClock
from hub_engine.config import HubConfig, parse_config
from hub_engine.ems.interfaces import MeterSource
from hub_engine.ems.loop import EmsLoop
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.ocpp.ems_port import attach_ems
from hub_engine.sim.chargepoint import SimChargePoint, SimConfig
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.site import SimMeter, SiteLoad, SiteSim
from tests.integration.ocpp_fixtures import Hub, running_hub

# Fast timings: cycle 0.5 s, a limit confirmed 2 s after Accepted, profiles valid 6 s.
EMS_FAST = ("ems: {cycle_s: 0.5, non_ev_window_s: 5, ramp_credit_s: 5, min_on_s: 3,"
            " min_off_s: 3, confirm_settle_s: 2, meter_timeout_s: 2, ignore_after_s: 4,"
            " profile_validity_s: 6, commissioning: \"off\", unverified_models: trust,"
            " commissioning_test_s: 2}")
HEAD = ("hub: {data_dir: %s}\nocpp: {host: 127.0.0.1, ws_port: 0, tls: \"off\","
        " boot_spread_s: 0, accept_all_id_tags: true, call_timeout_s: 5}\nhttp: {port: 0}\n")
# The reaction window of these tests: cycle 0.5 + apply 1 + ramp 1 s, with slack.
REACTION_S = 5.0


class SwitchableMeter:
    """The simulated grid meter, which a test can make silent (reads then fail)."""

    def __init__(self, inner: MeterSource) -> None:
        self.inner = inner
        self.silent = False

    def reading(self) -> Reading:
        if self.silent:
            raise ReadError("no answer (test)")
        return self.inner.reading()


@dataclass
class Trace:
    imports: list[tuple[float, float]] = field(default_factory=list)  # worst phase
    cars: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def max_import_after(self, t: float) -> float:
        return max((a for ts, a in self.imports if ts >= t), default=0.0)

    def cars_at(self, t: float) -> dict[str, float]:
        return next((c for ts, c in self.cars if ts >= t), {})


@dataclass
class Site:
    config: HubConfig
    hub: Hub
    loop: EmsLoop
    sim: SiteSim
    meter: SwitchableMeter
    runners: dict[str, SimRunner]
    trace: Trace

    def cp(self, cp_id: str) -> SimChargePoint:
        cp = self.runners[cp_id].cp
        assert cp is not None
        return cp

    def cps(self) -> dict[str, SimChargePoint]:
        return {k: r.cp for k, r in self.runners.items() if r.cp is not None}


def site_config(tmp_path: Path, body: str, ems: str = EMS_FAST) -> HubConfig:
    return parse_config(HEAD % tmp_path + ems + "\n" + body)


@contextlib.asynccontextmanager
async def running_site(config: HubConfig, sims: Callable[[str], SimConfig] | None = None,
                       load: SiteLoad | None = None) -> AsyncIterator[Site]:
    make = sims or (lambda cp_id: SimConfig(cp_id, apply_delay_s=1.0, meter_interval_s=1.0))
    async with running_hub(config) as hub:
        sim = SiteSim(config.sites[0], load or SiteLoad("office", base_a=0, peak_a=0))
        meter = SwitchableMeter(SimMeter(sim))
        meters: dict[str, MeterSource] = {config.sites[0].grid.id: meter}
        loop = attach_ems(hub.server, config, meters, SystemClock())
        runners = {cp.id: SimRunner(make(cp.id), hub.url, tick_s=None)
                   for cp in config.charge_points()}
        tasks = [asyncio.create_task(r.run()) for r in runners.values()]
        trace = Trace()
        site = Site(config, hub, loop, sim, meter, runners, trace)
        physics = asyncio.create_task(_physics(site))
        try:
            await loop.start()
            await asyncio.wait_for(asyncio.gather(*(r.connected.wait()
                                                    for r in runners.values())), 60)
            yield site
        finally:
            physics.cancel()
            await loop.stop()
            for r in runners.values():
                r.stop()
            for task in (*tasks, physics):
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task


async def _physics(site: Site) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.1)
        now = time.monotonic()
        cps = site.cps()
        for cp in cps.values():
            cp.tick(now - last, now)
        site.sim.step(now - last, now, datetime(2026, 3, 10, 3), cps)
        site.trace.imports.append((now, max(site.sim.last_import_a)))
        site.trace.cars.append((now, {k: cp.connectors[1].current_a for k, cp in cps.items()}))
        last = now
