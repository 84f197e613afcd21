"""The CPO's charging profiles as the hub keeps them (a real store, a fake clock): what
they allow each connector (OCPP 1.6 stacking), that they become external limits of
source ``cpo`` and go with their transaction, and the refusals OCPP asks for."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import ChargePointConfig, parse_config
from hub_engine.config.sections import StoreConfig
from hub_engine.ems.external import ExternalLimits, LimitRequest
from hub_engine.ocpp import OcppServer
from hub_engine.ocpp.cpo import CpoRelay
from hub_engine.ocpp.cpo.profiles import CpoProfiles
from hub_engine.store import Store

T0 = datetime(2026, 12, 5, 8, 0, tzinfo=UTC)


def _profile(pid: int, purpose: str, level: int, *periods: tuple[int, float],
             unit: str = "A", **more: Any) -> dict[str, Any]:
    return {"chargingProfileId": pid, "stackLevel": level, "chargingProfilePurpose": purpose,
            "chargingProfileKind": "Absolute", **more,
            "chargingSchedule": {"chargingRateUnit": unit, "startSchedule": "2026-12-05T08:00:00Z",
                                 "chargingSchedulePeriod": [{"startPeriod": s, "limit": v}
                                                            for s, v in periods]}}


@pytest.fixture
async def kept(tmp_path: Path) -> AsyncIterator[tuple[CpoProfiles, FakeClock, list[Any]]]:
    clock = FakeClock(T0)
    store = Store(StoreConfig(), tmp_path, clock)
    await store.start()
    cps = {"P1": ChargePointConfig("P1", connectors=2, max_current_a=32),
           "DC": ChargePointConfig("DC", dc=True, max_power_w=50_000, control="W")}
    profiles = CpoProfiles(store, clock, cps, {"P1": 230.0, "DC": 230.0})
    applied: list[Any] = []
    profiles.apply = lambda target, a, w: applied.append((target, a, w))
    yield profiles, clock, applied
    await store.stop()


async def test_stacking_and_sharing(kept: tuple[CpoProfiles, FakeClock, list[Any]]) -> None:
    p, clock, applied = kept
    assert p.cap("P1", 1, T0) is None  # nothing said: no CPO limit
    # A ChargePointMaxProfile of 40 A over two connectors: 20 A each.
    assert await p.set("P1", 0, _profile(1, "ChargePointMaxProfile", 0, (0, 40)), {}, None) == (
        "Accepted")
    assert p.cap("P1", 1, T0) == p.cap("P1", 2, T0) == 20.0
    # A TxDefaultProfile lower than that, then one stack level above it for an hour.
    await p.set("P1", 0, _profile(2, "TxDefaultProfile", 0, (0, 16)), {}, None)
    await p.set("P1", 1, _profile(3, "TxDefaultProfile", 1, (0, 10), (3600, 30)), {}, None)
    assert p.cap("P1", 1, T0) == 10.0 and p.cap("P1", 2, T0) == 16.0
    clock.advance(3700)
    assert p.cap("P1", 1, clock.now()) == 20.0  # 30 A, but the charge point's max wins
    # A TxProfile needs a transaction on its connector, and ends with it.
    assert await p.set("P1", 2, _profile(4, "TxProfile", 0, (0, 6)), {}, None) == "Rejected"
    assert await p.set("P1", 2, _profile(4, "TxProfile", 0, (0, 6)), {2: 77}, None) == (
        "Accepted")
    await p.started("P1", 2, 77)
    assert p.cap("P1", 2, clock.now()) == 6.0
    await p.stopped("P1", 77)
    assert p.cap("P1", 2, clock.now()) == 16.0
    # Cleared by id, or by criteria; Unknown when nothing matches.
    assert await p.clear("P1", {"id": 3}) == "Accepted"
    assert await p.clear("P1", {"chargingProfilePurpose": "TxDefaultProfile"}) == "Accepted"
    assert await p.clear("P1", {"id": 99}) == "Unknown"
    assert p.cap("P1", 1, clock.now()) == 20.0
    assert applied and applied[-1][0].startswith("P1/")


async def test_limits_in_force_and_restored(kept: tuple[CpoProfiles, FakeClock, list[Any]],
                                            tmp_path: Path) -> None:
    p, clock, applied = kept
    await p.set("DC", 0, _profile(1, "TxDefaultProfile", 0, (0, 11_000), unit="W"), {}, None)
    # A W-controlled charge point gets its CPO limit in W (11 kW, whatever the phases).
    assert applied[-1][0] == "DC/1" and applied[-1][1] is None
    assert applied[-1][2] == pytest.approx(11_000)
    applied.clear()
    p.refresh()
    assert applied == []  # unchanged: not set again (each set is written to disk)
    clock.advance(timedelta(days=1, seconds=1).total_seconds())
    p.refresh()
    assert len(applied) == 1  # renewed daily (the limit store caps a request at 7 days)
    again = CpoProfiles(p.store, clock, p.charge_points, p.voltage_v)
    again.restore()
    assert again.cap("DC", 1, clock.now()) == pytest.approx(11_000 / 230 / 3)
    assert await p.clear("DC", {}) == "Accepted"
    assert applied[-1] == ("DC/1", None, None)  # no CPO limit any more
    assert await p.set("P1", 1, _profile(5, "ChargePointMaxProfile", 0, (0, 10)), {}, None) == (
        "Rejected")  # only on connector 0
    assert await p.set("P1", 3, _profile(6, "TxDefaultProfile", 0, (0, 10)), {}, None) == (
        "Rejected")  # no connector 3


async def test_a_charge_point_local_again_keeps_no_cpo_limit(tmp_path: Path) -> None:
    """Relayed before a restart, local after: its kept profiles and its CPO limit go."""
    config = parse_config(f"hub: {{data_dir: {tmp_path}}}\nsites: [{{id: s, grid: {{id: g, "
                          "limit_a: 63, charge_points: [{id: P1}]}}]\n")
    clock = FakeClock(T0)
    store = Store(config.store, tmp_path, clock)
    await store.start()
    try:
        await store.core.write(lambda db: db.conn.execute(
            "INSERT INTO cpo_profiles VALUES ('P1', 0, 'TxDefaultProfile', 0, 1, NULL, ?, ?)",
            (json.dumps(_profile(1, "TxDefaultProfile", 0, (0, 6))), T0.isoformat())))
        external = ExternalLimits(clock, {"P1/1"})
        external.set(LimitRequest("P1/1", "cpo", T0 + timedelta(days=6), limit_a=6.0))
        relay = CpoRelay(config, OcppServer(config, store, clock), store, clock)
        relay.attach_ems(external)
        await relay.start()
        assert external.requests() == [] and relay.profiles.installed == {}
        await relay.stop()
    finally:
        await store.stop()
