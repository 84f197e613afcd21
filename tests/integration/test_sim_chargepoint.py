"""Simulated charge points against the real hub, over real websockets: behaviour and quirks."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub_engine.ocpp import CommandService
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk, parse_quirk_mix, parse_quirks
from hub_engine.sim.runner import running
from tests.integration.ocpp_fixtures import make_config, running_hub

FAST = {"apply_delay_s": 0.3, "meter_interval_s": 0.5}


def profile(limit: float, *, unit: str = "A", stack: int = 1, purpose: str = "TxDefaultProfile",
            valid_to: datetime | None = None, pid: int = 1) -> dict[str, Any]:
    p: dict[str, Any] = {
        "chargingProfileId": pid, "stackLevel": stack, "chargingProfilePurpose": purpose,
        "chargingProfileKind": "Absolute",
        "chargingSchedule": {"chargingRateUnit": unit,
                             "startSchedule": (datetime.now(UTC) - timedelta(minutes=1))
                             .isoformat().replace("+00:00", "Z"),
                             "chargingSchedulePeriod": [{"startPeriod": 0, "limit": limit}]}}
    if valid_to is not None:
        p["validTo"] = valid_to.isoformat().replace("+00:00", "Z")
    return p


async def set_profile(hub: Any, cp_id: str, p: dict[str, Any], connector: int = 1) -> str:
    result = await CommandService(hub.server).run(
        cp_id, "set_charging_profile", {"connector_id": connector, "cs_charging_profiles": p},
        "engine")
    return str(result.status)


async def settle(seconds: float = 1.2) -> None:
    await asyncio.sleep(seconds)


async def test_boots_through_the_hub_and_charges_unconstrained(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", **FAST), hub.url, tick_s=0.05) as sim:
        caps = json.loads(hub.rows("SELECT capabilities FROM charge_points")[0][0])
        assert caps["ChargeProfileMaxStackLevel"] == "8"
        assert sim.cp is not None
        assert sim.cp.settings["MeterValueSampleInterval"] == "10"  # set by the hub
        tx = await sim.cp.plug(1, EV(max_current_a=16, ramp_s=0.2))
        await settle()
        assert sim.cp.connectors[1].current_a == 16  # no profile: unconstrained
        await hub.store.journal.flush()
        assert hub.rows("SELECT id FROM transactions") == [(tx,)]
        currents = hub.rows("SELECT value FROM samples JOIN series ON series.id = series_id"
                            " WHERE measurand = 'Current.Import' AND phase = 'L1'",
                            db="samples")
        assert currents and currents[-1][0] == 16.0


async def test_follows_a_profile_after_its_apply_delay(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", apply_delay_s=2.0, meter_interval_s=5), hub.url,
                    tick_s=0.05) as sim:
        assert sim.cp is not None
        await sim.cp.plug(1, EV(max_current_a=32, ramp_s=0.5))
        await settle(3)
        assert sim.cp.connectors[1].current_a == 32
        assert await set_profile(hub, "CP1", profile(10)) == "Accepted"
        await asyncio.sleep(0.5)
        assert sim.cp.connectors[1].current_a == 32  # not yet: the electronics' delay
        await settle(2.5)
        assert sim.cp.connectors[1].current_a == 10
        composite = await CommandService(hub.server).run(
            "CP1", "get_composite_schedule", {"connector_id": 1, "duration": 600}, "operator")
        periods = composite.payload["charging_schedule"]["charging_schedule_period"]
        assert periods[0]["limit"] == 10


async def test_tx_profile_ends_with_its_transaction(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", **FAST), hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        assert await set_profile(hub, "CP1", profile(8, purpose="TxProfile")) == "Rejected"
        await sim.cp.plug(1, EV())
        assert await set_profile(hub, "CP1", profile(8, purpose="TxProfile")) == "Accepted"
        await sim.cp.unplug(1)
        assert sim.cp.profiles[1] == []


@pytest.mark.parametrize(("quirk", "sent", "status"), [
    (Quirk.STACK_LEVEL_ZERO_ONLY, profile(10, stack=1), "Rejected"),
    (Quirk.STACK_LEVEL_ZERO_ONLY, profile(10, stack=0), "Accepted"),
    (Quirk.W_ONLY, profile(10), "Rejected"),
    (Quirk.W_ONLY, profile(6900, unit="W"), "Accepted"),
])
async def test_profile_refusing_quirks(tmp_path: Path, quirk: Quirk, sent: dict[str, Any],
                                       status: str) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({quirk}), **FAST), hub.url,
                    tick_s=0.05):
        assert await set_profile(hub, "CP1", sent) == status


@pytest.mark.parametrize("quirky", [False, True])
async def test_valid_to_ignored(tmp_path: Path, quirky: bool) -> None:
    quirks = frozenset({Quirk.VALID_TO_IGNORED}) if quirky else frozenset()
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=quirks, **FAST), hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        await sim.cp.plug(1, EV(ramp_s=0.2))
        expiry = sim.cp.clock.now() + timedelta(seconds=1.5)
        await set_profile(hub, "CP1", profile(10, valid_to=expiry))
        await settle(1.0)
        assert sim.cp.connectors[1].current_a == 10
        await settle(2.0)
        # A correct firmware falls back to unconstrained once the profile expires.
        assert sim.cp.connectors[1].current_a == (10 if quirky else 32)


@pytest.mark.parametrize("quirky", [False, True])
async def test_profiles_lost_on_reboot(tmp_path: Path, quirky: bool) -> None:
    quirks = frozenset({Quirk.PROFILES_LOST_ON_REBOOT}) if quirky else frozenset()
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=quirks, **FAST), hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        await set_profile(hub, "CP1", profile(10))
        result = await CommandService(hub.server).run("CP1", "reset", {"type": "Soft"},
                                                      "operator")
        assert result.outcome == "accepted"
        await asyncio.sleep(0.3)
        await asyncio.wait_for(sim.connected.wait(), 20)
        assert sim.connections == 2
        assert (sim.cp.profiles.get(1) or []) == ([] if quirky else sim.cp.profiles[1])
        assert bool(sim.cp.profiles.get(1)) is not quirky


async def test_ignores_limits(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({Quirk.IGNORES_LIMITS}), **FAST),
                    hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        await sim.cp.plug(1, EV(ramp_s=0.2))
        assert await set_profile(hub, "CP1", profile(6)) == "Accepted"
        await settle()
        assert sim.cp.connectors[1].current_a == 32


async def test_tx_default_ignored_during_a_transaction(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({Quirk.TX_DEFAULT_IGNORED_IN_TX}),
                              **FAST), hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        await set_profile(hub, "CP1", profile(16))
        await sim.cp.plug(1, EV(ramp_s=0.2))
        await set_profile(hub, "CP1", profile(8))  # during the transaction: ignored
        await settle()
        assert sim.cp.connectors[1].current_a == 16


async def test_odd_meter_values_are_normalised_by_the_hub(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({Quirk.ODD_METER_VALUES}), **FAST),
                    hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        await sim.cp.plug(1, EV(max_current_a=16, phases=1, ramp_s=0.2))
        await settle(1.5)
        rows = hub.rows("SELECT measurand, phase, unit, value FROM samples JOIN series ON"
                        " series.id = series_id ORDER BY ts_ms DESC", db="samples")
        latest = {(m, p, u): v for m, p, u, v in reversed(rows)}
        assert latest[("Current.Import", "L1", "A")] == 16.0
        assert latest[("Power.Active.Import", "", "W")] == pytest.approx(3680, abs=1)
        assert ("Energy.Active.Import.Register", "", "Wh") in latest


async def test_cars_of_a_quirky_point_never_resume_after_a_pause(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({Quirk.NO_RESUME_AFTER_PAUSE}),
                              **FAST), hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None
        ev = EV(ramp_s=0.2, pause_before_giving_up_s=0.5)
        await sim.cp.plug(1, ev)
        await settle(0.8)
        await set_profile(hub, "CP1", profile(0))
        await settle(1.5)
        await set_profile(hub, "CP1", profile(16))
        await settle(1.2)
        assert sim.cp.connectors[1].current_a == 0.0 and ev.state.given_up


async def test_no_websocket_ping_quirk_keeps_the_connection(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            running(SimConfig("CP1", quirks=frozenset({Quirk.NO_WEBSOCKET_PING}), **FAST),
                    hub.url, tick_s=0.05) as sim:
        assert sim.cp is not None and sim.cp._connection.ping_interval is None
        await settle(1.0)
        assert "CP1" in hub.server.stations and sim.connections == 1


def test_quirk_names_are_checked() -> None:
    assert parse_quirks("w_only, ignores_limits") == {Quirk.W_ONLY, Quirk.IGNORES_LIMITS}
    with pytest.raises(ValueError, match="known quirks"):
        parse_quirks("teleports")
    assert parse_quirk_mix("w_only:0.2,valid_to_ignored") == {
        Quirk.W_ONLY: 0.2, Quirk.VALID_TO_IGNORED: 1.0}
    with pytest.raises(ValueError, match="between 0 and 1"):
        parse_quirk_mix("w_only:2")


def test_clock_is_set_by_the_hub_and_drifts() -> None:
    from hub_engine.sim.cp_clock import SimClock
    wall = [1_000_000.0]
    clock = SimClock(drift_ppm=500, wall=lambda: wall[0])
    clock.set("2030-01-01T00:00:00Z")
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)
    wall[0] += 3600  # an hour later
    drift = (clock.now() - datetime(2030, 1, 1, 1, 0, tzinfo=UTC)).total_seconds()
    assert 1.7 < drift < 1.9  # 500 ppm of an hour: 1.8 s fast
    fast = SimClock(speed=60)
    fast.set("2030-01-01T00:00:00Z")  # a sped-up charge point keeps its own time
    assert fast.now().year < 2030
