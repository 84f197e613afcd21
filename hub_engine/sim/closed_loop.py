"""A whole site in one process, closed loop: the real hub (store, OCPP server over
websockets on 127.0.0.1, the EMS loop) driving simulated charge points and cars, whose
draw the site model (building load, breakers, grid meter) turns into the meter reading
the EMS reads back. Used by the EMS tests and ``bench.ems_reaction``.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from hub_engine.clock import SystemClock
from hub_engine.config import HubConfig
from hub_engine.ems.interfaces import MeterSource
from hub_engine.ems.loop import EmsLoop
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.ocpp.ems_port import attach_ems
from hub_engine.ocpp.server import OcppServer
from hub_engine.sim.chargepoint import SimChargePoint, SimConfig
from hub_engine.sim.runner import SimRunner
from hub_engine.sim.site import SimMeter, SiteLoad, SiteSim
from hub_engine.store import Store

__all__ = ["ClosedLoopSite", "SwitchableMeter", "Trace", "over_stretches", "running_site"]


class SwitchableMeter:
    """The simulated grid meter, which can be made silent (reads then fail)."""

    def __init__(self, inner: MeterSource) -> None:
        self.inner = inner
        self.silent = False

    def reading(self) -> Reading:
        if self.silent:
            raise ReadError("no answer (simulated)")
        return self.inner.reading()


def over_stretches(points: Iterable[tuple[float, bool]]
                   ) -> list[tuple[float, float, float | None]]:
    """Each run of ``(time, over)`` points that are over: (its first time, its last time,
    the time of the next point, None if it lasts to the end)."""
    out: list[tuple[float, float, float | None]] = []
    first = last = None
    for ts, over in points:
        if over:
            first = ts if first is None else first
            last = ts
        elif first is not None and last is not None:
            out.append((first, last, ts))
            first = last = None
    if first is not None and last is not None:
        out.append((first, last, None))
    return out


@dataclass
class Trace:
    imports: list[tuple[float, float]] = field(default_factory=list)  # worst phase, A
    cars: list[tuple[float, dict[str, float]]] = field(default_factory=list)
    over: list[tuple[float, bool]] = field(default_factory=list)  # any node over its limit

    def over_beyond(self, window_s: float, after: float = 0.0) -> tuple[float, float]:
        """(longest stretch with some node over its limit, seconds over beyond
        ``window_s`` summed over the stretches), from ``after``."""
        lengths = [min(after_ts if after_ts is not None else math.inf, last + 1.0) - first
                   for first, last, after_ts in over_stretches(
                       (ts, over) for ts, over in self.over if ts >= after)]
        return (max(lengths, default=0.0),
                sum(max(0.0, length - window_s) for length in lengths))

    def max_import_after(self, t: float) -> float:
        return max((a for ts, a in self.imports if ts >= t), default=0.0)

    def longest_over(self, limit_a: float, after: float = 0.0) -> float:
        """The longest stretch, in s, with the import above ``limit_a``."""
        return max((last - first for first, last, _ in over_stretches(
            (ts, a > limit_a + 0.01) for ts, a in self.imports if ts >= after)), default=0.0)

    def cars_at(self, t: float) -> dict[str, float]:
        return next((c for ts, c in self.cars if ts >= t), {})


@dataclass
class ClosedLoopSite:
    config: HubConfig
    store: Store
    server: OcppServer
    loop: EmsLoop
    sim: SiteSim
    meter: SwitchableMeter
    runners: dict[str, SimRunner]
    trace: Trace
    local_time: datetime = datetime(2026, 3, 10, 3)  # a night: no office load

    def cp(self, cp_id: str) -> SimChargePoint:
        cp = self.runners[cp_id].cp
        assert cp is not None
        return cp

    def cps(self) -> dict[str, SimChargePoint]:
        return {k: r.cp for k, r in self.runners.items() if r.cp is not None}

    def rows(self, sql: str, params: list[Any] | None = None, db: str = "core") -> list[Any]:
        return self.store.rows(sql, params, db)


@contextlib.asynccontextmanager
async def running_site(config: HubConfig, sims: Callable[[str], SimConfig] | None = None,
                       load: SiteLoad | None = None, tick_s: float = 0.1,
                       local_time: datetime | None = None) -> AsyncIterator[ClosedLoopSite]:
    make = sims or (lambda cp_id: SimConfig(cp_id, apply_delay_s=1.0, meter_interval_s=1.0))
    clock = SystemClock()
    store = Store(config.store, Path(config.hub.data_dir), clock)
    server = OcppServer(config, store, clock)
    await store.start()
    await server.start()
    sim = SiteSim(config.sites[0], load or SiteLoad("office", base_a=0, peak_a=0))
    meter = SwitchableMeter(SimMeter(sim))
    loop = attach_ems(server, config, {config.sites[0].grid.id: meter}, clock)
    url = f"ws://127.0.0.1:{server.ports['ws']}"
    runners = {cp.id: SimRunner(make(cp.id), url, tick_s=None, open_timeout=60)
               for cp in config.charge_points()}
    tasks = [asyncio.create_task(r.run()) for r in runners.values()]
    site = ClosedLoopSite(config, store, server, loop, sim, meter, runners, Trace())
    if local_time is not None:  # the building's hour, from the first step on
        site.local_time = local_time
    physics = asyncio.create_task(_physics(site, tick_s))
    try:
        await loop.start()
        await asyncio.wait_for(asyncio.gather(*(r.connected.wait()
                                                for r in runners.values())), 600)
        yield site
        breaches = [data for kind, _, data in loop.alerts if kind == "self_check"]
        if breaches:  # ems.self_check on: an allocation broke a limit
            raise AssertionError(f"EMS self-check: {breaches[:3]}")
    finally:
        physics.cancel()
        await loop.stop()
        for r in runners.values():
            r.stop()
        for task in (*tasks, physics):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await server.stop()
        await store.stop()


async def _physics(site: ClosedLoopSite, tick_s: float) -> None:
    last = time.monotonic()
    while True:
        await asyncio.sleep(tick_s)
        now = time.monotonic()
        cps = site.cps()
        for cp in cps.values():
            cp.tick(now - last, now)
        site.sim.step(now - last, now, site.local_time, cps)
        site.trace.imports.append((now, max(site.sim.last_import_a)))
        site.trace.over.append((now, bool(site.sim.over_nodes)))
        site.trace.cars.append((now, {k: cp.connectors[1].current_a for k, cp in cps.items()}))
        last = now
