"""The embedded demo: a simulated site inside the hub's own process.

With a ``simulation:`` section (the embedded default has one), the hub connects one
simulated charge point per configured one to its own OCPP server, brings cars in within
the first two minutes and then all day long, runs the site model (building, PV, breakers)
on the local clock, and serves the grid meter over Modbus TCP (SDM630 map). A tripped
breaker is re-armed after five minutes so that the demo goes on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.config import HubConfig
from hub_engine.sim.chargepoint import SimChargePoint, SimConfig
from hub_engine.sim.cpo import SimCpo
from hub_engine.sim.demo_access import pick_badge, seed_job
from hub_engine.sim.ev import EV
from hub_engine.sim.modbus_meter import ModbusMeterServer
from hub_engine.sim.physics import Breaker
from hub_engine.sim.plc import SimPlc
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.scenario import LOADS
from hub_engine.sim.site import SimMeter, SiteSim

__all__ = ["DemoSite"]

log = logging.getLogger(__name__)
REARM_S = 300.0


class DemoSite:
    name = "simulation"

    def __init__(self, config: HubConfig, ocpp_port: Callable[[], int]) -> None:
        assert config.simulation is not None
        self.config = config
        self.sim_cfg = config.simulation
        self.ocpp_port = ocpp_port  # known once the hub's server is listening
        self.url = ""
        self.site = SiteSim(config.sites[0], LOADS.get(self.sim_cfg.scenario, LOADS["office"]))
        self.rng = random.Random(self.sim_cfg.seed)
        self.runners: dict[str, SimRunner] = {}
        self.meter: ModbusMeterServer | None = None
        self.plc: SimPlc | None = None
        self.cpo: SimCpo | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._next_car: dict[str, float] = {}
        self._leave: dict[str, float] = {}
        self._trips_logged = 0
        # Set by the App: the demo enrols its members there (an empty database only).
        self.store: Any = None
        self.access: Any = None

    def sim_meter(self, meter_id: str) -> SimMeter:
        """The site's grid meter read in process (meter driver ``simulated``)."""
        return SimMeter(self.site)

    async def start(self) -> None:
        if self.store is not None and await self.store.core.write(
                seed_job(datetime.now(UTC))):
            log.info("demo: members and badges enrolled (see the Members page)")
            if self.access is not None:
                self.access.changed()
        host = self.config.ocpp.host
        self.url = f"ws://{host if host not in ('0.0.0.0', '::') else '127.0.0.1'}:" \
                   f"{self.ocpp_port()}"
        self.runners = {cp.id: SimRunner(SimConfig(cp.id, max_current_a=cp.max_current_a,
                                                   phases=cp.phases), self.url, tick_s=None)
                        for cp in self.config.charge_points()}
        self._tasks = [asyncio.create_task(r.run()) for r in self.runners.values()]
        if self.sim_cfg.meter_port:
            self.meter = ModbusMeterServer(self.site.meter_reading, port=self.sim_cfg.meter_port)
            try:
                await self.meter.start()
                log.info("simulated grid meter on modbus tcp 127.0.0.1:%d (SDM630 map)",
                         self.sim_cfg.meter_port)
            except OSError as exc:
                log.warning("simulated meter not served: %s", exc)
                self.meter = None
        if self.sim_cfg.cpo_port:
            self.cpo = SimCpo(self.sim_cfg.cpo_port)
            try:
                await self.cpo.start()
                log.info("simulated CPO backend on ws://127.0.0.1:%d", self.sim_cfg.cpo_port)
            except OSError as exc:
                log.warning("simulated CPO not served: %s", exc)
                self.cpo = None
        if self.sim_cfg.plc_port:
            self.plc = SimPlc({0: "barrier", 1: "lights"}, port=self.sim_cfg.plc_port)
            self._tasks.append(asyncio.create_task(self.plc.run()))
        now = time.monotonic()
        for cp_id in self.runners:
            self._next_car[cp_id] = now + self.rng.uniform(5, 120)
        self._tasks.append(asyncio.create_task(self._loop()))
        log.info("simulated site: %d charge points connecting to %s", len(self.runners),
                 self.url)

    async def stop(self) -> None:
        for r in self.runners.values():
            r.stop()
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        if self.meter is not None:
            await self.meter.stop()
        if self.cpo is not None:
            await self.cpo.stop()

    def _cps(self) -> dict[str, SimChargePoint]:
        return {cp_id: r.cp for cp_id, r in self.runners.items()
                if r.cp is not None and r.connected.is_set()}

    async def _loop(self) -> None:
        tz = ZoneInfo(self.config.hub.timezone)
        last = time.monotonic()
        while True:
            await asyncio.sleep(1.0)
            now = time.monotonic()
            dt, last = now - last, now
            cps = self._cps()
            try:
                await self._cars(cps, now)
            except Exception as exc:  # a lost connection: the runner reconnects
                log.debug("demo car event failed: %s", exc)
            for cp in cps.values():
                cp.tick(dt, now)
            self.site.step(dt, now, datetime.now(tz), cps)
            self._rearm(now, cps)

    async def _cars(self, cps: dict[str, SimChargePoint], now: float) -> None:
        for cp_id, cp in cps.items():
            conn = cp.connectors[1]
            if conn.transaction_id is None and now >= self._next_car.get(cp_id, now + 1):
                phases = 1 if cp.config.phases == 1 else self.rng.choice([3, 3, 1])
                ev = EV(soc=self.rng.uniform(0.2, 0.6), phases=phases,
                        max_current_a=self.rng.choice([16, 32]),
                        energy_wanted_wh=self.rng.uniform(8_000, 20_000))
                in_use = {c.connectors[1].id_tag for c in cps.values()
                          if c.connectors[1].transaction_id is not None}
                tag = pick_badge(self.rng, {t for t in in_use if t})
                if await cp.present(1, ev, tag) is None:  # refused: the driver leaves
                    log.info("demo: badge %s refused at %s", tag, cp_id)
                    self._next_car[cp_id] = now + self.rng.uniform(300, 1200)
                    continue
                self._leave[cp_id] = now + self.rng.uniform(1800, 5400)
                log.info("demo: a car (%d-phase, %.0f kWh wanted, badge %s) arrives at %s",
                         phases, (ev.energy_wanted_wh or 0) / 1000, tag, cp_id)
            elif conn.transaction_id is not None and now >= self._leave.get(cp_id, now + 1):
                await cp.unplug(1)
                self._next_car[cp_id] = now + self.rng.uniform(300, 1200)

    def _rearm(self, now: float, cps: dict[str, SimChargePoint]) -> None:
        for node, _ in self.site.report.trips[self._trips_logged:]:
            log.warning("simulated breaker %s TRIPPED", node)
        self._trips_logged = len(self.site.report.trips)
        for node, breaker in self.site.breakers.items():
            if breaker.tripped_at_s is not None and now - breaker.tripped_at_s >= REARM_S:
                self.site.breakers[node] = Breaker(breaker.rating_a)
                log.warning("simulated breaker %s re-armed", node)
                for cp in cps.values():
                    cp.power_cut = False
