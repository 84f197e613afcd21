"""Per site: which grid signals it follows and its own limits (sites[].signals), applied
by the real signal services to a real EMS loop's external limits."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.ems.loop import EmsLoop
from hub_engine.errors import ConfigError
from hub_engine.signals.offpeak import OffPeakService
from hub_engine.signals.service import SignalService
from hub_engine.signals.tempo import tariff_day
from hub_engine.signals.tempo_service import TempoService
from hub_engine.signals.zni import SLOT

CONFIG = """
signals:
  zni: {api_key: k}
  tempo: {red: {limit_a: 100, start: "06:00", end: "22:00"}}
  offpeak: {windows: "Mon-Sun 22:00-06:00", peak_limit_a: 200}
sites:
  - id: building
    grid: {id: tgbt, limit_a: 400, charge_points: [{id: CP1}]}
  - id: parking
    signals: {follow: [tempo, offpeak], tempo_red_a: 20, peak_limit_a: 40}
    grid: {id: parking-grid, limit_a: 63, charge_points: [{id: CP2}]}
"""
NOON = datetime(2026, 12, 7, 11, tzinfo=UTC)  # a Monday, 12:00 in Paris: peak hours


def _held(loop: EmsLoop, source: str) -> dict[str, float | None]:
    return {x.target: x.limit_a for x in loop.external.in_force() if x.source == source}


def test_each_site_follows_its_signals_with_its_own_limits() -> None:
    async def run() -> None:
        config = parse_config(CONFIG)
        clock = FakeClock(NOON)
        loop = EmsLoop(config, lambda: {}, {}, clock)
        tempo = TempoService(config, None, clock, fetcher=lambda d: {})  # type: ignore[arg-type]
        tempo.ems, tempo.days = loop, {tariff_day(NOON): "RED"}
        tempo.apply()
        assert _held(loop, "signal:tempo") == {"tgbt": 100.0, "parking-grid": 20.0}
        peak = OffPeakService(config, clock)
        peak.ems = loop
        peak.apply()
        assert _held(loop, "signal:offpeak") == {"tgbt": 200.0, "parking-grid": 40.0}
        zni = SignalService(config, None, clock)  # type: ignore[arg-type]
        zni.ems, zni.slots = loop, {NOON.replace(minute=0) + k * SLOT: 0 for k in range(6)}
        zni.apply()
        assert set(_held(loop, "signal:zni")) == {"CP1/1"}  # the parking does not follow it
        assert loop.fallbacks.dipped == frozenset({"CP1/1"})
        await loop.stop()
    asyncio.run(run())


def test_a_site_s_signals_are_checked() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(CONFIG.replace("follow: [tempo, offpeak]", "follow: [tempo, moon]"))
    assert err.value.path == "sites[1].signals.follow[1]"
    with pytest.raises(ConfigError) as err:
        parse_config(CONFIG.replace("tempo_red_a: 20", "tempo_red_a: -1"))
    assert err.value.path == "sites[1].signals.tempo_red_a"
