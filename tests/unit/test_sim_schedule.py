"""Composite schedules against expectations written by hand from OCPP 1.6 §3.13's rules."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from hub_engine.ocpp.schedule import composite_periods, limit_at


def at(hhmm: str, day: int = 10) -> datetime:
    h, m = hhmm.split(":")
    return datetime(2026, 3, day, int(h), int(m), tzinfo=UTC)


def profile(pid: int, purpose: str, stack: int, periods: list[tuple[int, float]], *,
            kind: str = "Absolute", start: str | None = "2026-03-10T00:00:00Z",
            unit: str = "A", duration: int | None = None, valid_from: str | None = None,
            valid_to: str | None = None, recurrency: str | None = None,
            phases: int | None = None, tx: int | None = None) -> dict[str, Any]:
    schedule: dict[str, Any] = {"chargingRateUnit": unit, "chargingSchedulePeriod": [
        {"startPeriod": s, "limit": v, **({"numberPhases": phases} if phases else {})}
        for s, v in periods]}
    if start:
        schedule["startSchedule"] = start
    if duration is not None:
        schedule["duration"] = duration
    p: dict[str, Any] = {"chargingProfileId": pid, "stackLevel": stack,
                         "chargingProfilePurpose": purpose, "chargingProfileKind": kind,
                         "chargingSchedule": schedule}
    for key, value in (("validFrom", valid_from), ("validTo", valid_to),
                       ("recurrencyKind", recurrency), ("transactionId", tx)):
        if value is not None:
            p[key] = value
    return p


def lim(installed: dict[int, list[dict[str, Any]]], t: datetime, *, tx: int | None = None,
        tx_start: datetime | None = None, max_a: float = 32, ev_phases: int = 3,
        connector: int = 1) -> float:
    return limit_at(installed, connector, t, tx, tx_start, max_a, ev_phases).current_a


BASE = profile(1, "TxDefaultProfile", 0, [(0, 16)])
# 8 A for two hours from 10:00, stacked above the 16 A base.
TWO_HOURS = profile(2, "TxDefaultProfile", 1, [(0, 8)], start="2026-03-10T10:00:00Z",
                    duration=7200)


@pytest.mark.parametrize(("t", "expected"), [
    ("09:00", 16),  # the higher profile has not started: the base applies
    ("10:00", 8),   # higher stack level wins while it has a period
    ("11:59", 8),
    ("12:00", 16),  # duration over: back to the lower stack level
])
def test_stacking_and_duration(t: str, expected: float) -> None:
    assert lim({1: [BASE, TWO_HOURS]}, at(t)) == expected


def test_valid_to_ends_a_profile() -> None:
    capped = profile(3, "TxDefaultProfile", 2, [(0, 6)], valid_to="2026-03-10T11:00:00Z")
    installed = {1: [BASE, capped]}
    assert lim(installed, at("10:59")) == 6
    assert lim(installed, at("11:00")) == 16


def test_valid_from_starts_a_profile() -> None:
    later = profile(3, "TxDefaultProfile", 2, [(0, 6)], valid_from="2026-03-10T11:00:00Z")
    assert lim({1: [BASE, later]}, at("10:00")) == 16
    assert lim({1: [BASE, later]}, at("11:30")) == 6


# Night charging: from 22:00, 32 A for 8 hours then 10 A, every day.
NIGHT = profile(4, "TxDefaultProfile", 0, [(0, 32), (8 * 3600, 10)], kind="Recurring",
                recurrency="Daily", start="2026-01-01T22:00:00Z")


@pytest.mark.parametrize(("t", "day", "expected"), [
    ("23:00", 10, 32),  # 1 h into tonight's cycle
    ("05:59", 11, 32),  # 7 h 59 into the cycle that began yesterday 22:00
    ("06:00", 11, 10),  # 8 h into it
    ("21:59", 11, 10),
    ("22:00", 11, 32),  # a new day's cycle
])
def test_recurring_daily(t: str, day: int, expected: float) -> None:
    assert lim({0: [NIGHT]}, at(t, day)) == expected


def test_recurring_weekly() -> None:
    # Tuesday 2026-03-10 00:00 base: 6 A for the first day of each week, then 20 A.
    weekly = profile(5, "TxDefaultProfile", 0, [(0, 6), (86400, 20)], kind="Recurring",
                     recurrency="Weekly", start="2026-03-03T00:00:00Z")
    assert lim({0: [weekly]}, at("12:00", 10)) == 6   # a Tuesday
    assert lim({0: [weekly]}, at("12:00", 11)) == 20  # Wednesday
    assert lim({0: [weekly]}, at("12:00", 17)) == 6   # next Tuesday


def test_relative_starts_with_the_transaction() -> None:
    ramp = profile(6, "TxDefaultProfile", 0, [(0, 6), (600, 16)], kind="Relative", start=None)
    started = at("10:00")
    assert lim({1: [ramp]}, at("10:05"), tx=1, tx_start=started) == 6
    assert lim({1: [ramp]}, at("10:10"), tx=1, tx_start=started) == 16


@pytest.mark.parametrize(("ev_phases", "expected"), [
    (3, 16.0),   # 11,040 W / (230 V × 3)
    (1, 32.0),   # 11,040 W / 230 V = 48 A, capped by the hardware's 32 A
    (2, 24.0),
])
def test_limits_in_watts(ev_phases: int, expected: float) -> None:
    watts = profile(7, "TxDefaultProfile", 0, [(0, 11040)], unit="W")
    assert lim({1: [watts]}, at("10:00"), ev_phases=ev_phases) == expected


def test_number_phases_restricts_the_phases_used() -> None:
    one_phase = profile(8, "TxDefaultProfile", 0, [(0, 16)], phases=1)
    result = limit_at({1: [one_phase]}, 1, at("10:00"), None, None, 32, ev_phases=3)
    assert (result.current_a, result.phases) == (16, 1)
    watts = profile(9, "TxDefaultProfile", 0, [(0, 3680)], unit="W", phases=1)
    assert lim({1: [watts]}, at("10:00")) == 16  # 3,680 W on one phase


def test_tx_profile_replaces_default_only_during_its_transaction() -> None:
    tx_profile = profile(10, "TxProfile", 0, [(0, 20)], tx=42)
    installed = {1: [profile(1, "TxDefaultProfile", 5, [(0, 10)]), tx_profile]}
    assert lim(installed, at("10:00")) == 10               # no transaction
    assert lim(installed, at("10:00"), tx=42) == 20        # replaces, even though higher
    assert lim(installed, at("10:00"), tx=43) == 10        # another transaction


def test_charge_point_max_caps_everything() -> None:
    cp_max = profile(11, "ChargePointMaxProfile", 0, [(0, 16)])
    installed = {0: [cp_max], 1: [profile(10, "TxProfile", 0, [(0, 20)])]}
    assert lim(installed, at("10:00"), tx=1) == 16
    assert lim({0: [cp_max]}, at("10:00"), max_a=32) == 16  # caps "unconstrained" too


def test_connector_default_replaces_connector_zero_for_that_connector() -> None:
    # §3.13: a TxDefaultProfile on connector 0 applies to all connectors; one set later
    # on a connector replaces it for that connector only, whatever the stack levels.
    installed = {0: [profile(1, "TxDefaultProfile", 3, [(0, 10)])],
                 1: [profile(2, "TxDefaultProfile", 0, [(0, 20)])]}
    assert lim(installed, at("10:00"), connector=1) == 20
    assert lim(installed, at("10:00"), connector=2) == 10  # only connector 0's applies


def test_spec_example_daily_default_profile() -> None:
    """§3.13.7's example: 11 kW, but 6 kW between 08:00 and 20:00, every day."""
    daily = {"chargingProfileId": 100, "stackLevel": 0,
             "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Recurring",
             "recurrencyKind": "Daily", "chargingSchedule": {
                 "duration": 86400, "startSchedule": "2013-01-01T00:00:00Z",
                 "chargingRateUnit": "W", "chargingSchedulePeriod": [
                     {"startPeriod": 0, "limit": 11000, "numberPhases": 3},
                     {"startPeriod": 28800, "limit": 6000, "numberPhases": 3},
                     {"startPeriod": 72000, "limit": 11000, "numberPhases": 3}]}}
    # 6,000 W / (230 V × 3) = 8.69… A; 11,000 W → 15.94… A.
    assert lim({0: [daily]}, at("07:59")) == pytest.approx(11000 / 690)
    assert lim({0: [daily]}, at("08:00")) == pytest.approx(6000 / 690)
    assert lim({0: [daily]}, at("19:59")) == pytest.approx(6000 / 690)
    assert lim({0: [daily]}, at("20:00")) == pytest.approx(11000 / 690)
    periods = composite_periods({0: [daily]}, 1, at("06:00"), 24 * 3600, None, None, 32)
    assert periods == [(0, 15.9, 3), (2 * 3600, 8.6, 3), (14 * 3600, 15.9, 3)]


