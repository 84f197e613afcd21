"""Request and response shapes of the API (marshmallow, through APIFlask): the OpenAPI
document at ``/api/v1/openapi.json`` is generated from these and the routes."""

from __future__ import annotations

from typing import Any

from apiflask import Schema
from apiflask.fields import (
    AwareDateTime,
    Boolean,
    Dict,
    Float,
    Integer,
    List,
    Nested,
    String,
)
from apiflask.validators import Length, OneOf, Range

__all__ = [
    "CommandTypeOut",
    "ConfigHistoryOut",
    "ConfigIn",
    "ConfigOut",
    "ConfigSavedOut",
    "ConnectorOut",
    "CpDetailOut",
    "CpOut",
    "DevicesOut",
    "EmsOut",
    "HealthOut",
    "JobOut",
    "LimitIn",
    "LimitOut",
    "LimitQuery",
    "LiveOut",
    "LogOut",
    "LogQuery",
    "LoginIn",
    "MeOut",
    "NewTokenOut",
    "PlanIn",
    "PlanOut",
    "RegistrationIn",
    "RestartOut",
    "SampleOut",
    "SampleQuery",
    "SessionOut",
    "SessionQuery",
    "SessionSummaryOut",
    "StrictBoolean",
    "SystemOut",
    "TokenIn",
    "TokenOut",
    "TreeNodeOut",
    "UserIn",
    "UserOut",
    "UserPatch",
    "WaitQuery",
    "csv_doc",
]

ROLE = OneOf(["reader", "operator", "admin"])


