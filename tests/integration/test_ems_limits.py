"""External limits (UI, API, bus) with expiry, and several sites in one hub."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest

from hub_engine.ems.external import LimitRequest
from hub_engine.sim.ev import EV
from tests.integration.ems_harness import REACTION_S, running_site, site_config
from tests.integration.test_ems_failsafes import plug_all, three


def _shares(site) -> list[float]:  # type: ignore[no-untyped-def]
    return sorted(site.trace.cars_at(time.monotonic() - 0.2).values())


async def test_an_external_limit_holds_until_it_expires_then_releases_or_holds(
        tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, three())) as site:
        await plug_all(site)
        await asyncio.sleep(8)
        now = site.loop.clock.now()
        site.loop.external.set(LimitRequest(target="grid", source="node-red", limit_a=20,
                                            expires_at=now + timedelta(seconds=8)))
        site.loop.wake()
        await asyncio.sleep(REACTION_S)
        assert _shares(site) == pytest.approx([6.0] * 3, abs=0.01)  # (20 − 2) / 3
        await asyncio.sleep(8)  # expired: released
        assert _shares(site) == pytest.approx([12.6] * 3, abs=0.01)
        # A shedding order that must not loosen by itself: after expiry its fallback holds.
        site.loop.external.set(LimitRequest(
            target="grid", source="shedding", limit_a=0, on_expiry="hold", fallback_a=26,
            expires_at=site.loop.clock.now() + timedelta(seconds=8)))
        site.loop.wake()
        await asyncio.sleep(REACTION_S)
        assert _shares(site) == [0.0, 0.0, 0.0]
        await asyncio.sleep(3 + REACTION_S)
        assert _shares(site) == pytest.approx([8.0] * 3, abs=0.01)  # (26 − 2) / 3
        held = site.loop.external.describe()
        assert held[0]["expired"] and held[0]["on_expiry"] == "hold"
        assert site.loop.record["external_limits"] == held
        assert site.loop.external.clear("grid", "shedding")
        assert not site.sim.report.trips


async def test_two_sites_in_one_hub_one_without_meter(tmp_path: Path) -> None:
    body = """
sites:
  - id: a
    grid:
      id: grid-a
      limit_a: 40
      margin_a: 2
      meter: m
      meter_fallback_load_a: 20
      charge_points: [{id: A1}, {id: A2}]
  - id: b
    name: car park without a meter, on its static rating
    grid:
      id: grid-b
      limit_a: 32
      meter_fallback_load_a: 8
      charge_points: [{id: B1}, {id: B2}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""
    async with running_site(site_config(tmp_path, body)) as site:
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(8)
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        # Site a is metered (building 0): 38 / 2. Site b: (32 − 8 assumed) / 2.
        assert cars["A1"] == pytest.approx(19.0) and cars["A2"] == pytest.approx(19.0)
        assert cars["B1"] == pytest.approx(12.0) and cars["B2"] == pytest.approx(12.0)


async def test_the_cycle_record_is_sampled_into_the_store(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, three())) as site:
        await plug_all(site)
        await asyncio.sleep(12)  # the recorder writes every 10 s
        await asyncio.sleep(0.5)
        rows = site.rows(
            "SELECT source, measurand, phase, value FROM samples JOIN series"
            " ON series.id = series_id WHERE source IN ('ems/grid', 'CP1/1')"
            " AND measurand IN ('Current.Capacity', 'Current.Limit', 'Current.Offered')"
            " ORDER BY ts_ms DESC", db="samples")
        latest = {(r[0], r[1], r[2]): r[3] for r in reversed(rows)}
        assert latest[("CP1/1", "Current.Limit", "")] == pytest.approx(12.6)  # the EMS's
        # What the charge point reads back as in force, in its own MeterValues.
        assert latest[("CP1/1", "Current.Offered", "")] == pytest.approx(12.6)
        assert latest[("ems/grid", "Current.Capacity", "L1")] == pytest.approx(38.0)
