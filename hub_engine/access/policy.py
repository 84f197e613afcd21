"""Who may charge where and when: pure decisions over a member and a badge.

A **member** (a resident, an employee, a vehicle) owns badges (OCPP idTags: any RFID/NFC
card, compared case-insensitively as OCPP's CiString20 requires), may be restricted to
some charge points or nodes of the site tree, to time windows per weekday in the site's
timezone, and to an energy credit refilled by the calendar. The answer is OCPP's
``idTagInfo``: Accepted, Blocked, Expired, Invalid or ConcurrentTx, with the badge's
expiry and parent idTag.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from hub_engine.config.solar import SolarMode
from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["Badge", "Decision", "Member", "Window", "decide", "in_windows", "refills"]

Status = Literal["Accepted", "Blocked", "Expired", "Invalid", "ConcurrentTx"]
Period = Literal["none", "daily", "weekly", "monthly"]


def _hhmm(text: str, name: str) -> time:
    try:
        hour, minute = (int(x) for x in text.split(":"))
        if text == "24:00":
            return time(23, 59, 59, 999999)
        return time(hour, minute)
    except ValueError:
        raise FieldError(name, Text("got {value!r}, expected HH:MM", value=text)) from None


@dataclass(frozen=True)
class Window:
    """Weekdays (0 = Monday) and an hour range; ``end`` before ``start`` runs past
    midnight into the next day (Mon 22:00-06:00 is Monday night)."""

    days: tuple[int, ...]
    start: str = "00:00"
    end: str = "24:00"

    def __post_init__(self) -> None:
        if not self.days or not all(0 <= d <= 6 for d in self.days):
            raise FieldError("days", Text("weekdays 0 (Monday) to 6 (Sunday)"))
        if _hhmm(self.start, "start") == _hhmm(self.end, "end"):
            raise FieldError("end", Text("a window needs a start and an end that differ"))

    def contains(self, local: datetime) -> bool:
        start, end, now = _hhmm(self.start, "start"), _hhmm(self.end, "end"), local.time()
        day = local.weekday()
        if start < end:
            return day in self.days and start <= now < end
        return (day in self.days and now >= start) or ((day - 1) % 7 in self.days
                                                       and now < end)


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    blocked: bool = False
    charge_points: tuple[str, ...] = ()  # charge point or node ids; () = everywhere
    windows: tuple[Window, ...] = ()  # () = always
    credit_wh: int | None = None  # the balance; None = no energy credit
    refill_period: Period = "none"
    refill_mode: Literal["add", "reset"] = "add"
    refill_wh: int = 0
    ceiling_wh: int | None = None
    last_refill: datetime | None = None
    on_exhausted: Literal["limit", "stop"] = "limit"
    priority: int = 0  # a strict tier for its sessions (fleet vehicles first)
    min_current_a: float | None = None  # its cars need more than the 6 A minimum
    # Its sessions' solar mode (None: the charge point's, else the site's).
    solar_mode: SolarMode | None = None
    # Its sessions' default departure plan: the next local HH:MM after the start, the
    # energy needed (both, or no plan).
    departure_time: str | None = None
    energy_need_wh: int | None = None


@dataclass(frozen=True)
class Badge:
    id_tag: str
    member_id: int | None
    status: Literal["Accepted", "Blocked"] = "Accepted"
    expiry: datetime | None = None
    parent_id_tag: str | None = None


@dataclass(frozen=True)
class Decision:
    status: Status
    reason: str
    expiry: datetime | None = None
    parent_id_tag: str | None = None


def in_windows(windows: tuple[Window, ...], now: datetime, tz: ZoneInfo) -> bool:
    return not windows or any(w.contains(now.astimezone(tz)) for w in windows)


def decide(badge: Badge | None, member: Member | None, cp_places: set[str], now: datetime,
           tz: ZoneInfo, busy_elsewhere: bool = False) -> Decision:
    """``cp_places``: the charge point's id and the ids of the nodes above it."""
    if badge is None:
        return Decision("Invalid", "unknown badge")
    def says(status: Status, reason: str) -> Decision:
        return Decision(status, reason, badge.expiry, badge.parent_id_tag)

    if badge.status == "Blocked" or (member is not None and member.blocked):
        return says("Blocked", "blocked")
    if badge.expiry is not None and badge.expiry <= now:
        return says("Expired", "expired")
    if member is not None:
        if member.charge_points and not set(member.charge_points) & cp_places:
            return says("Invalid", "not allowed on this charge point")
        if not in_windows(member.windows, now, tz):
            return says("Blocked", "outside its time windows")
        if member.credit_wh is not None and member.credit_wh <= 0:
            return says("Blocked", "no energy credit left")
    if busy_elsewhere:
        return says("ConcurrentTx", "already in a session")
    return says("Accepted", "accepted")


def _boundaries(after: datetime, until: datetime, period: Period, tz: ZoneInfo
                ) -> list[datetime]:
    """Local midnights (daily), Monday midnights (weekly) or first-of-month midnights
    (monthly) in (after, until], as aware UTC instants: DST-safe by construction."""
    if period == "none":
        return []
    out: list[datetime] = []
    day = after.astimezone(tz).date() + timedelta(days=1)
    last = until.astimezone(tz).date()
    while day <= last:
        due = (period == "daily" or (period == "weekly" and day.weekday() == 0)
               or (period == "monthly" and day.day == 1))
        if due:
            instant = datetime.combine(day, time(0), tz)
            if after < instant <= until:
                out.append(instant)
        day += timedelta(days=1)
    return out


def refills(member: Member, now: datetime, tz: ZoneInfo
            ) -> list[tuple[datetime, int, int, str]]:
    """The refills due since the member's last one: (when, delta, balance, reason)."""
    if member.credit_wh is None or member.last_refill is None:
        return []
    balance, out = member.credit_wh, []
    for when in _boundaries(member.last_refill, now, member.refill_period, tz):
        if member.refill_mode == "reset":
            new = member.refill_wh
        else:
            new = balance + member.refill_wh
            if member.ceiling_wh is not None:
                new = min(new, max(member.ceiling_wh, balance))
        out.append((when, new - balance, new,
                    "reset" if member.refill_mode == "reset" else "refill"))
        balance = new
    return out