class StrictBoolean(Boolean):
    """JSON ``true``/``false`` only (marshmallow would take 0, 1, "yes"…)."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        if not isinstance(value, bool):
            raise self.make_error("invalid", input=value)
        return value


class LoginIn(Schema):
    login = String(required=True, validate=Length(1, 64))
    password = String(required=True, validate=Length(1, 256))


class TokenOut(Schema):
    token = String(required=True)
    login = String(required=True)
    role = String(required=True)
    expires_at = String(required=True)


class MeOut(Schema):
    name = String(required=True)
    role = String(required=True)


class UserOut(Schema):
    login = String(required=True)
    name = String(required=True)
    role = String(required=True)
    created_at = String(required=True)
    disabled = Boolean(required=True)


class UserIn(Schema):
    login = String(required=True, validate=Length(2, 32))
    password = String(required=True, validate=Length(12, 256))
    role = String(required=True, validate=ROLE)
    name = String(load_default="", validate=Length(0, 100))


class UserPatch(Schema):
    password = String(validate=Length(12, 256))
    role = String(validate=ROLE)
    name = String(validate=Length(0, 100))
    disabled = StrictBoolean()


class TokenIn(Schema):
    name = String(required=True, validate=Length(1, 64))
    role = String(load_default="reader", validate=ROLE)
    expires_days = Integer(strict=True, load_default=None, allow_none=True, validate=Range(1, 3650))


class NewTokenOut(Schema):
    id = Integer(required=True)
    token = String(required=True, metadata={"description": "shown once; store it safely"})
    name = String(required=True)
    role = String(required=True)
    expires_at = String(allow_none=True)


class TokenInfoOut(Schema):
    id = Integer(required=True)
    name = String(required=True)
    role = String(required=True)
    created_at = String(required=True)
    created_by = String(required=True)
    expires_at = String(allow_none=True)
    revoked = Boolean(required=True)


class ConnectorOut(Schema):
    connector_id = Integer(required=True)
    status = String(required=True)
    error_code = String(allow_none=True)
    updated_at = String(required=True)


class CpOut(Schema):
    id = String(required=True)
    configured = Boolean(required=True)
    online = Boolean(required=True)
    registration = String(allow_none=True)
    vendor = String(allow_none=True)
    model = String(allow_none=True)
    serial = String(allow_none=True)
    firmware = String(allow_none=True)
    last_seen = String(allow_none=True)
    failsafe = String(allow_none=True, metadata={"description": "verified, failed, unknown"})
    connectors = List(Nested(ConnectorOut), required=True)


class RegistrationIn(Schema):
    registration = String(required=True, validate=OneOf(["accepted", "rejected"]))


class CpDetailOut(CpOut):
    capabilities = Dict(required=True)
    configuration = Dict(required=True)
    last_boot = String(allow_none=True)


class LogQuery(Schema):
    limit = Integer(load_default=100, validate=Range(1, 1000))
    before_ms = Integer(load_default=None, allow_none=True, validate=Range(0, 2**53))


class LogOut(Schema):
    ts = String(required=True)
    direction = String(required=True)
    message = String(required=True)


class WaitQuery(Schema):
    wait_s = Float(load_default=0.0, validate=Range(0, 30))


class JobOut(Schema):
    id = String(required=True)
    charge_point = String(required=True)
    command = String(required=True)
    by = String(required=True)
    created_at = String(required=True)
    state = String(required=True, metadata={"description": "pending or done"})
    result = Dict(allow_none=True)


class CommandTypeOut(Schema):
    name = String(required=True)
    role = String(required=True)
    description = String(required=True)


class SessionQuery(Schema):
    charge_point = String(validate=Length(1, 64))
    id_tag = String(validate=Length(1, 20))
    member = String(validate=Length(1, 100))
    active = Boolean()
    lang = String(validate=OneOf(["en", "fr"]), metadata={
        "description": "the CSV export's spreadsheet conventions"})
    since = AwareDateTime()
    until = AwareDateTime()
    limit = Integer(load_default=100, validate=Range(1, 1000))
    offset = Integer(load_default=0, validate=Range(0, 10**9))


class SessionOut(Schema):
    id = Integer(required=True)
    charge_point = String(required=True)
    connector = Integer(required=True)
    id_tag = String(required=True)
    started_at = String(required=True)
    stopped_at = String(allow_none=True)
    meter_start_wh = Integer(required=True)
    meter_stop_wh = Integer(allow_none=True)
    energy_wh = Integer(allow_none=True)
    stop_reason = String(allow_none=True)
    # Why the hub closed it, when the charge point forgot it (no StopTransaction came).
    closed_by_hub = String(allow_none=True)
    member = String(allow_none=True, metadata={"description": "the badge's member now"})
    active = Boolean(required=True)
    plan = Dict(allow_none=True, metadata={
        "description": "its departure plan: departure (UTC), energy_wh, source"})


class PlanIn(Schema):
    departure = AwareDateTime(required=True, metadata={
        "description": "when the car leaves (with its timezone), at most 7 days ahead"})
    energy_wh = Float(required=True, metadata={
        "description": "the energy it needs in the whole session (what it took counts)"})


class PlanOut(Schema):
    session = Integer(required=True)
    departure = String(required=True)
    energy_wh = Float(required=True)
    source = String(required=True)


class SessionSummaryOut(Schema):
    sessions = Integer(required=True)
    active = Integer(required=True)
    energy_wh = Integer(required=True, metadata={"description": "of the sessions ended"})


class SampleQuery(Schema):
    measurand = String(validate=Length(1, 64))
    limit = Integer(load_default=5000, validate=Range(1, 100000))


class SampleOut(Schema):
    ts = String(required=True)
    measurand = String(required=True)
    phase = String(required=True)
    unit = String(required=True)
    value = Float(required=True)


class EmsOut(Schema):
    cycles = Integer(required=True)
    record = Dict(required=True, metadata={"description": "the last cycle record (v1)"})


class LimitIn(Schema):
    target = String(required=True, validate=Length(1, 64))
    expires_at = AwareDateTime(required=True)
    limit_a = Float(allow_none=True, validate=Range(0, 1e6))
    limit_w = Float(allow_none=True, validate=Range(0, 1e7))
    on_expiry = String(load_default="release", validate=OneOf(["release", "hold"]))
    fallback_a = Float(allow_none=True, validate=Range(0, 1e6))
    fallback_w = Float(allow_none=True, validate=Range(0, 1e7))
    source = String(validate=Length(1, 64), metadata={
        "description": "who asks (default: api:<caller>); the same source replaces its "
                       "previous limit on the target"})


class LimitOut(Schema):
    target = String(required=True)
    source = String(required=True)
    limit_a = Float(allow_none=True)
    limit_w = Float(allow_none=True)
    expires_at = String(required=True)
    on_expiry = String(required=True)
    fallback_a = Float(allow_none=True)
    fallback_w = Float(allow_none=True)
    expired = Boolean(required=True)


class LimitQuery(Schema):
    source = String(required=True, validate=Length(1, 64))


class DevicesOut(Schema):
    devices = Dict(required=True)
    inputs = Dict(required=True)


class HealthOut(Schema):
    status = String(required=True)
    version = String(required=True)
    started_at = String(required=True)


class RestartOut(Schema):
    restarting = Boolean(required=True)
    started_at = String(required=True, metadata={"description": "of the engine stopping"})


class SystemOut(Schema):
    version = String(required=True)
    started_at = String(required=True)
    uptime_s = Float(required=True)
    charge_points_configured = Integer(required=True)
    charge_points_online = Integer(required=True)
    ems_cycles = Integer(required=True)
    sites = List(String(), required=True)


class LiveOut(Schema):
    time = String(required=True)
    local_time = String(required=True)
    cycle_ms = Float(allow_none=True)
    sites = List(Dict(), required=True)
    connectors = List(Dict(), required=True)
    sessions_active = Integer(required=True)
    external_limits = List(Dict(), required=True)
    fire_alarm = Boolean(required=True)


class TreeNodeOut(Schema):
    id = String(required=True)
    name = String(required=True)
    parent = String(allow_none=True)
    limit_a = Float(allow_none=True)
    limit_va = Float(allow_none=True)
    limit_w = Float(allow_none=True)
    margin_a = Float(required=True)
    meter = String(allow_none=True)
    charge_points = List(String(), required=True)
    sum_max_a = Float(required=True)
    fallback_sum_a = Float(required=True)
    capacity_a = List(Float(), allow_none=True)
    non_ev_a = List(Float(), allow_none=True)
    charging_a = List(Float(), allow_none=True)
    meter_status = String(allow_none=True)
    meter_current_a = List(Float(), allow_none=True)
    limit_in_force_a = Float(allow_none=True, metadata={
        "description": "the rating lowered by external limits and signals"})
    limit_in_force_w = Float(allow_none=True)


class ConfigOut(Schema):
    text = String(required=True)
    source = String(required=True)
    saves_to = String(required=True)


class ConfigIn(Schema):
    text = String(required=True, validate=Length(1, 500_000))


class ConfigSavedOut(Schema):
    version = Integer(required=True)
    saved_to = String(required=True)
    saved_at = String(required=True)
    applies = String(required=True)
    warnings = List(String(), required=True, metadata={
        "description": "allowed but worth a look (a board rated above its parent…)"})


class ConfigHistoryOut(Schema):
    version = Integer(required=True)
    saved_at = String(required=True)
    author = String(required=True)
    text = String(required=True)



def csv_doc(description: str) -> dict[int | str, dict[str, str | dict[str, dict[str, Any]]]]:
    """The OpenAPI answer of a route that returns CSV text."""
    return {200: {"description": description,
                  "content": {"text/csv": {"schema": {"type": "string"}}}}}
