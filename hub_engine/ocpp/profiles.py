"""The charging-profile layout of DESIGN.md "The EMS", adapted per charge point model.

- ``ChargePointMaxProfile``, connector 0, stack 0, no expiry: the circuit rating.
- ``TxDefaultProfile``, stack 0, no expiry, per connector: the fallback, what the charge
  point may draw if it never hears from the hub again.
- The dynamic limit: ``TxDefaultProfile`` at stack 1, Absolute, starting a minute in the
  past, ``validTo`` = now + validity. Firmware that only takes stack level 0, or keeps
  the TxDefault limit it had when the session started, gets it as a ``TxProfile``
  instead (a TxProfile overrides the TxDefault at any stack level, OCPP 1.6 §3.13.2),
  sent only while a transaction runs; the fallback stays underneath either way.

Limits go out rounded down to 0.1 (OCPP-INTEROP §6).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from hub_engine.clock import iso_utc
from hub_engine.config import ChargePointConfig
from hub_engine.ems.interfaces import Dip

__all__ = ["CHARGE_POINT_MAX_ID", "Layout", "charge_point_max", "dip_steps", "dynamic",
           "fallback", "layout_for"]

CHARGE_POINT_MAX_ID = 1
_FALLBACK_ID = 100
_DYNAMIC_ID = 1000
# Far enough in the past for any charge point clock, even one never set.
_SINCE_EVER = datetime(2020, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Layout:
    dynamic_purpose: Literal["TxDefaultProfile", "TxProfile"] = "TxDefaultProfile"
    dynamic_stack: int = 1
    charge_point_max: bool = True
    units: tuple[str, ...] = ("A", "W")  # what the charge point takes, by its configuration

    @property
    def per_transaction(self) -> bool:
        return self.dynamic_purpose == "TxProfile"


def layout_for(cp: ChargePointConfig | None, capabilities: dict[str, Any]) -> Layout:
    quirks = set(cp.quirks) if cp is not None else set()
    max_stack = _int(capabilities.get("ChargeProfileMaxStackLevel"))
    if max_stack == 0:
        quirks.add("stack_level_zero_only")
    allowed = str(capabilities.get("ChargingScheduleAllowedChargingRateUnit") or "")
    units = tuple(u for u, names in (("A", ("Current", "A")), ("W", ("Power", "W")))
                  if any(n in allowed.replace(" ", "").split(",") for n in names))
    per_tx = bool(quirks & {"stack_level_zero_only", "tx_default_ignored_in_tx"})
    return Layout(dynamic_purpose="TxProfile" if per_tx else "TxDefaultProfile",
                  dynamic_stack=0 if "stack_level_zero_only" in quirks else 1,
                  charge_point_max="no_charge_point_max" not in quirks,
                  units=units or ("A", "W"))


def _int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def _limit(value: float) -> float:
    return math.floor(max(value, 0.0) * 10 + 1e-6) / 10


def _schedule(unit: str, limit: float, start: datetime, phases: int | None = None
              ) -> dict[str, Any]:
    period: dict[str, Any] = {"startPeriod": 0, "limit": _limit(limit)}
    if phases is not None:
        period["numberPhases"] = phases
    return {"chargingRateUnit": unit, "startSchedule": iso_utc(start),
            "chargingSchedulePeriod": [period]}


def charge_point_max(cp: ChargePointConfig) -> dict[str, Any]:
    unit, limit = ("W", cp.max_power_w) if cp.dc and cp.max_power_w else ("A", cp.max_current_a)
    return {"chargingProfileId": CHARGE_POINT_MAX_ID, "stackLevel": 0,
            "chargingProfilePurpose": "ChargePointMaxProfile",
            "chargingProfileKind": "Absolute",
            "chargingSchedule": _schedule(unit, limit or 0.0, _SINCE_EVER)}


def fallback(connector_id: int, limit: float, unit: str,
             steps: tuple[tuple[datetime, float], ...] = ()) -> dict[str, Any]:
    """``steps``: the limit from each time on (the dips of the grid signal pushed ahead),
    after ``limit`` from ever; counted from 2020-01-01 like the schedule, so that it
    applies whatever the charge point's clock says."""
    schedule = _schedule(unit, limit, _SINCE_EVER)
    for at, value in steps:
        schedule["chargingSchedulePeriod"].append(
            {"startPeriod": int((at - _SINCE_EVER).total_seconds()), "limit": _limit(value)})
    return {"chargingProfileId": _FALLBACK_ID + connector_id, "stackLevel": 0,
            "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
            "chargingSchedule": schedule}


def dip_steps(limit: float, cap: float, dips: tuple[Dip, ...], now: datetime,
              max_periods: int) -> tuple[tuple[datetime, float], ...]:
    """The fallback's changes for the dips ahead: ``min(limit, cap)`` in each, ``limit``
    between them. Past ones are left out; beyond ``max_periods`` (the charge point's
    ChargingScheduleMaxPeriods) the last step stays at the dip's level for good (the
    safe side: the hub sends it again as the dips pass)."""
    low = min(limit, cap)
    if low >= limit:
        return ()
    steps: list[tuple[datetime, float]] = []
    for dip in sorted(dips, key=lambda d: d.start):
        if dip.end is not None and dip.end <= now:
            continue
        start = max(dip.start, now)
        if steps and steps[-1][0] >= start:  # overlapping or touching: one dip
            steps.pop()
        else:
            steps.append((start, low))
        if dip.end is None:
            break
        steps.append((dip.end, limit))
    if len(steps) + 1 > max_periods:
        steps = steps[:max_periods - 1]
        if steps and steps[-1][1] != low:
            steps[-1] = (steps[-1][0], low)
    return tuple(steps)


def dynamic(layout: Layout, connector_id: int, limit: float, unit: str, valid_s: float,
            now: datetime, transaction_id: int | None = None, phases: int | None = None
            ) -> dict[str, Any]:
    """The dynamic limit; ``phases`` its numberPhases (None: not said, three)."""
    profile: dict[str, Any] = {
        "chargingProfileId": _DYNAMIC_ID + connector_id, "stackLevel": layout.dynamic_stack,
        "chargingProfilePurpose": layout.dynamic_purpose, "chargingProfileKind": "Absolute",
        "validTo": iso_utc(now + timedelta(seconds=valid_s)),
        "chargingSchedule": _schedule(unit, limit, now - timedelta(minutes=1), phases)}
    if layout.per_transaction and transaction_id is not None:
        profile["transactionId"] = transaction_id
    return profile
