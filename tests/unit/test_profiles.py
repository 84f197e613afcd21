"""The charging profiles the hub builds: the layout per firmware, and every profile valid
against the OCPP 1.6 schema (the engine skips the library's validation when sending
them, on the strength of this test)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from ocpp.messages import Call, validate_payload

from hub_engine.config import ChargePointConfig
from hub_engine.ocpp.profiles import Layout, charge_point_max, dynamic, fallback, layout_for

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


async def _valid(connector_id: int, profile: dict[str, Any]) -> None:
    call = Call(unique_id="1", action="SetChargingProfile",
                payload={"connectorId": connector_id, "csChargingProfiles": profile})
    await validate_payload(call, "1.6")  # raises on any schema violation


@pytest.mark.parametrize(("quirks", "caps", "expect"), [
    ((), {"ChargeProfileMaxStackLevel": "8",
          "ChargingScheduleAllowedChargingRateUnit": "Current,Power"},
     Layout("TxDefaultProfile", 1, True, ("A", "W"))),
    ((), {"ChargeProfileMaxStackLevel": "0"}, Layout("TxProfile", 0, True, ("A", "W"))),
    (("tx_default_ignored_in_tx",), {}, Layout("TxProfile", 1, True, ("A", "W"))),
    (("no_charge_point_max",), {"ChargingScheduleAllowedChargingRateUnit": "Power"},
     Layout("TxDefaultProfile", 1, False, ("W",))),
])
def test_layout_per_firmware(quirks: tuple[str, ...], caps: dict[str, str],
                             expect: Layout) -> None:
    cp = ChargePointConfig(id="CP", quirks=quirks)  # type: ignore[arg-type]
    assert layout_for(cp, caps) == expect


@pytest.mark.parametrize("layout", [Layout(), Layout("TxProfile", 0), Layout("TxProfile", 1)])
@pytest.mark.parametrize(("limit", "unit"), [(0.0, "A"), (6.6, "A"), (13.37, "A"),
                                             (31.99, "A"), (7400.05, "W")])
async def test_every_profile_the_hub_builds_is_valid(layout: Layout, limit: float,
                                                     unit: str) -> None:
    await _valid(1, dynamic(layout, 1, limit, unit, 300, NOW, transaction_id=42))
    await _valid(2, fallback(2, limit, unit))
    rating_a = min(max(limit, 6), 63)  # what an AC connector can be rated
    await _valid(0, charge_point_max(ChargePointConfig(id="CP", max_current_a=rating_a)))


def test_limits_are_rounded_down_to_a_tenth() -> None:
    profile = dynamic(Layout(), 1, 13.37, "A", 300, NOW)
    assert profile["chargingSchedule"]["chargingSchedulePeriod"][0]["limit"] == 13.3
    assert profile["validTo"] == "2026-11-29T12:05:00.000Z"
    assert profile["chargingSchedule"]["startSchedule"] == "2026-11-29T11:59:00.000Z"
    assert "transactionId" not in profile
    tx = dynamic(Layout("TxProfile", 0), 1, 6, "A", 300, NOW, transaction_id=7)
    assert tx["transactionId"] == 7 and tx["stackLevel"] == 0
