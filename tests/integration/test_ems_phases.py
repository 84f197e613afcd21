"""3→1-phase switching closed loop: simulated charge points that switch their car
between three phases and one as numberPhases says (and one whose firmware says it does
and ignores it), over real websockets, on a solar site's export."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import pytest

from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from tests.integration.ems_harness import REACTION_S, running_site, site_config

SITE = """
sites:
  - id: s
    solar: {mode: surplus, interval_s: 1, start_delay_s: 3, stop_delay_s: 8,
            phase_switch_hold_s: 5}
    grid:
      id: grid
      limit_a: 63
      meter: m
      charge_points: [{id: CP1}, {id: CP2}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""


def _sims(switching: dict[str, bool], quirks: dict[str, Quirk] | None = None
          ) -> Any:
    def make(cp_id: str) -> SimConfig:
        q = (quirks or {}).get(cp_id)
        return SimConfig(cp_id, apply_delay_s=1.0, meter_interval_s=1.0,
                         phase_switching=switching.get(cp_id, False),
                         quirks=frozenset({q}) if q else frozenset())
    return make


def _conn(site: Any, cid: str) -> dict[str, Any]:
    return next(c for c in site.loop.record["connectors"] if c["id"] == cid)


async def _until(check: Any, timeout_s: float) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, "timed out"
        await asyncio.sleep(0.2)


async def test_a_switching_car_charges_on_one_phase_where_three_could_not_start(
        tmp_path: Path) -> None:
    """2.5 kW of export: under the 4.1 kW a three-phase car needs. The charge point that
    switches puts its car on one phase and it charges on the sun; the one that does not
    leaves its car waiting. With 13.8 kW the first goes back to three phases and both
    share the export."""
    config = site_config(tmp_path, SITE)
    async with running_site(config, sims=_sims({"CP1": True})) as site:
        site.sim.extra_load_a = (-3.6, -3.6, -3.6)  # 2.5 kW exported
        for cp in ("CP1", "CP2"):
            await site.cp(cp).plug(1, EV(max_current_a=32, ramp_s=1.0))
        # Switched at once (waiting, it draws nothing), started after its start delay.
        await _until(lambda: site.cp("CP1").connectors[1].current_a > 5, 3 + 3 * REACTION_S)
        await asyncio.sleep(REACTION_S)
        cp1 = site.cp("CP1").connectors[1]
        assert site.cp("CP1").drawn_phases(cp1) == 1
        assert cp1.current_a == pytest.approx(2484 / 230, abs=1.5)
        assert site.cp("CP2").connectors[1].current_a == 0.0  # 4.1 kW it cannot have
        net_w = sum(site.sim.last_import_a) * 230
        assert abs(net_w) < 400, net_w  # the sun's, not the grid's
        record = _conn(site, "CP1/1")
        assert record["phases_cmd"] == 1
        assert record["phases"] == [0]  # counted on L1 once seen there
        assert site.loop.record["solar"]["s"]["cars"]["CP1/1"]["phases"] == 1
        assert _conn(site, "CP2/1")["phases_cmd"] is None
        # The sun comes out: back on three phases (after the hold), both charging.
        site.sim.extra_load_a = (-20.0, -20.0, -20.0)  # 13.8 kW
        await _until(lambda: site.cp("CP1").drawn_phases(cp1) == 3, 5 + 3 + 3 * REACTION_S)
        await _until(lambda: site.cp("CP2").connectors[1].current_a > 5, 3 + 3 * REACTION_S)
        await asyncio.sleep(2 * REACTION_S)
        cars = {k: site.cp(k).connectors[1].current_a for k in ("CP1", "CP2")}
        assert cars["CP1"] == pytest.approx(10.0, abs=1.5), cars
        assert cars["CP2"] == pytest.approx(10.0, abs=1.5), cars
        assert _conn(site, "CP1/1")["phases"] == [0, 1, 2]
        assert not site.sim.report.trips


GROUP_SITE = """
sites:
  - id: s
    solar: {mode: surplus, interval_s: 1, start_delay_s: 3, stop_delay_s: 30,
            phase_switch_hold_s: 60}
    grid:
      id: grid
      limit_a: 63
      meter: m
      children:
        - id: g
          limit_a: 16
          charge_points: [{id: CP1}, {id: CP2, rotation: L2L3L1, solar: "off"}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""


async def test_firmware_that_ignores_number_phases_is_counted_on_all_three(
        tmp_path: Path) -> None:
    """CP1 says it switches phases and ignores numberPhases: told one phase, its car
    goes on drawing on three. Its group (16 A, no meter) also feeds CP2's single-phase
    car on L2. Counted on L1 alone, CP1 would leave CP2 16 A on L2 and the group would
    carry CP1's draw on top; it is counted on its three phases once measured there, an
    alert says so and it is not switched again."""
    config = site_config(tmp_path, GROUP_SITE)
    sims = _sims({}, {"CP1": Quirk.NUMBER_PHASES_IGNORED})
    async with running_site(config, sims=sims) as site:
        site.sim.extra_load_a = (-3.6, -3.6, -3.6)  # 2.5 kW exported
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await _until(lambda: site.cp("CP1").connectors[1].current_a > 5, 3 + 3 * REACTION_S)
        t0 = time.monotonic()
        await site.cp("CP2").plug(1, EV(max_current_a=32, phases=1, ramp_s=1.0))
        await asyncio.sleep(3 * REACTION_S)
        cars = {k: site.cp(k).connectors[1].current_a for k in ("CP1", "CP2")}
        assert cars["CP1"] + cars["CP2"] <= 16.5, cars  # both on L2 of the group
        over, beyond = site.trace.over_beyond(REACTION_S, after=t0)
        assert beyond == 0.0, over
        assert not site.sim.report.trips
        cp1 = site.cp("CP1").connectors[1]
        assert site.cp("CP1").drawn_phases(cp1) == 3  # the firmware ignored it
        record = _conn(site, "CP1/1")
        assert record["phases"] == [0, 1, 2] and record["phases_cmd"] is None
        assert [t for k, t, _ in site.loop.alerts if k == "phases_not_switched"] == ["CP1/1"]
