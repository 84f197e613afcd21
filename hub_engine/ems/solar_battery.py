"""The battery side of solar charging (:class:`BatteryControl`, mixed into
:class:`~hub_engine.ems.solar_control.SolarControl`): charged with the surplus the cars
leave and never from the grid; with ``max_discharge_w``, discharged into the cars' grid
draw, its discharge added back to the grid reading before the EMS sees it. See the
solar control's docstring and docs/solar.md "A battery takes what no car takes".
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from dataclasses import dataclass, field, replace

from hub_engine.config.solar import SolarConfig
from hub_engine.ems.interfaces import BatteryPort
from hub_engine.ems.model import Node
from hub_engine.ems.solar import SolarBattery
from hub_engine.errors import ReadError

__all__ = ["BATTERY_REFRESH_S", "BatteryControl", "SiteState"]

log = logging.getLogger(__name__)
BATTERY_REFRESH_S = 60.0


@dataclass
class SiteState:
    config: SolarConfig
    grid: str  # the grid connection's node id
    voltage_v: float
    # The grid's power since the last decision, at most its last interval: (time, W).
    samples_w: deque[tuple[float, float]] = field(default_factory=deque)
    decided_s: float = -1e18
    cars: frozenset[str] = frozenset()
    surplus_w: float | None = None
    grid_w: float | None = None
    battery_w: float = 0.0  # the battery's setpoint now
    battery_seen: dict[str, float] | None = None  # its last reading (for the record)
    written: tuple[float, float] | None = None  # (setpoint, monotonic time) last written
    writing: asyncio.Task[None] | None = None
    cars_w: float = 0.0  # what the site's cars draw now (measured)


class BatteryControl:
    sites: dict[str, SiteState]
    batteries: dict[str, BatteryPort]  # site id → the battery it charges

    def _battery(self, site: SiteState, battery: BatteryPort) -> SolarBattery:
        try:
            r = battery.reading()
        except ReadError as exc:  # unseen: given nothing (its draw would be a guess)
            log.warning("battery %s: %s", battery.id, exc)
            site.battery_seen = None
            return SolarBattery(0.0, 0.0)
        site.battery_seen = {"power_w": round(r.power_w, 1), "soc_pct": round(r.soc_pct, 1)}
        full = r.soc_pct >= battery.max_soc_pct
        return SolarBattery(0.0 if full else battery.max_charge_w, r.power_w)

    def _guard_battery(self, site: SiteState, battery: BatteryPort, now_s: float) -> None:
        """Every cycle: never from the grid. Then write the setpoint if it changed or is
        due for its refresh (one write at a time; a failed one is tried again)."""
        if site.grid_w is None:
            site.battery_w = 0.0  # the export is not seen: stop charging
        elif site.grid_w > 0 and site.battery_w > 0:  # no tolerance: it can wait
            site.battery_w = max(0.0, round(site.battery_w - site.grid_w, 1))
        if battery.max_discharge_w > 0 and site.battery_w <= 0:
            site.battery_w = self._discharge(site, battery)
        if site.writing is not None and not site.writing.done():
            return
        last = site.written
        if last is not None and abs(last[0] - site.battery_w) < 50.0 and (
                now_s - last[1] < BATTERY_REFRESH_S):
            return
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # a decision replayed outside the engine: nothing to write
            return
        site.writing = asyncio.create_task(self._write(site, battery, site.battery_w, now_s))

    def _discharge(self, site: SiteState, battery: BatteryPort) -> float:
        """The discharge that covers the cars' grid draw (negative), or 0: the grid
        reading is the site's import without the battery (:meth:`without_discharge`)."""
        try:
            soc = battery.reading().soc_pct
        except ReadError:
            return 0.0
        if site.grid_w is None or soc <= battery.min_soc_pct:
            return 0.0
        return -round(min(battery.max_discharge_w, site.cars_w, max(0.0, site.grid_w)), 1)

    def without_discharge(self, nodes: list[Node]) -> list[Node]:
        """The grid readings as if no battery discharged: its discharge added back (a
        battery not read: counted at its full discharge; a single-phase one: on each
        phase)."""
        out = list(nodes)
        for site_id, battery in self.batteries.items():
            if battery.max_discharge_w <= 0:
                continue
            try:
                back_w = max(0.0, -battery.reading().power_w)
            except ReadError:
                back_w = battery.max_discharge_w
            site = self.sites[site_id]
            k = next((i for i, n in enumerate(out) if n.id == site.grid), None)
            reading = out[k].meter if k is not None else None
            if k is None or reading is None or back_w <= 0:
                continue
            # A single-phase battery's phase is not known: all of it on each (the safe side).
            share = 3 if battery.phases == 3 else 1
            per_a, per_w = back_w / (share * site.voltage_v), back_w / share
            signed = [a + per_a for a in reading.signed_a()]
            power = (None if reading.power_w is None
                     else (reading.power_w[0] + per_w, reading.power_w[1] + per_w,
                           reading.power_w[2] + per_w))
            current = ((abs(signed[0]), abs(signed[1]), abs(signed[2])) if power is not None
                       else (reading.current_a[0] + per_a, reading.current_a[1] + per_a,
                             reading.current_a[2] + per_a))
            # Its recent floor (the ramp credits' bound) shifts with it: never lower.
            floor = out[k].meter_floor_a
            out[k] = replace(out[k], meter=replace(reading, current_a=current, power_w=power),
                             meter_floor_a=None if floor is None else (
                                 floor[0] + per_a, floor[1] + per_a, floor[2] + per_a))
        return out

    async def _write(self, site: SiteState, battery: BatteryPort, power_w: float,
                     now_s: float) -> None:
        try:
            await battery.set_power(power_w)
        except (ReadError, OSError) as exc:
            log.warning("battery %s: setpoint %.0f W not written: %s", battery.id, power_w,
                        exc)
            return
        site.written = (power_w, now_s)
