"""Request and response shapes of the operations routes (backups)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import AwareDateTime, Boolean, Dict, Email, Integer, List, Nested, String
from apiflask.validators import Length, OneOf, Range

__all__ = ["AlertOut", "AlertQuery", "BackupStartedOut", "BackupsOut", "EnergyOut", "HistoryQuery",
           "MailOut", "MailTestIn", "ReportIn", "ReportOut", "SignalsOut", "SiteEnergyOut"]


class BackupFileOut(Schema):
    file = String(required=True, metadata={"description": "the first part's name"})
    stamp = String(required=True, metadata={"description": "UTC time, YYYYmmddTHHMMSSZ"})
    parts = Integer(required=True, metadata={"description": "over backup_part_mb: several"})
    size_bytes = Integer(required=True)


class BackupsOut(Schema):
    folder = String(required=True, allow_none=True, metadata={
        "description": "store.backup_dir; null: no daily backup"})
    time = String(required=True, metadata={"description": "daily, local (hub.timezone)"})
    keep = Integer(required=True)
    running = Boolean(required=True)
    next_at = String(required=True, allow_none=True)
    last = Dict(required=True, allow_none=True, metadata={
        "description": "the latest attempt: ok, at, and file/size_bytes/counts or error"})
    backups = List(Nested(BackupFileOut), required=True, metadata={"description": "newest first"})


class BackupStartedOut(Schema):
    started = Boolean(required=True)


class AlertQuery(Schema):
    active = Boolean(metadata={"description": "true: in force only; false: cleared only"})
    kind = String(metadata={"description": "cp_faulted, cp_offline, device_silent, "
                                           "site_at_limit, session_stalled, disk_low, "
                                           "backup_failed, limit_not_applied, limit_ignored"})
    limit = Integer(load_default=200, validate=Range(1, 1000))


class AlertOut(Schema):
    id = Integer(required=True)
    kind = String(required=True)
    target = String(required=True, metadata={"description": "connector, charge point, "
                                                            "device, site or folder"})
    severity = String(required=True, metadata={"description": "warning or critical"})
    message = String(required=True, metadata={"description": "in the caller's language"})
    raised_at = String(required=True)
    cleared_at = String(required=True, allow_none=True)
    acked_at = String(required=True, allow_none=True)
    acked_by = String(required=True, allow_none=True)
    data = Dict(required=True)


class MailTestIn(Schema):
    to = Email(required=True)


class MailOut(Schema):
    configured = Boolean(required=True)
    host = String(allow_none=True)
    port = Integer(allow_none=True)
    security = String(allow_none=True)
    username = String(allow_none=True)
    from_address = String(allow_none=True)
    password_set = Boolean(required=True, metadata={"description": "the password is never "
                                                                   "shown"})
    alerts_to = List(String(), required=True)
    reports_to = List(String(), required=True)
    sent = Integer(required=True)
    failed = List(String(), required=True, metadata={"description": "latest failures"})


class HistoryQuery(Schema):
    period = String(load_default="month", validate=OneOf(["day", "week", "month", "year",
                                                          "all"]),
                    metadata={"description": "local periods (hub.timezone)"})
    by = String(load_default="site", validate=OneOf(["site", "board", "group", "charge_point",
                                                      "member", "badge"]))
    since = AwareDateTime(metadata={"description": "default: a year before until"})
    until = AwareDateTime(metadata={"description": "excluded; default: now"})
    lang = String(validate=OneOf(["en", "fr"]), metadata={
        "description": "the Excel export's language (default: Accept-Language)"})
    format = String(load_default="xlsx", validate=OneOf(["xlsx", "csv"]), metadata={
        "description": "the export: the Excel workbook, or the energy per period as CSV"})


class EnergyOut(Schema):
    period = String(required=True, metadata={"description": "first local day, or 'all'"})
    key = String(required=True, metadata={"description": "the site, board, group, charge "
                                                         "point, member or badge"})
    sessions = Integer(required=True, metadata={"description": "started in the period"})
    energy_wh = Integer(required=True)
    duration_s = Integer(required=True)


class SiteEnergyOut(Schema):
    period = String(required=True)
    site = String(required=True)
    consumption_wh = Integer(required=True, metadata={
        "description": "the grid meter's currents × nominal voltage: an estimate"})
    charging_wh = Integer(required=True, metadata={"description": "the connectors' registers"})
    pv_wh = Integer(required=True, allow_none=True)


class ReportIn(Schema):
    period = String(required=True, validate=OneOf(["week", "month"]))
    to = Email(metadata={"description": "default: reports.to"})


class ReportOut(Schema):
    period = String(required=True)
    sessions = Integer(required=True)
    energy_wh = Integer(required=True)
    file = String(required=True)


class EvidenceQuery(Schema):
    since = AwareDateTime(metadata={"description": "default: 7 days before until"})
    until = AwareDateTime(metadata={"description": "excluded; default: now; at most 93 days "
                                                   "after since"})


class SolarOut(Schema):
    sites = Dict(required=True, metadata={
        "description": "per site: mode (sites[].solar.mode), solar (the last decision: "
                       "grid_w, surplus_w, each solar car's mode, on, cap_w, starts_in_s, "
                       "stops_in_s, the battery's setpoint_w, power_w and soc_pct; null "
                       "without solar charging), pv (kwp, now_w forecast, "
                       "measured_w from the inverters, today_kwh, tomorrow_kwh, fetched_at, "
                       "error, the 15-minute slots of the next 48 h; null without panels)"})


class SignalsOut(Schema):
    configured = Boolean(required=True, metadata={"description": "signals.zni is set"})
    signal = Integer(allow_none=True, metadata={"description": "1 favourable, 0 unfavourable "
                                                              "(each connector at half power)"})
    known = Boolean(metadata={"description": "false: no slot for now, the configured case "
                                             "(signals.zni.unknown) is assumed"})
    until = String(allow_none=True)
    fetched_at = String(allow_none=True)
    error = String(allow_none=True, metadata={"description": "why the last fetch failed"})
    slots = List(Dict(), metadata={"description": "10-minute slots ahead: start, signal"})
    tempo = Dict(required=True, metadata={
        "description": "configured, colour (BLUE, WHITE, RED or null) of the tariff day "
                       "(06:00 → 06:00), limit_a and until while its rule is in force, the "
                       "days known, the last fetch or its error"})
    ecowatt = Dict(required=True, metadata={
        "description": "configured, the level of this hour (0..3), limit_a and until while "
                       "a level's rule is in force, the hours known, the last fetch"})
    offpeak = Dict(required=True, metadata={
        "description": "configured, peak (true outside the off-peak windows), windows, "
                       "peak_limit_a"})


class DiagnosticsIn(Schema):
    start_time = AwareDateTime(metadata={"description": "oldest logs wanted (UTC offset)"})
    stop_time = AwareDateTime(metadata={"description": "newest logs wanted (UTC offset)"})


class DiagnosticsQuery(Schema):
    charge_point_id = String(validate=Length(1, 64))
    limit = Integer(load_default=200, validate=Range(1, 1000))


class DiagnosticsOut(Schema):
    id = Integer()
    charge_point_id = String()
    requested_at = String(allow_none=True)
    requested_by = String(allow_none=True)
    status = String(metadata={"description": "requested, accepted, none (nothing to "
                                             "send), Uploading, UploadFailed, Uploaded, "
                                             "received (the file is here), failed"})
    file_name = String(allow_none=True)
    size_bytes = Integer(allow_none=True)
    sha256 = String(allow_none=True)
    received_at = String(allow_none=True)
    error = String(allow_none=True)


class FirmwareQuery(Schema):
    name = String(required=True, validate=Length(1, 100),
                  metadata={"description": "the file's name, as charge points will see it"})


class FirmwareOut(Schema):
    id = Integer()
    name = String()
    size_bytes = Integer()
    sha256 = String()
    uploaded_at = String()
    uploaded_by = String(allow_none=True)


class CampaignIn(Schema):
    firmware_id = Integer(strict=True, required=True, validate=Range(1, 2**62))
    charge_points = List(String(validate=Length(1, 64)), validate=Length(max=10_000),
                         metadata={"description": "these charge points"})
    model = String(validate=Length(1, 100),
                   metadata={"description": "or every charge point of this model"})
    node = String(validate=Length(1, 64),
                  metadata={"description": "or every charge point under this board or group"})
    retrieve_at = AwareDateTime(metadata={"description": "not before (default: now)"})
    concurrency = Integer(strict=True, load_default=5, validate=Range(1, 100))
    retries = Integer(strict=True, load_default=2, validate=Range(0, 10))
    retry_interval_s = Integer(strict=True, load_default=300, validate=Range(10, 86_400))


class CampaignTargetOut(Schema):
    charge_point_id = String()
    status = String(metadata={"description": "pending, sent, Downloading, Downloaded, "
                                             "Installing, Installed, failed, cancelled"})
    attempts = Integer()
    next_try_at = String(allow_none=True)
    updated_at = String(allow_none=True)
    error = String(allow_none=True)
    firmware_before = String(allow_none=True)
    firmware_after = String(allow_none=True)


class CampaignOut(Schema):
    id = Integer()
    firmware_id = Integer()
    created_at = String()
    created_by = String(allow_none=True)
    retrieve_at = String()
    concurrency = Integer()
    retries = Integer()
    retry_interval_s = Integer()
    state = String(metadata={"description": "running, done"})
    ended_at = String(allow_none=True)
    summary = Dict(keys=String(), values=Integer())
    targets = List(Nested(CampaignTargetOut))


class TargetsIn(Schema):
    charge_points = List(String(validate=Length(1, 64)), validate=Length(max=10_000))
    model = String(validate=Length(1, 100))
    node = String(validate=Length(1, 64))


class TargetsQuery(Schema):
    charge_points = String(validate=Length(1, 10_000),
                           metadata={"description": "ids, comma separated"})
    model = String(validate=Length(1, 100))
    node = String(validate=Length(1, 64))


class ConfigChangeIn(TargetsIn):
    key = String(required=True, validate=Length(1, 50))
    value = String(required=True, validate=Length(0, 500))


class ConfigChangeResultOut(Schema):
    charge_point_id = String()
    result = String(metadata={"description": "Accepted, RebootRequired, Rejected, "
                                             "NotSupported, offline, timed_out, error"})
    error = String(allow_none=True)


class ConfigChangeOut(ConfigChangeResultOut):
    id = Integer()
    at = String()
    by = String(allow_none=True)
    key = String()
    value = String(allow_none=True)


class ConfigHistoryQuery(Schema):
    charge_point_id = String(validate=Length(1, 64))
    limit = Integer(load_default=200, validate=Range(1, 1000))


class ConfigKeyOut(Schema):
    key = String()
    values = Dict(keys=String(), values=String(allow_none=True))
    same = Boolean()


class ConfigCompareOut(Schema):
    charge_points = List(String())
    read = List(String(), metadata={"description": "those whose keys the hub has"})
    keys = List(Nested(ConfigKeyOut))


class ReservationIn(Schema):
    connector_id = Integer(strict=True, required=True, validate=Range(0, 99),
                           metadata={"description": "0: any connector of the charge point"})
    id_tag = String(required=True, validate=Length(1, 20))
    minutes = Integer(strict=True, load_default=30, validate=Range(1, 1440))


class ReservationQuery(Schema):
    active = Boolean(metadata={"description": "true: held now only; false: ended only"})
    limit = Integer(load_default=200, validate=Range(1, 1000))


class ReservationOut(Schema):
    id = Integer()
    charge_point_id = String()
    connector_id = Integer()
    id_tag = String()
    expires_at = String()
    created_at = String()
    created_by = String(allow_none=True)
    status = String(metadata={"description": "Accepted (held), Occupied, Faulted, "
                                             "Unavailable, Rejected, offline, timed_out, "
                                             "used, cancelled, expired"})
    active = Boolean()
    transaction_id = Integer(allow_none=True)
    ended_at = String(allow_none=True)
    answer = String(allow_none=True, metadata={
        "description": "on a cancel: the charge point's answer to CancelReservation"})


class CpoLinkOut(Schema):
    charge_point_id = String()
    linked = Boolean(metadata={"description": "a link is wanted: the charge point is "
                                              "connected to the hub or messages are owed"})
    online = Boolean(metadata={"description": "linked, and its BootNotification accepted"})
    url = String(allow_none=True)
    queued = Integer(metadata={"description": "transaction messages owed to the CPO"})
    last_error = String(allow_none=True)
