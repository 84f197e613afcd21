"""The EMS loop end to end: simulated charge points and meter, real websockets, real hub."""

from __future__ import annotations

import asyncio
import contextlib
import time
from datetime import datetime
from pathlib import Path

from hub_engine.clock import SystemClock
from hub_engine.config import parse_config
from hub_engine.ocpp.ems_port import attach_ems
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.site import SimMeter, SiteLoad, SiteSim
from tests.integration.ocpp_fixtures import running_hub

SITE = """
hub: {data_dir: %s}
ocpp: {host: 127.0.0.1, ws_port: 0, tls: "off", boot_spread_s: 0, accept_all_id_tags: true}
http: {port: 0}
ems: {cycle_s: 0.5, non_ev_window_s: 5, ramp_credit_s: 5, min_on_s: 3, min_off_s: 3,
      confirm_settle_s: 2.5, commissioning: "off", unverified_models: trust}
meters: [{id: grid-meter}]
sites:
  - id: s
    grid:
      id: grid
      limit_a: 40
      margin_a: 2
      meter: grid-meter
      charge_points:
        - {id: CP1}
        - {id: CP2}
        - {id: CP3}
"""


async def test_three_cars_on_a_40_amp_supply_stay_under_it(tmp_path: Path) -> None:
    """Three cars that want 96 A on a 40 A supply: after the reaction window the grid
    stays under its limit less the margin, and no breaker trips."""
    config = parse_config(SITE % tmp_path)
    async with running_hub(config) as hub:
        site = SiteSim(config.sites[0], SiteLoad("office", base_a=0, peak_a=0))
        loop = attach_ems(hub.server, config, {"grid": SimMeter(site)}, SystemClock())
        runners = [SimRunner(SimConfig(cp.id, apply_delay_s=1.0, meter_interval_s=1.0),
                             hub.url, tick_s=None) for cp in config.charge_points()]
        tasks = [asyncio.create_task(r.run()) for r in runners]
        await asyncio.gather(*(r.connected.wait() for r in runners))
        await loop.start()
        samples: list[tuple[float, float]] = []
        cars: list[tuple[float, tuple[float, ...]]] = []

        async def physics() -> None:
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.1)
                now = time.monotonic()
                cps = {r.config.id: r.cp for r in runners if r.cp is not None}
                for cp in cps.values():
                    cp.tick(now - last, now)
                site.step(now - last, now, datetime(2026, 3, 10, 3), cps)
                samples.append((now, max(site.last_import_a)))
                cars.append((now, tuple(cp.connectors[1].current_a for cp in cps.values())))
                last = now

        sim = asyncio.create_task(physics())
        try:
            t_plug = time.monotonic()
            for r in runners:
                assert r.cp is not None
                await r.cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
            await asyncio.sleep(20)
        finally:
            sim.cancel()
            await loop.stop()
            for r in runners:
                r.stop()
            for task in tasks:
                task.cancel()
            for task in (*tasks, sim):
                with contextlib.suppress(BaseException):
                    await task
    # The reaction window here: meter 0.1 s + cycle 0.5 s + apply 1 s + ramp 1 s (+ slack).
    after = [amps for t, amps in samples if t > t_plug + 6]
    assert after and max(after) <= 38.0 + 0.01, max(after)
    assert not site.report.trips
    assert max(a for _, a in samples) <= 40  # the first limits went out before the ramp
    assert loop.cycles > 20 and loop.applier.outcomes.get("accepted", 0) >= 3
    # The cars' own ramp-up is not read as building load: once charging, no car is
    # paused again, and the 38 A are shared fairly (12.6 A each).
    settled = [c for t, c in cars if t > t_plug + 8]
    assert settled and min(min(c) for c in settled) >= 6.0, "a car was paused"
    last = settled[-1]
    assert sum(last) >= 35.0 and max(last) - min(last) <= 1.0, last
