"""Access decisions, time windows (across midnight and DST) and calendar refills, pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hub_engine.access.csvio import CsvError, parse_csv, parse_windows
from hub_engine.access.policy import Badge, Member, Window, decide, in_windows, refills

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)  # a Monday, 11:00 in Paris
ALICE = Member(1, "alice")
BADGE = Badge("04A1B2C3", 1, expiry=NOW + timedelta(days=30), parent_id_tag="FLEET1")


@pytest.mark.parametrize(("badge", "member", "places", "busy", "status"), [
    (None, None, {"CP1"}, False, "Invalid"),
    (BADGE, ALICE, {"CP1"}, False, "Accepted"),
    (replace(BADGE, status="Blocked"), ALICE, {"CP1"}, False, "Blocked"),
    (BADGE, replace(ALICE, blocked=True), {"CP1"}, False, "Blocked"),
    (replace(BADGE, expiry=NOW - timedelta(seconds=1)), ALICE, {"CP1"}, False, "Expired"),
    (BADGE, replace(ALICE, charge_points=("CP2",)), {"CP1", "parking"}, False, "Invalid"),
    (BADGE, replace(ALICE, charge_points=("parking",)), {"CP1", "parking"}, False,
     "Accepted"),  # a node of the tree stands for the charge points below it
    (BADGE, replace(ALICE, windows=(Window((0,), "18:00", "22:00"),)), {"CP1"}, False,
     "Blocked"),
    (BADGE, replace(ALICE, credit_wh=0), {"CP1"}, False, "Blocked"),
    (BADGE, replace(ALICE, credit_wh=-50), {"CP1"}, False, "Blocked"),
    (BADGE, ALICE, {"CP1"}, True, "ConcurrentTx"),
])
def test_decisions(badge: Badge | None, member: Member | None, places: set[str], busy: bool,
                   status: str) -> None:
    d = decide(badge, member, places, NOW, PARIS, busy)
    assert d.status == status, d.reason
    if badge is not None:
        assert d.expiry == badge.expiry and d.parent_id_tag == "FLEET1"


def _paris(*args: int) -> datetime:
    return datetime(*args, tzinfo=PARIS).astimezone(UTC)


@pytest.mark.parametrize(("when", "inside"), [
    (_paris(2026, 11, 30, 21, 59), False),  # Monday before 22:00
    (_paris(2026, 11, 30, 22, 0), True),
    (_paris(2026, 12, 1, 5, 59), True),  # Tuesday morning: still Monday's night
    (_paris(2026, 12, 1, 6, 0), False),
    (_paris(2026, 12, 1, 23, 0), False),  # Tuesday night is not in the window
    (_paris(2026, 12, 7, 3, 0), True),  # Sunday night's window runs into Monday
])
def test_windows_across_midnight(when: datetime, inside: bool) -> None:
    windows = (Window((0,), "22:00", "06:00"), Window((6,), "22:00", "06:00"))
    assert in_windows(windows, when, PARIS) is inside


def test_windows_follow_the_wall_clock_across_dst() -> None:
    day = (Window((0, 1, 2, 3, 4, 5, 6), "08:00", "18:00"),)
    # Spring forward (2026-03-29): 06:30 UTC is 08:30 local (CEST), in; a day before
    # the same UTC instant was 07:30 local (CET), out.
    assert in_windows(day, datetime(2026, 3, 29, 6, 30, tzinfo=UTC), PARIS)
    assert not in_windows(day, datetime(2026, 3, 28, 6, 30, tzinfo=UTC), PARIS)
    # Fall back (2026-10-25): 16:30 UTC is 17:30 CET, in; the day before it was 18:30
    # CEST, out; 17:30 UTC is 18:30 CET, out.
    assert in_windows(day, datetime(2026, 10, 25, 16, 30, tzinfo=UTC), PARIS)
    assert not in_windows(day, datetime(2026, 10, 24, 16, 30, tzinfo=UTC), PARIS)
    assert not in_windows(day, datetime(2026, 10, 25, 17, 30, tzinfo=UTC), PARIS)


def test_daily_refill_with_a_ceiling_across_the_dst_night() -> None:
    member = Member(1, "a", credit_wh=1000, refill_period="daily", refill_wh=4000,
                    ceiling_wh=10000, last_refill=_paris(2026, 10, 23, 12, 0))
    due = refills(member, _paris(2026, 10, 26, 9, 0), PARIS)
    # Midnights of the 24th, 25th (CEST, 22:00 UTC) and 26th (CET, 23:00 UTC).
    assert [w for w, *_ in due] == [datetime(2026, 10, 23, 22, tzinfo=UTC),
                                    datetime(2026, 10, 24, 22, tzinfo=UTC),
                                    datetime(2026, 10, 25, 23, tzinfo=UTC)]
    assert [(d, b) for _, d, b, _ in due] == [(4000, 5000), (4000, 9000), (1000, 10000)]


def test_weekly_and_monthly_refills_and_reset() -> None:
    weekly = Member(1, "a", credit_wh=-300, refill_period="weekly", refill_mode="reset",
                    refill_wh=20000, last_refill=_paris(2026, 11, 26, 8, 0))  # a Thursday
    due = refills(weekly, _paris(2026, 12, 9, 8, 0), PARIS)
    assert [w.astimezone(PARIS).date().isoformat() for w, *_ in due] == [
        "2026-11-30", "2026-12-07"]  # Mondays
    assert due[0][1:] == (20300, 20000, "reset")  # a negative balance is reset too
    monthly = replace(weekly, refill_period="monthly", refill_mode="add", refill_wh=50000)
    due = refills(monthly, _paris(2027, 2, 2, 0, 0), PARIS)
    assert [w.astimezone(PARIS).date().isoformat() for w, *_ in due] == [
        "2026-12-01", "2027-01-01", "2027-02-01"]
    assert refills(replace(monthly, refill_period="none"), _paris(2027, 2, 2), PARIS) == []


def test_csv_errors_name_their_lines_and_windows_parse() -> None:
    assert parse_windows("Mon-Fri 07:00-19:00 | Sat,Sun 22:00-06:00") == [
        {"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "19:00"},
        {"days": [5, 6], "start": "22:00", "end": "06:00"}]
    text = ("member,id_tag,windows,credit_wh,charge_points\n"
            "alice,AAA1,Mon-Fri 07:00-19:00,5000,CP1\n"
            "bob,,,,\n"
            "carol,CCC1,Someday 07:00-19:00,,\n"
            "dave,aaa1,,lots,\n"
            "eve,EEE1,,,CP9\n")
    with pytest.raises(CsvError) as err:
        parse_csv(text, {"CP1", "grid"})
    assert [n for n, _ in err.value.errors] == [3, 4, 5, 6]
    messages = dict(err.value.errors)
    assert "required" in messages[3] and "Someday" in messages[4]
    assert "credit_wh" in messages[5] and "CP9" in messages[6]
    rows = parse_csv("member,id_tag\nalice,AAA1\n", {"CP1"})
    assert rows[0].member["name"] == "alice" and rows[0].badge["status"] == "Accepted"


def test_a_member_s_solar_mode_from_csv_and_the_older_pv_only_column() -> None:
    rows = parse_csv("member,id_tag,solar_mode\nalice,AAA1,min_solar\nbob,BBB1,\n", {"CP1"})
    assert [r.member["solar_mode"] for r in rows] == ["min_solar", None]
    legacy = parse_csv("member,id_tag,pv_only\ncarol,CCC1,yes\ndan,DDD1,no\n", {"CP1"})
    assert [r.member["solar_mode"] for r in legacy] == ["surplus", None]
    with pytest.raises(CsvError, match="expected one of , off, surplus, min_solar"):
        parse_csv("member,id_tag,solar_mode\neve,EEE1,sunny\n", {"CP1"})


def test_a_member_s_default_departure_plan_from_csv() -> None:
    rows = parse_csv("member,id_tag,departure_time,energy_need_wh\nvans,V1,6h30,40000\n"
                     "cars,C1,,\n", {"CP1"})
    assert [(r.member["departure_time"], r.member["energy_need_wh"]) for r in rows] == [
        ("06:30", 40000), (None, None)]
    with pytest.raises(CsvError) as err:
        parse_csv("member,id_tag,departure_time,energy_need_wh\na,A1,25:00,1\nb,B1,07:00,0\n",
                  {"CP1"})
    assert [n for n, _ in err.value.errors] == [2, 3]
    assert "departure_time" in err.value.errors[0][1]
    assert "energy_need_wh" in err.value.errors[1][1]
