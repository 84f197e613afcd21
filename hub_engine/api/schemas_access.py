"""Request and response shapes of the access-control routes."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import AwareDateTime, Boolean, Dict, Float, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range, Regexp

from hub_engine.api.schemas import StrictBoolean

__all__ = ["BadgeIn", "BadgeOut", "LedgerOut", "MemberIn", "MemberOut", "UnknownBadgeOut"]

HHMM = Regexp(r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$", error="HH:MM")


class WindowSchema(Schema):
    days = List(Integer(strict=True, validate=Range(0, 6)), required=True, validate=Length(1, 7),
                metadata={"description": "weekdays, 0 = Monday"})
    start = String(required=True, validate=HHMM)
    end = String(required=True, validate=HHMM,
                 metadata={"description": "before start: the window runs past midnight"})


class MemberIn(Schema):
    group = String(validate=Length(0, 64))
    blocked = StrictBoolean()
    charge_points = List(String(validate=Length(1, 64)), metadata={
        "description": "charge point or node ids; empty: everywhere"})
    windows = List(Nested(WindowSchema), metadata={"description": "empty: always"})
    windows_text = String(validate=Length(0, 500), metadata={
        "description": "the windows as text, instead of `windows`: "
                       "'Mon-Fri 07:00-19:00 | Sat 08:00-12:00' or 'lun-ven 7h-19h'"})
    credit_wh = Integer(strict=True, allow_none=True, validate=Range(-10**9, 10**9))
    refill_period = String(validate=OneOf(["none", "daily", "weekly", "monthly"]))
    refill_mode = String(validate=OneOf(["add", "reset"]))
    refill_wh = Integer(strict=True, validate=Range(0, 10**9))
    ceiling_wh = Integer(strict=True, allow_none=True, validate=Range(0, 10**9))
    on_exhausted = String(validate=OneOf(["limit", "stop"]))
    priority = Integer(strict=True, validate=Range(-100, 100))
    min_current_a = Float(allow_none=True, validate=Range(6, 80))
    solar_mode = String(allow_none=True, validate=OneOf(["off", "surplus", "min_solar"]),
                        metadata={"description": "its sessions' solar mode; null: the "
                                  "charge point's, else the site's"})
    departure_time = String(allow_none=True, validate=Regexp(
        r"^([01]\d|2[0-3]):[0-5]\d$", error="a local time HH:MM"), metadata={
        "description": "its sessions' default departure: the next HH:MM (local) after the "
                       "start; with energy_need_wh, each session gets this plan"})
    energy_need_wh = Integer(strict=True, allow_none=True, validate=Range(1, 500_000),
                             metadata={"description": "its sessions' default energy need"})
    pv_only = StrictBoolean(load_only=True, metadata={
        "description": "deprecated: true is solar_mode surplus"})


class MemberOut(Schema):
    name = String(required=True)
    group = String(required=True)
    blocked = Boolean(required=True)
    charge_points = List(String(), required=True)
    windows = List(Dict(), required=True)
    credit_wh = Integer(strict=True, allow_none=True)
    refill_period = String(required=True)
    refill_mode = String(required=True)
    refill_wh = Integer(strict=True, required=True)
    ceiling_wh = Integer(strict=True, allow_none=True)
    on_exhausted = String(required=True)
    priority = Integer(strict=True, required=True)
    last_refill = String(allow_none=True)
    min_current_a = Float(allow_none=True)
    solar_mode = String(allow_none=True, required=True)
    departure_time = String(allow_none=True, required=True)
    energy_need_wh = Integer(strict=True, allow_none=True, required=True)
    windows_text = String(required=True)
    badges = List(String(), required=True)


class BadgeIn(Schema):
    member = String(allow_none=True, validate=Length(1, 100))
    status = String(load_default="Accepted", validate=OneOf(["Accepted", "Blocked"]))
    expiry = AwareDateTime(allow_none=True)
    parent_id_tag = String(allow_none=True, validate=Length(1, 20))
    label = String(load_default="", validate=Length(0, 100))


class BadgeOut(Schema):
    id_tag = String(required=True)
    member = String(allow_none=True)
    status = String(required=True)
    expiry = String(allow_none=True)
    parent_id_tag = String(allow_none=True)
    label = String(required=True)


class LedgerOut(Schema):
    ts = String(required=True)
    delta_wh = Integer(strict=True, required=True)
    balance_wh = Integer(strict=True, required=True)
    reason = String(required=True)
    transaction_id = Integer(strict=True, allow_none=True)


class UnknownBadgeOut(Schema):
    id_tag = String(required=True)
    charge_point = String(required=True)
    first_seen = String(required=True)
    last_seen = String(required=True)
    attempts = Integer(strict=True, required=True)
