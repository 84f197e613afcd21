"""The simulated week behind ``bench.ems_quality``: one site of a reference
configuration, its building load and PV (hub_engine.sim.site), cars arriving and
leaving as the reference scenario says (hub_engine.sim.scenario), breakers heating, and
one charging strategy setting each connector's pilot current every step.

The hub's strategy is the real :class:`EmsLoop` (snapshot → allocate → apply, fallbacks,
rotation, fairness) on a fake clock, its connectors being in-process ports (the EMS's
own interface; OCPP is one implementation of it, this is another). The baselines:
``none`` (every car at its maximum), ``equal`` (a static equal share of each board's
rating, at least 6 A) and ``fcfs`` (first come, first served at full current within the
static ratings); knowing each car's departure and need: ``edf`` (earliest departure
first) and ``llf`` (least laxity first: the least time to spare at full current), both
at full current within the static ratings, and ``hub-plan`` (the hub's EMS given each
car's departure plan). A tripped breaker cuts what is below it for an hour, then is reset.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hub_engine.clock import FakeClock
from hub_engine.config import HubConfig, SiteConfig
from hub_engine.ems.interfaces import ConnectorState, Dip
from hub_engine.ems.loop import EmsLoop
from hub_engine.ems.plans import Plan
from hub_engine.sim.ev import EV
from hub_engine.sim.physics import pv_power_w
from hub_engine.sim.scenario import ARRIVALS, Arrival, load_of
from hub_engine.sim.site import SimMeter, SiteLoad, SiteSim

__all__ = ["PLANNED", "STRATEGIES", "Week", "simulate_week"]

STRATEGIES = ("hub", "none", "equal", "fcfs")
PLANNED = ("hub-plan", "edf", "llf")  # told each car's departure and need
MIN_A = 6.0
RESET_AFTER_S = 3600.0
START = datetime(2026, 3, 9, tzinfo=ZoneInfo("Europe/Paris"))  # a Monday


@dataclass
class Conn:
    """One connector in the physics: the car on it and the pilot it is given."""
    cp_id: str
    phases: list[int]  # grid phases of its L1.. (rotation)
    max_a: float
    pilot_a: float = 0.0
    arrival: Arrival | None = None
    current_a: float = 0.0
    cut: bool = False
    tx: int = 0
    switching: bool = False  # switches its car between three phases and one
    phases_on: int = 3  # the phases its last limit gives the car (numberPhases)

    @property
    def drawn_phases(self) -> int:
        return min(self.ev.phases, self.phases_on) if self.ev is not None else 3

    @property
    def ev(self) -> EV | None:
        return self.arrival.ev if self.arrival is not None else None


class _Cp:  # what SiteSim.step reads of a charge point
    def __init__(self, conn: Conn) -> None:
        self.connectors = {1: conn}
        self.power_cut = False

    def drawn_phases(self, conn: Conn) -> int:
        return conn.drawn_phases


@dataclass
class Week:
    site: str
    strategy: str
    sessions: list[dict[str, float]] = field(default_factory=list)
    seconds_over_limit: float = 0.0
    trips: int = 0
    energy_wh: float = 0.0
    pv_wh: float = 0.0
    export_wh: float = 0.0
    ev_grid_wh: float = 0.0  # what the cars added to the grid import (the building first)
    grid_import_a: list[tuple[float, float]] = field(default_factory=list)  # (h, worst A)
    # Every 10 min: (h, grid import W, charging W, PV W).
    power_w: list[tuple[float, float, float, float]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        wanted = [s["wanted_wh"] for s in self.sessions]
        served = [min(1.0, s["delivered_wh"] / s["wanted_wh"]) for s in self.sessions
                  if s["wanted_wh"] > 0]
        jain = (sum(served) ** 2 / (len(served) * sum(x * x for x in served))
                if served and any(served) else None)
        return {
            "site": self.site, "strategy": self.strategy, "sessions": len(self.sessions),
            "energy_kwh": round(self.energy_wh / 1000, 1),
            "wanted_kwh": round(sum(wanted) / 1000, 1),
            "missing_kwh": round(sum(max(0.0, s["wanted_wh"] - s["delivered_wh"])
                                     for s in self.sessions) / 1000, 1),
            "seconds_over_limit": round(self.seconds_over_limit),
            "breaker_trips": self.trips,
            "pv_self_consumption_pct": (round(100 * (self.pv_wh - self.export_wh)
                                              / self.pv_wh, 1) if self.pv_wh > 0 else None),
            "pv_kwh": round(self.pv_wh / 1000, 1),
            "ev_grid_kwh": round(self.ev_grid_wh / 1000, 1),
            "jain_index": round(jain, 3) if jain is not None else None,
            # Cars that left with less than 99 % of what they wanted; the worst served.
            "short_sessions": sum(1 for x in served if x < 0.99),
            "worst_served_pct": round(100 * min(served), 1) if served else None,
        }


class _Port:
    """A connector as the EMS sees it, answering at once and applying the limit."""

    def __init__(self, conn: Conn, volt: float) -> None:
        self.conn, self.volt = conn, volt

    def state(self) -> ConnectorState:
        c = self.conn
        if c.ev is None:
            return ConnectorState(True, "Available", None, (0.0, 0.0, 0.0), 0.0, "e", True)
        status = ("Charging" if c.current_a > 0 else "SuspendedEV" if c.ev.full
                  else "SuspendedEVSE")
        drawn = tuple(c.current_a if k < c.drawn_phases else 0.0 for k in range(3))
        return ConnectorState(True, status, c.tx, drawn, 0.0, "e",  # type: ignore[arg-type]
                              True, energy_wh=c.ev.state.energy_wh,
                              phase_switching=c.switching)

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float,
                        phases: int | None = None) -> str:
        self.conn.pilot_a = limit if unit == "A" else limit / (self.volt * 3)
        if self.conn.switching and (phases or 3) != self.conn.phases_on:
            self.conn.phases_on = phases or 3
            if self.conn.ev is not None:
                self.conn.ev.state.current_a = 0.0  # contactors opened: the car restarts
        return "accepted"

    async def set_fallback(self, limit: float, unit: Literal["A", "W"],
                           dips: tuple[Dip, ...] = ()) -> str:
        return "accepted"


class _Run:
    def __init__(self, config: HubConfig, site: SiteConfig, scenario: str, strategy: str,
                 seed: int, step_s: float, start: datetime = START,
                 load: SiteLoad | None = None) -> None:
        self.config, self.site, self.strategy, self.step_s = config, site, strategy, step_s
        self.start = start
        self.sim = SiteSim(site, load or load_of(scenario, config.sites.index(site)))
        self.conns = {cp.id: Conn(cp.id, cp.grid_phases(), cp.max_current_a,
                                  switching=bool(cp.phase_switching))
                      for cp in site.charge_points()}
        self.cps = {k: _Cp(c) for k, c in self.conns.items()}
        self.limits = {n: lim for n, lim in self._limits(site.grid)}
        # Each charge point's boards with a rating, grid last (fixed: computed once).
        self.paths = {k: [n for n in self.sim._path(node) if n in self.limits]
                      for k, node in self.sim.cp_node.items()}
        self.below = {n: [k for k, path in self.paths.items() if n in path]
                      for n in self.limits}
        rng, make = random.Random(seed), ARRIVALS.get(scenario, ARRIVALS["office"])
        weekdays_only = scenario in ("office", "campus")
        self.pending = sorted((a for d in range(7) if not (weekdays_only and d >= 5)
                               for a in make(site, rng, d)), key=lambda a: a.at_s)
        self.week = Week(site.id, strategy)
        # Until the last car of the week has left (overnight stays end on day 8).
        self.end_s = max((a.leave_s for a in self.pending), default=0.0) + step_s
        self.order: list[str] = []  # fcfs: connectors by arrival
        self.tx = 0

    def _limits(self, node: Any) -> list[tuple[str, float]]:
        own = [(node.id, node.limit_a)] if node.limit_a is not None else []
        return own + [x for child in node.children for x in self._limits(child)]

    def arrivals_and_departures(self, t: float) -> None:
        for c in self.conns.values():
            if c.arrival is not None and c.arrival.leave_s <= t:
                ev = c.arrival.ev
                self.week.sessions.append({"wanted_wh": ev.energy_wanted_wh or 0.0,
                                           "delivered_wh": ev.state.energy_wh})
                c.arrival, c.current_a = None, 0.0
                self.order.remove(c.cp_id)
        while self.pending and self.pending[0].at_s <= t:
            a = self.pending.pop(0)
            c = self.conns[a.cp_id]
            if c.arrival is None and a.leave_s > t:
                self.tx += 1
                c.arrival, c.tx = a, self.tx
                self.order.append(c.cp_id)

    def static_pilots(self, t: float) -> None:
        below = self.below
        if self.strategy == "none":
            for c in self.conns.values():
                c.pilot_a = c.max_a
        elif self.strategy == "equal":
            for c in self.conns.values():
                share = min(self.limits[n] / len(below[n]) for n in self.paths[c.cp_id])
                c.pilot_a = min(c.max_a, max(MIN_A, share))
        else:  # fcfs, edf, llf: in their order, what is left on every board of its path
            left = {n: [lim] * 3 for n, lim in self.limits.items()}
            for c in self.conns.values():
                c.pilot_a = 0.0
            for cp_id in self._ordered(t):
                c = self.conns[cp_id]
                ev = c.ev
                if ev is None or ev.full:
                    continue
                used = c.phases[: ev.phases]
                path = self.paths[cp_id]
                room = min((left[n][p] for n in path for p in used), default=c.max_a)
                give = min(c.max_a, room)
                if give >= MIN_A:
                    c.pilot_a = give
                    for n in path:
                        for p in used:
                            left[n][p] -= give

    def _ordered(self, t: float) -> list[str]:
        if self.strategy == "edf":
            return sorted(self.order, key=lambda k: self.conns[k].arrival.leave_s)  # type: ignore[union-attr]
        if self.strategy == "llf":
            return sorted(self.order, key=lambda k: self._laxity(self.conns[k], t))
        return self.order

    def _laxity(self, c: Conn, t: float) -> float:
        """Time to spare: until departure, less the time its remaining need takes at
        full current."""
        a = c.arrival
        assert a is not None
        ev = a.ev
        left_wh = max(0.0, (ev.energy_wanted_wh or 0.0) - ev.state.energy_wh)
        full_w = min(c.max_a, ev.max_current_a) * ev.phases * self.site.voltage_v
        return (a.leave_s - t) - left_wh * 3600 / full_w

    def plan(self, c: Conn) -> Plan | None:
        """The departure plan of the car on ``c`` (its owner's need, when it leaves)."""
        a = c.arrival
        if a is None or a.ev.energy_wanted_wh is None:
            return None
        return Plan(self.start.astimezone(ZoneInfo("UTC")) + timedelta(seconds=a.leave_s),
                    a.ev.energy_wanted_wh, "bench")

    def physics(self, t: float) -> None:
        dt = self.step_s
        for cp_id, c in self.conns.items():
            cut = self.cps[cp_id].power_cut
            c.current_a = (c.ev.step(dt, 0.0 if cut else c.pilot_a, c.drawn_phases)
                           if c.ev else 0.0)
        local = self.start + timedelta(seconds=t)
        before = len(self.sim.report.trips)
        self.sim.step(dt, t, local, self.cps)  # type: ignore[arg-type]
        volt = self.site.voltage_v
        ev_w = sum(c.current_a * len(c.phases[: c.drawn_phases]) * volt
                   for c in self.conns.values() if c.ev is not None and c.current_a > 0)
        grid_w = sum(self.sim.last_import_a) * volt
        self.week.ev_grid_wh += (max(0.0, grid_w) - max(0.0, grid_w - ev_w)) * dt / 3600
        self.week.trips += len(self.sim.report.trips) - before
        self._over_and_reset(t)
        pv = pv_power_w(self.sim.load.pv_kwp, local)
        self.week.pv_wh += pv * dt / 3600
        if int(t) % 600 == 0:
            self.week.grid_import_a.append((t / 3600, max(self.sim.last_import_a)))
            self.week.power_w.append((t / 3600, grid_w, ev_w, pv))

    def _over_and_reset(self, t: float) -> None:
        currents = {n: [0.0, 0.0, 0.0] for n in self.limits}
        for cp_id, c in self.conns.items():
            if c.current_a <= 0 or c.ev is None:
                continue
            for n in self.paths[cp_id]:
                for p in c.phases[: c.ev.phases]:
                    currents[n][p] += c.current_a
        grid = self.site.grid.id
        if grid in currents:
            currents[grid] = list(self.sim.last_import_a)
        over = any(max(cur) > self.limits[n] + 0.01 for n, cur in currents.items())
        va = sum(max(0.0, g) for g in self.sim.last_import_a) * self.site.voltage_v
        if over or (self.site.grid.limit_va is not None and va > self.site.grid.limit_va):
            self.week.seconds_over_limit += self.step_s
        for node, breaker in self.sim.breakers.items():
            if breaker.tripped_at_s is not None and t - breaker.tripped_at_s >= RESET_AFTER_S:
                breaker.tripped_at_s, breaker.heat = None, [0.0, 0.0, 0.0]
                for cp_id, cp_node in self.sim.cp_node.items():
                    if node in self.sim._path(cp_node):
                        self.cps[cp_id].power_cut = False


# Called every step with the run, the EMS and the simulated seconds (a grid signal's
# service applying its slots, a recorder).
Hook = Callable[[Any, EmsLoop, float], None]


async def _hub(run: _Run, config: HubConfig, end_s: float, hook: Hook | None = None) -> None:
    clock = FakeClock(run.start.astimezone(ZoneInfo("UTC")))
    ports = {f"{k}/1": _Port(c, run.site.voltage_v) for k, c in run.conns.items()}
    meters = ({run.site.grid.id: SimMeter(run.sim)} if run.site.grid.meter else {})
    loop = EmsLoop(config, lambda: ports, meters, clock)  # type: ignore[arg-type]
    t, every = 0.0, max(1, round(config.ems.cycle_s / run.step_s))
    k = 0
    planned: set[int] = set()
    while t < end_s:
        run.arrivals_and_departures(t)
        if run.strategy == "hub-plan":
            for cp_id, c in run.conns.items():
                plan = run.plan(c)
                if plan is not None and c.tx not in planned:
                    planned.add(c.tx)
                    loop.plans.set(f"{cp_id}/1", c.tx, plan)
        if hook is not None:
            hook(run, loop, t)
        if k % every == 0:
            loop.cycle()
            for _ in range(3):  # let the applier's sends run (they answer at once)
                await asyncio.sleep(0)
        run.physics(t)
        clock.advance(run.step_s)
        t += run.step_s
        k += 1
    await loop.stop()


def simulate_week(config: HubConfig, scenario: str, strategy: str, seed: int = 1,
                  step_s: float = 5.0, hours: float | None = None, start: datetime = START,
                  load: SiteLoad | None = None, hook: Hook | None = None) -> list[Week]:
    """Each site of ``config`` for a week of arrivals (until the last car has left, or
    ``hours``) from ``start`` (a Monday) under ``strategy``; one Week per site. ``load``:
    the first site's building and PV instead of the scenario's."""
    weeks = []
    for k, site in enumerate(config.sites):
        run = _Run(config, site, scenario, strategy, seed, step_s, start,
                   load if k == 0 else None)
        end_s = hours * 3600 if hours is not None else run.end_s
        if strategy in ("hub", "hub-plan"):
            asyncio.run(_hub(run, config, end_s, hook))
        else:
            t = 0.0
            while t < end_s:
                run.arrivals_and_departures(t)
                run.static_pilots(t)
                run.physics(t)
                t += step_s
        run.arrivals_and_departures(end_s + 1e9)
        run.week.energy_wh = run.sim.report.energy_wh
        run.week.export_wh = run.sim.export_wh
        weeks.append(run.week)
    return weeks
