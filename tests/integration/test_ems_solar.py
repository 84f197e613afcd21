"""Solar charging closed loop: simulated charge points over real websockets, the site's
grid meter seeing the roof's export, the solar control starting, sharing and stopping
cars on it (fast timings: a decision every second, start after 3 s, stop after 8 s)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from hub_engine.ems.rights import SessionRights
from hub_engine.sim.ev import EV
from tests.integration.ems_harness import REACTION_S, running_site, site_config

SITE = """
sites:
  - id: s
    solar: {{mode: {mode}, interval_s: 1, start_delay_s: 3, stop_delay_s: 8,
             stop_import_w: 300}}
    grid:
      id: grid
      limit_a: 63
      meter: m
      charge_points: [{{id: CP1}}, {{id: CP2, solar: {cp2}}}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
"""


def _solar(tmp_path: Path, mode: str = "surplus", cp2: str = "site") -> object:
    return site_config(tmp_path, SITE.format(mode=mode, cp2=cp2))


def _now_cars(site) -> dict[str, float]:  # type: ignore[no-untyped-def]
    return site.trace.cars_at(time.monotonic() - 0.2)


async def test_a_surplus_car_charges_on_the_export_only_and_rides_out_a_cloud(
        tmp_path: Path) -> None:
    async with running_site(_solar(tmp_path)) as site:  # type: ignore[arg-type]
        site.sim.extra_load_a = (-15.0, -15.0, -15.0)  # the roof exports 15 A per phase
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(2)
        assert _now_cars(site)["CP1"] == 0.0  # not before its start delay
        await asyncio.sleep(3 + REACTION_S)  # started on its share
        assert _now_cars(site)["CP1"] == pytest.approx(15.0, abs=1.0)
        assert site.trace.max_import_after(time.monotonic() - 3) < 1.0  # no grid energy
        record = site.loop.record["solar"]["s"]
        assert record["cars"]["CP1/1"]["on"] and record["mode"] == "surplus"
        t_cloud = time.monotonic()
        site.sim.extra_load_a = (-3.0, -3.0, -3.0)  # a cloud: 3 A, under its minimum
        await asyncio.sleep(REACTION_S)
        assert _now_cars(site)["CP1"] == pytest.approx(6.0, abs=0.2)  # rides it out
        await asyncio.sleep(8 - REACTION_S + 4)
        assert _now_cars(site)["CP1"] == 0.0  # stopped once its stop delay ran out
        off_at = next(ts for ts, cars in site.trace.cars if ts > t_cloud
                      and cars.get("CP1") == 0.0)
        assert off_at - t_cloud >= 8.0  # not before
        site.sim.extra_load_a = (-10.0, -10.0, -10.0)  # the sun is back
        await asyncio.sleep(3 + REACTION_S)
        assert _now_cars(site)["CP1"] == pytest.approx(10.0, abs=1.0)
        assert not site.sim.report.trips


async def test_modes_per_charge_point_and_per_badge(tmp_path: Path) -> None:
    """At night on a surplus site: the charge point set to ``off`` charges at full grid
    power, the surplus one waits; a badge in ``min_solar`` gets its minimum."""
    async with running_site(_solar(tmp_path, cp2="off")) as site:  # type: ignore[arg-type]
        for cp in ("CP1", "CP2"):
            await site.cp(cp).plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(4 + REACTION_S)
        cars = _now_cars(site)
        assert cars["CP2"] == pytest.approx(32.0, abs=0.2) and cars["CP1"] == 0.0, cars
        site.loop.session_rights = lambda: {"CP1/1": SessionRights(solar="min_solar")}
        await asyncio.sleep(2 + REACTION_S)
        cars = _now_cars(site)
        assert cars["CP1"] == pytest.approx(6.0, abs=0.2), cars
        assert site.loop.record["solar"]["s"]["cars"]["CP1/1"]["mode"] == "min_solar"
        assert "CP2/1" not in site.loop.record["solar"]["s"]["cars"]


async def test_two_surplus_cars_share_the_export_without_grid_energy(tmp_path: Path) -> None:
    async with running_site(_solar(tmp_path)) as site:  # type: ignore[arg-type]
        site.sim.extra_load_a = (-30.0, -30.0, -30.0)  # 20.7 kW exported
        for cp in ("CP1", "CP2"):
            await site.cp(cp).plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(3 + 2 * REACTION_S + 3)
        cars = _now_cars(site)
        assert cars["CP1"] == pytest.approx(15.0, abs=1.5), cars
        assert cars["CP2"] == pytest.approx(15.0, abs=1.5), cars
        assert site.trace.max_import_after(time.monotonic() - 3) < 1.5


@contextlib.asynccontextmanager
async def _battery_site(tmp_path: Path, body: str, battery: Any) -> AsyncIterator[Any]:
    """The closed-loop site of ``body`` (with ``{port}`` for the battery's) whose battery
    is ``battery``, served over Modbus TCP and read by the hub's devices."""
    from hub_engine.clock import SystemClock
    from hub_engine.devices.build import build_devices
    from hub_engine.sim.battery import BatteryServer
    from tests.conftest import free_port

    port = free_port()
    config = site_config(tmp_path, body.format(port=port))
    server = BatteryServer(battery, port=port)
    await server.start()
    devices = build_devices(config, SystemClock())
    for component in devices.components:
        await component.start()
    try:
        async with running_site(config) as site:  # type: ignore[arg-type]
            site.sim.battery = battery
            site.loop.solar.batteries = devices.batteries
            yield site
    finally:
        for component in devices.components:
            await component.stop()
        await server.stop()


BATTERY_SITE = """
sites:
  - id: s
    solar: {{mode: surplus, interval_s: 1, start_delay_s: 3, stop_delay_s: 8}}
    grid:
      id: grid
      limit_a: 63
      meter: m
      charge_points: [{{id: CP1}}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
devices:
  - {{id: bat, role: battery, node: grid, max_charge_w: 8000,
     options: {{host: 127.0.0.1, port: {port}, template: generic_battery,
               poll_interval_s: 0.5}}}}
"""


async def test_a_battery_takes_the_export_no_car_takes_and_never_the_grid(
        tmp_path: Path) -> None:
    """Over Modbus TCP to a simulated battery: it charges with the export while no car
    is there, gives way to a surplus car, and stops within seconds when a cloud would
    make it charge from the grid."""
    from hub_engine.sim.battery import SimBattery

    battery = SimBattery(capacity_wh=50_000, max_w=10_000)
    async with _battery_site(tmp_path, BATTERY_SITE, battery) as site:
        site.sim.extra_load_a = (-20.0, -20.0, -20.0)  # 13.8 kW exported
        await asyncio.sleep(6)
        assert battery.power_w == pytest.approx(8000, abs=50)  # its maximum
        assert site.sim.last_import_a[0] == pytest.approx(-(13800 - 8000) / 690, abs=0.5)
        record = site.loop.record["solar"]["s"]["battery"]
        assert record["id"] == "bat" and record["setpoint_w"] == 8000
        # A surplus car comes: it starts on the export the battery was taking.
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(3 + REACTION_S + 3)
        assert _now_cars(site)["CP1"] == pytest.approx(20.0, abs=1.0)
        assert battery.power_w < 300, battery.power_w
        # The car leaves, the battery charges again; then a cloud: no grid energy.
        await site.cp("CP1").unplug(1)
        await asyncio.sleep(5)
        assert battery.power_w == pytest.approx(8000, abs=50)
        t_cloud = time.monotonic()
        site.sim.extra_load_a = (0.0, 0.0, 0.0)
        await asyncio.sleep(6)  # several decisions: none may put it back on the grid
        assert battery.power_w < 50, battery.power_w
        assert site.trace.max_import_after(t_cloud + 3.5) < 0.1  # A per phase


DISCHARGE_SITE = """
sites:
  - id: s
    grid:
      id: grid
      limit_a: 20
      margin_a: 1
      meter: m
      charge_points: [{{id: CP1}}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
devices:
  - {{id: bat, role: battery, node: grid, max_charge_w: 8000, max_discharge_w: 4140,
     min_soc_pct: 20,
     options: {{host: 127.0.0.1, port: {port}, template: generic_battery,
               poll_interval_s: 0.5}}}}
"""


async def test_a_battery_covers_the_cars_but_never_makes_room_for_them(
        tmp_path: Path) -> None:
    """Evening, a 20 A supply, 5 A of building, a car: the battery discharges its 4.1 kW
    into the car's draw (the grid takes 6 A less), but the car is not raised into the
    room the battery makes: when the battery runs down to its minimum and stops, the
    supply is not overloaded."""
    from hub_engine.sim.battery import SimBattery

    battery = SimBattery(capacity_wh=50_000, soc_pct=80.0, max_w=10_000)
    async with _battery_site(tmp_path, DISCHARGE_SITE, battery) as site:
        site.sim.extra_load_a = (5.0, 5.0, 5.0)
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(3 * REACTION_S)
        assert battery.power_w == pytest.approx(-4140, abs=60)
        car = _now_cars(site)["CP1"]
        assert 13.0 <= car <= 14.5, car  # 20 − 1 − 5: the grid's room, not more
        assert site.sim.last_import_a[0] == pytest.approx(5 + car - 6, abs=0.6)
        assert site.loop.record["solar"]["s"]["battery"]["setpoint_w"] == -4140
        t_empty = time.monotonic()
        battery.soc_pct = 19.0  # at its minimum: the hub stops it
        await asyncio.sleep(REACTION_S)
        assert battery.power_w > -50, battery.power_w
        assert site.trace.max_import_after(t_empty) <= 20.0 + 0.05
        assert not site.sim.report.trips