def test_nothing_installed_is_unconstrained() -> None:
    result = limit_at({}, 1, at("10:00"), None, None, 32)
    assert (result.current_a, result.source) == (32, "unconstrained")


def test_expired_profile_leaves_unconstrained() -> None:
    short = profile(12, "TxDefaultProfile", 1, [(0, 0)], valid_to="2026-03-10T10:00:30Z")
    assert lim({1: [short]}, at("10:00")) == 0
    assert lim({1: [short]}, at("10:01")) == 32  # the fallback a hub relies on is gone


def test_composite_schedule_periods() -> None:
    installed = {0: [profile(11, "ChargePointMaxProfile", 0, [(0, 20)])],
                 1: [BASE, TWO_HOURS]}
    periods = composite_periods(installed, 1, at("09:00"), 4 * 3600, None, None, 32)
    # 16 A until 10:00, 8 A for two hours, 16 A again (the 20 A cap never binds).
    assert periods == [(0, 16.0, 3), (3600, 8.0, 3), (3 * 3600, 16.0, 3)]


def test_composite_schedule_of_a_recurring_profile() -> None:
    periods = composite_periods({0: [NIGHT]}, 1, at("20:00"), 12 * 3600, None, None, 32)
    assert periods == [(0, 10.0, 3), (2 * 3600, 32.0, 3), (10 * 3600, 10.0, 3)]
