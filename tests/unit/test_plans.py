"""A member's usual departure as the next such local time, and the plan book's life."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ems.plans import Plan, PlanBook, need_a
from hub_engine.plans import next_local

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(("now", "hh_mm", "expect"), [
    # A van back at 18:00 (17:00 UTC in winter) leaves at 06:30 the next morning.
    ("2026-12-04T17:00:00+00:00", "06:30", "2026-12-05T05:30:00+00:00"),
    # A commuter plugged at 08:30 leaves at 17:30 the same day.
    ("2026-12-04T07:30:00+00:00", "17:30", "2026-12-04T16:30:00+00:00"),
    # Exactly the time: the next day's.
    ("2026-12-04T05:30:00+00:00", "06:30", "2026-12-05T05:30:00+00:00"),
    # Across the spring change (29 March 2026): 07:00 is then UTC+2.
    ("2026-03-28T20:00:00+00:00", "07:00", "2026-03-29T05:00:00+00:00"),
    # And the autumn one (25 October 2026): UTC+1 again.
    ("2026-10-24T20:00:00+00:00", "07:00", "2026-10-25T06:00:00+00:00"),
])
def test_the_next_local_departure(now: str, hh_mm: str, expect: str) -> None:
    got = next_local(datetime.fromisoformat(now), hh_mm, PARIS)
    assert got == datetime.fromisoformat(expect) and got.tzinfo == UTC


def test_a_plan_belongs_to_its_transaction() -> None:
    clock = FakeClock(datetime(2026, 12, 4, 17, tzinfo=UTC))
    book = PlanBook(clock)
    plan = Plan(datetime(2026, 12, 5, 5, 30, tzinfo=UTC), 40_000, "api")
    book.set("CP1/1", 7, plan)
    assert book.get("CP1/1", 7) == plan and book.get("CP1/1", None) is None
    assert book.departure_s(plan) == pytest.approx(clock.monotonic() + 12.5 * 3600)
    assert book.get("CP1/1", 8) is None  # the next session: the old plan is gone
    assert book.get("CP1/1", 7) is None


@pytest.mark.parametrize(("remaining_wh", "left_s", "expect"), [
    (27_600, 7200, 20.0), (0, 7200, 0.0), (-5, 7200, 0.0), (27_600, 0, 0.0),
    (27_600, -60, 0.0)])
def test_the_current_a_plan_needs(remaining_wh: float, left_s: float, expect: float) -> None:
    assert need_a(remaining_wh, left_s, 690) == pytest.approx(expect)
