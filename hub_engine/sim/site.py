"""A simulated site: the tree of the configuration with a breaker per rated node, the
building's load and PV on the grid connection, and the charge points' real draw.

Each step sums, per node and per grid phase, what the cars draw below it (through each
charge point's phase rotation), adds the building and subtracts PV at the grid
connection, heats the breakers, and records the import against the subscription.
A tripped breaker cuts every charge point below it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hub_engine.config import NodeConfig, SiteConfig
from hub_engine.ems.model import Reading
from hub_engine.sim.battery import SimBattery
from hub_engine.sim.chargepoint import SimChargePoint
from hub_engine.sim.modbus_meter import MeterReading
from hub_engine.sim.physics import Breaker, building_load_a, pv_power_w

__all__ = ["SimMeter", "SiteLoad", "SiteReport", "SiteSim"]


@dataclass(frozen=True)
class SiteLoad:
    profile: str = "office"
    base_a: float = 32.0  # nights and weekends, per phase
    peak_a: float = 125.0  # weekday peak, per phase
    pv_kwp: float = 0.0


@dataclass
class SiteReport:
    trips: list[tuple[str, float]] = field(default_factory=list)  # (node, sim seconds)
    max_import_a: float = 0.0  # worst phase at the grid connection
    max_import_va: float = 0.0
    seconds_over_limit: float = 0.0  # import above the subscription or the rating
    limit_a: float | None = None
    limit_va: float | None = None
    energy_wh: float = 0.0  # delivered to cars

    @property
    def max_overshoot_pct(self) -> float:
        ratios = []
        if self.limit_a:
            ratios.append(self.max_import_a / self.limit_a)
        if self.limit_va:
            ratios.append(self.max_import_va / self.limit_va)
        return round(max(0.0, max(ratios, default=0.0) - 1.0) * 100, 1)


class SiteSim:
    def __init__(self, site: SiteConfig, load: SiteLoad) -> None:
        self.site = site
        self.load = load
        self.parent: dict[str, str | None] = {}
        self.breakers: dict[str, Breaker] = {}
        self.cp_node: dict[str, str] = {}
        self.cp_phases: dict[str, list[int]] = {}
        self._walk(site.grid, None)
        self.report = SiteReport(limit_a=site.grid.limit_a, limit_va=site.grid.limit_va)
        self.last_import_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
        self.import_wh = 0.0
        self.export_wh = 0.0
        # A load switched on by a test or scenario (a kitchen, a heat pump), per phase.
        self.extra_load_a: tuple[float, float, float] = (0.0, 0.0, 0.0)
        # The nodes above a limit at the last step (rating per phase; the grid also its
        # kVA): what a bench counts as time over.
        self.over_nodes: list[str] = []
        self.battery: SimBattery | None = None  # on the grid connection, balanced

    def _walk(self, node: NodeConfig, parent: str | None) -> None:
        self.parent[node.id] = parent
        if node.limit_a is not None:
            self.breakers[node.id] = Breaker(node.limit_a)
        for cp in node.charge_points:
            self.cp_node[cp.id] = node.id
            self.cp_phases[cp.id] = cp.grid_phases()
        for child in node.children:
            self._walk(child, node.id)

    def _path(self, node_id: str) -> list[str]:
        out: list[str] = []
        cur: str | None = node_id
        while cur is not None:
            out.append(cur)
            cur = self.parent[cur]
        return out

    def step(self, dt_s: float, t_s: float, local: datetime,
             cps: dict[str, SimChargePoint]) -> None:
        current = {node: [0.0, 0.0, 0.0] for node in self.parent}
        for cp_id, cp in cps.items():
            phases = self.cp_phases.get(cp_id)
            if phases is None:
                continue
            for conn in cp.connectors.values():
                if conn.current_a <= 0 or conn.ev is None:
                    continue
                used = phases[: cp.drawn_phases(conn)]
                self.report.energy_wh += conn.current_a * 230 * len(used) * dt_s / 3600
                for node in self._path(self.cp_node[cp_id]):
                    for p in used:
                        current[node][p] += conn.current_a
        building = building_load_a(self.load.profile, local, self.load.base_a,
                                   self.load.peak_a)
        pv_a = pv_power_w(self.load.pv_kwp, local) / (3 * 230)
        battery_a = 0.0
        if self.battery is not None:
            self.battery.step(dt_s)
            battery_a = self.battery.power_w / (3 * self.site.voltage_v)
        grid = current[self.site.grid.id]
        for p in range(3):
            grid[p] += building[p] + self.extra_load_a[p] - pv_a + battery_a
        self.last_import_a = (grid[0], grid[1], grid[2])
        self.over_nodes = [node for node, breaker in self.breakers.items()
                           if max(current[node]) > breaker.rating_a + 0.01]
        va = sum(max(0.0, g) for g in grid) * self.site.voltage_v
        if self.site.grid.limit_va is not None and va > self.site.grid.limit_va + 1.0 and (
                self.site.grid.id not in self.over_nodes):
            self.over_nodes.append(self.site.grid.id)
        for node, breaker in self.breakers.items():
            c = current[node]
            if breaker.step(dt_s, (c[0], c[1], c[2]), t_s):
                self.report.trips.append((node, t_s))
                for cp_id, cp_node in self.cp_node.items():
                    if node in self._path(cp_node) and cp_id in cps:
                        cps[cp_id].power_cut = True
        self._record(dt_s, grid)

    def meter_reading(self) -> MeterReading:
        """What the meter on the grid connection shows now (signed power per phase)."""
        volt = self.site.voltage_v
        power = tuple(a * volt for a in self.last_import_a)
        return MeterReading((volt, volt, volt), self.last_import_a,
                            (power[0], power[1], power[2]), self.import_wh, self.export_wh)

    def _record(self, dt_s: float, grid: list[float]) -> None:
        net_w = sum(grid) * self.site.voltage_v
        if net_w >= 0:
            self.import_wh += net_w * dt_s / 3600
        else:
            self.export_wh -= net_w * dt_s / 3600
        r = self.report
        worst = max(grid)
        va = sum(max(0.0, g) for g in grid) * 230
        r.max_import_a = max(r.max_import_a, worst)
        r.max_import_va = max(r.max_import_va, va)
        over = (r.limit_a is not None and worst > r.limit_a) or (
            r.limit_va is not None and va > r.limit_va)
        if over:
            r.seconds_over_limit += dt_s


class SimMeter:
    """The simulated grid meter as the EMS reads it (:class:`MeterSource`)."""

    def __init__(self, sim: SiteSim) -> None:
        self.sim = sim

    def reading(self) -> Reading:
        current = self.sim.last_import_a
        volt = self.sim.site.voltage_v
        return Reading(current_a=(abs(current[0]), abs(current[1]), abs(current[2])),
                       age_s=0.0,
                       power_w=(current[0] * volt, current[1] * volt, current[2] * volt))
