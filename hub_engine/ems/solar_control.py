"""Solar charging in the EMS cycle: each site's mode, the grid meter's export averaged
between decisions, one :func:`hub_engine.ems.solar.decide` per site every
``interval_s`` (at once when a solar session starts or ends), and the resulting caps as
external limits of source ``solar``.

A session's mode is its badge's (access control) if set, else its charge point's
(``charge_points[].solar``), else its site's (``sites[].solar.mode``).

A site's battery (a device with ``max_charge_w``) is charged with what the cars leave of
the surplus. Between decisions, at every cycle, any import (or a
grid meter gone silent) lowers its setpoint at once: the battery must never charge from
the grid. The setpoint is rewritten on a change and every ``BATTERY_REFRESH_S``.

With ``max_discharge_w``, a battery not charging is discharged, every cycle, to cover
what the site's cars draw from the grid (down to ``min_soc_pct``, never into export).
Its discharge is added back to the grid meter's reading before the EMS sees it
(:meth:`SolarControl.without_discharge`): the cars are never given what only the
battery makes room for, so a battery that stops, empty or failed, overloads nothing.

A solar car with a departure plan gets from the grid what the PV forecast says the sun
will not give it before it leaves (:mod:`hub_engine.ems.solar_plan`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any, Literal

from hub_engine.clock import Clock
from hub_engine.config import HubConfig, NodeConfig
from hub_engine.config.solar import SolarMode
from hub_engine.ems.interfaces import BatteryPort
from hub_engine.ems.model import Connector, ExternalLimit, Node
from hub_engine.ems.prepare import drawn_phases
from hub_engine.ems.solar import SolarBattery, SolarCar, SolarRules, SolarTrack, decide
from hub_engine.ems.solar_battery import BATTERY_REFRESH_S, BatteryControl, SiteState
from hub_engine.ems.solar_phases import PhaseCar, PhaseRules, PhaseTrack, choose_phases
from hub_engine.ems.solar_plan import PlannedCar, TopUp, sun_ahead_wh, top_up

__all__ = ["BATTERY_REFRESH_S", "SOLAR", "SolarControl"]

log = logging.getLogger(__name__)
SOLAR = "solar"
SETTLE_S = 30.0  # after a raise, how long a car may take to follow before it "takes less"
On = Literal["surplus", "min_solar"]
# A site's PV forecast: (start, end, W) per slot, None when it has no valid one.
Forecast = Callable[[str], list[tuple[datetime, datetime, float]] | None]


class SolarControl(BatteryControl):
    def __init__(self, config: HubConfig, timeout_s: float, clock: Clock) -> None:
        self.timeout_s, self.clock = timeout_s, clock
        self.forecast: Forecast | None = None  # the PV forecast service's ``ahead``
        self.topups: dict[str, TopUp] = {}
        self.sites: dict[str, SiteState] = {s.id: SiteState(s.solar, s.grid.id, s.voltage_v)
                                        for s in config.sites}
        self.site_of_node: dict[str, str] = {}
        self.cp_mode: dict[str, SolarMode | str] = {}
        for site in config.sites:
            self._walk(site.id, site.grid)
        self.tracks: dict[str, SolarTrack] = {}
        self.modes: dict[str, SolarMode] = {}
        self.batteries: dict[str, BatteryPort] = {}  # site id → the battery it charges
        self.raised: dict[str, float] = {}  # connector → when its cap last went up
        self.phase_tracks: dict[str, PhaseTrack] = {}  # cars that switch phases

    def _walk(self, site: str, node: NodeConfig) -> None:
        self.site_of_node[node.id] = site
        for cp in node.charge_points:
            self.cp_mode[cp.id] = cp.solar
        for child in node.children:
            self._walk(site, child)

    def mode_of(self, conn: Connector, badge: SolarMode | None) -> SolarMode:
        if badge is not None:
            return badge
        own = self.cp_mode.get(conn.id.split("/")[0], "site")
        if own != "site":
            return own  # type: ignore[return-value]
        return self.sites[self.site_of_node[conn.node]].config.mode

    def limits(self, now_s: float, nodes: tuple[Node, ...] | list[Node],
               connectors: list[Connector], badges: Mapping[str, SolarMode | None]
               ) -> tuple[ExternalLimit, ...]:
        """This cycle's caps; a decision is taken where one is due."""
        grid = {n.id: n for n in nodes}
        out: list[ExternalLimit] = []
        self.modes = {}
        for site_id, site in self.sites.items():
            mine = [c for c in connectors if c.session is not None
                    and self.site_of_node[c.node] == site_id]
            site.cars_w = sum(sum(c.session.measured_a) * site.voltage_v for c in mine
                              if c.session is not None and c.session.measured_a is not None
                              and (c.session.measured_age_s or 0.0) <= self.timeout_s)
            solar: list[tuple[Connector, On]] = [
                (c, m) for c in mine if (m := self.mode_of(c, badges.get(c.id))) != "off"]
            self.modes.update({c.id: m for c, m in solar})
            self._sample(site, grid.get(site.grid), now_s)
            ids = frozenset(c.id for c, _ in solar)
            battery = self.batteries.get(site_id)
            if (ids or battery is not None) and (
                    ids != site.cars or now_s - site.decided_s >= site.config.interval_s):
                self._decide(site, solar, now_s, battery)
            site.cars = ids
            if battery is not None:
                self._guard_battery(site, battery, now_s)
            for c, _ in solar:
                cap_w = self.tracks[c.id].cap_w
                by_w = c.control == "W" or c.dc
                out.append(ExternalLimit(
                    target=c.id, source=SOLAR,
                    limit_a=None if by_w else cap_w / self._wpa(c, site),
                    limit_w=cap_w if by_w else None))
        self.tracks = {k: v for k, v in self.tracks.items() if k in self.modes}
        self.phase_tracks = {k: v for k, v in self.phase_tracks.items() if k in self.modes}
        self.raised = {k: v for k, v in self.raised.items() if k in self.modes}
        self.topups = {k: v for k, v in self.topups.items() if k in self.modes}
        return tuple(out)

    def _sample(self, site: SiteState, node: Node | None, now_s: float) -> None:
        reading = node.meter if node is not None else None
        if reading is None or reading.age_s > self.timeout_s or reading.power_w is None:
            site.samples_w.clear()  # the export is unknown now: no average across the gap
            site.grid_w = None
            return
        site.grid_w = sum(reading.power_w)
        site.samples_w.append((now_s, site.grid_w))
        # Without a solar car no decision empties it: keep one interval, not the night.
        while now_s - site.samples_w[0][0] > site.config.interval_s:
            site.samples_w.popleft()

    def _decide(self, site: SiteState, solar: list[tuple[Connector, On]], now_s: float,
                battery: BatteryPort | None) -> None:
        cars = [self._car(c, m, site, now_s) for c, m in solar]
        mean_w = (sum(w for _, w in site.samples_w) / len(site.samples_w)
                  if site.samples_w and site.grid_w is not None else None)
        rules = SolarRules(site.config.start_delay_s, site.config.stop_delay_s,
                           site.config.start_margin_w, site.config.stop_import_w)
        seen = self._battery(site, battery) if battery is not None else None
        decision = decide(cars, self.tracks, mean_w, rules, now_s, seen)
        self._anticipate(site, solar, cars, decision.tracks, mean_w, seen, now_s)
        if decision.surplus_w is not None:
            self._choose_phases(site, solar, cars, decision.tracks, decision.surplus_w, now_s)
        for cid, t in decision.tracks.items():
            if t.cap_w > self.tracks.get(cid, SolarTrack()).cap_w + 1.0:
                self.raised[cid] = now_s
        self.tracks.update(decision.tracks)
        site.surplus_w, site.decided_s = decision.surplus_w, now_s
        site.samples_w.clear()
        site.battery_w = decision.battery_w

    def _anticipate(self, site: SiteState, solar: list[tuple[Connector, On]],
                    cars: list[SolarCar], tracks: dict[str, SolarTrack], grid_w: float | None,
                    battery: SolarBattery | None, now_s: float) -> None:
        """Raise the caps of the cars whose plan the sun ahead will not fill."""
        planned = [c for c, _ in solar if c.session is not None
                   and c.session.departure_s is not None
                   and c.session.energy_need_wh is not None]
        if not planned:
            return
        site_id = self.site_of_node[site.grid]
        got = self.forecast(site_id) if self.forecast is not None else None
        slots: list[tuple[float, float, float]] | None = None
        building_w: float | None = None
        if got is not None and grid_w is not None:
            # The forecast on the cycle's time scale; the building's load now: what the
            # grid and the panels give, less the cars and the battery.
            off = now_s - self.clock.now().timestamp()
            slots = [(a.timestamp() + off, b.timestamp() + off, w) for a, b, w in got]
            pv_now = next((w for a, b, w in slots if a < now_s <= b), 0.0)
            stored = battery.draw_w if battery is not None else 0.0
            building_w = max(0.0, grid_w + pv_now - sum(c.draw_w for c in cars) - stored)
        by_id = {c.id: c for c in cars}
        for c in planned:
            s = c.session
            assert s is not None and s.departure_s is not None and s.energy_need_wh is not None
            car = by_id[c.id]
            sun = (sun_ahead_wh(slots, now_s, s.departure_s, building_w, len(cars))
                   if slots is not None and building_w is not None else None)
            t = top_up(PlannedCar(s.energy_need_wh - s.energy_wh, s.departure_s - now_s,
                                  car.min_w, car.max_w), tracks[c.id].cap_w, sun)
            self.topups[c.id] = t
            tracks[c.id] = replace(tracks[c.id], cap_w=round(t.cap_w, 1))

    def wish(self, connector_id: str) -> int | None:
        """The phases solar charging wants the connector on: 1, or None (its own)."""
        t = self.phase_tracks.get(connector_id)
        return 1 if t is not None and t.phases == 1 else None

    def _choose_phases(self, site: SiteState, solar: list[tuple[Connector, On]],
                       cars: list[SolarCar], tracks: dict[str, SolarTrack], surplus_w: float,
                       now_s: float) -> None:
        """Switch the cars that can between one phase and three
        (:mod:`hub_engine.ems.solar_phases`); a car switched gets the share its new
        phases allow."""
        volt, cfg = site.voltage_v, site.config
        can = {c.id: c for c, _ in solar if c.phases_cmd is not None and (
            c.session is None or c.session.ev_phases != 1)}
        for c, _ in solar:
            if c.id not in can:  # a single-phase car after all, or a refusing charge point
                self.phase_tracks.pop(c.id, None)
        pcars = [PhaseCar(car.id, tracks[car.id].on, car.asking, tracks[car.id].cap_w,
                          can[car.id].min_current_a * volt,
                          can[car.id].min_current_a * 3 * volt)
                 for car in cars if car.id in can]
        if not pcars:
            return
        # What the sun leaves over the minimum of every car that is on, switching or not.
        mins = {car.id: car.min_w for car in cars}
        free = surplus_w - sum(mins[c.id] for c, _ in solar if tracks[c.id].on)
        spare = surplus_w - sum(tracks[c.id].cap_w for c, _ in solar if tracks[c.id].on)
        new = choose_phases(pcars, self.phase_tracks, free,
                            PhaseRules(cfg.start_delay_s, cfg.start_margin_w,
                                       cfg.phase_switch_hold_s), now_s)
        for car in pcars:
            was = self.phase_tracks.get(car.id, PhaseTrack()).phases
            n = new[car.id].phases
            if n != was and car.on:
                conn = can[car.id]
                most = conn.max_current_a * n * volt
                if conn.max_power_w is not None:
                    most = min(most, conn.max_power_w)
                cap = max(conn.min_current_a * n * volt, min(car.cap_w + spare, most))
                tracks[car.id] = replace(tracks[car.id], cap_w=round(cap, 1),
                                         short_since_s=None)
            if n != was:
                log.info("%s: solar charging on %d phase(s)", car.id, n)
        self.phase_tracks.update(new)

    def _wpa(self, c: Connector, site: SiteState) -> float:
        """W per amp of its per-phase current: as the allocation counts it, or on the one
        phase solar charging wants it on."""
        return site.voltage_v if self.wish(c.id) == 1 else _wpa(c, site)

    async def stop(self) -> None:
        for site in self.sites.values():
            if site.writing is not None:
                site.writing.cancel()

    def _car(self, c: Connector, mode: On, site: SiteState, now_s: float) -> SolarCar:
        s = c.session
        assert s is not None
        wpa = self._wpa(c, site)
        cap = self.tracks.get(c.id, SolarTrack()).cap_w
        fresh = (s.measured_a is not None and s.measured_age_s is not None
                 and s.measured_age_s <= self.timeout_s)
        draw = sum(s.measured_a) * site.voltage_v if fresh and s.measured_a else cap
        # Its cap unchanged upwards long enough for the charge point and the car to follow
        # (a car starts or rises in 5 to 30 s), and still 2 A below it: it takes only
        # what it draws (a tapering battery, a limit above it), the rest goes elsewhere.
        settled = now_s - self.raised.get(c.id, -1e18) >= max(2 * site.config.interval_s,
                                                               SETTLE_S)
        takes = (draw if fresh and settled and s.state == "charging"
                 and draw < cap - 2.0 * wpa else None)
        max_w = c.max_current_a * wpa
        if c.max_power_w is not None:
            max_w = min(max_w, c.max_power_w)
        return SolarCar(id=c.id, mode=mode, min_w=c.min_current_a * wpa,
                        max_w=max_w, watts_per_a=wpa, draw_w=draw,
                        asking=s.state != "suspended_ev", tier=c.tier, takes_w=takes)

    def describe(self, now_s: float) -> dict[str, Any]:
        """Per site: mode, grid power, surplus, and each solar car's state (the record):
        on or not, its cap, and the seconds left before a pending start or stop."""
        out: dict[str, Any] = {}
        for site_id, site in self.sites.items():
            cfg = site.config
            cars = {cid: {"mode": self.modes[cid], "on": t.on, "cap_w": t.cap_w,
                          "starts_in_s": _left(cfg.start_delay_s, t.ready_since_s, now_s),
                          "stops_in_s": _left(cfg.stop_delay_s, t.short_since_s, now_s),
                          "plan": _topup(self.topups.get(cid)),
                          "phases": (self.phase_tracks[cid].phases
                                     if cid in self.phase_tracks else None)}
                    for cid, t in self.tracks.items() if cid in site.cars}
            battery = self.batteries.get(site_id)
            if site.config.mode != "off" or cars or battery is not None:
                out[site_id] = {"mode": site.config.mode, "grid_w": site.grid_w,
                                "surplus_w": site.surplus_w, "cars": cars,
                                "battery": None if battery is None else {
                                    "id": battery.id, "setpoint_w": site.battery_w,
                                    **(site.battery_seen or {})}}
        return out


def _left(delay_s: float, since_s: float | None, now_s: float) -> float | None:
    return None if since_s is None else round(max(0.0, delay_s - (now_s - since_s)), 1)


def _wpa(c: Connector, site: SiteState) -> float:
    """W per amp of the connector's per-phase current, as the allocation counts it."""
    return len(drawn_phases(c)[0]) * site.voltage_v


def _topup(t: TopUp | None) -> dict[str, Any] | None:
    """A planned car's anticipation, for the record (None: no plan)."""
    if t is None:
        return None
    return {"sun_ahead_wh": None if t.sun_wh is None else round(t.sun_wh),
            "grid_w": round(t.grid_w, 1), "why": t.why}
