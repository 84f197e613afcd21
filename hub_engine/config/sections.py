"""The configuration's sections besides the site tree: general, OCPP, HTTP, bus, store,
EMS, access control, operations, simulation (``docs/configuration.md`` has every key)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = [
    "AccessConfig",
    "BusConfig",
    "EmsConfig",
    "GeneralConfig",
    "HttpConfig",
    "OcppConfig",
    "OpsConfig",
    "SimulationConfig",
    "StoreConfig",
    "port",
    "positive",
]


def positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise FieldError(name, Text("got {value!r}, expected a number > 0", value=value))


def port(name: str, value: int) -> None:
    if not 0 <= value <= 65535:
        raise FieldError(name, Text(
            "got {value!r}, expected a TCP port 0..65535 (0 = pick a free one)", value=value))


@dataclass(frozen=True)
class GeneralConfig:
    data_dir: str = "var"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    log_format: Literal["text", "json"] = "text"
    timezone: str = "Europe/Paris"
    language: Literal["en", "fr"] = "en"  # of e-mails and reports


@dataclass(frozen=True)
class OcppConfig:
    host: str = "0.0.0.0"
    ws_port: int = 9000
    wss_port: int = 9043
    # wss: "off", "local_ca" (the hub makes a CA and a server certificate in data_dir/tls)
    # or "operator" (tls_cert_file and tls_key_file).
    tls: Literal["off", "local_ca", "operator"] = "local_ca"
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    unknown_charge_points: Literal["accept", "pending", "reject"] = "pending"
    heartbeat_interval_s: int = 300
    call_timeout_s: float = 30.0
    # A frame larger than this gets a CALLERROR; four times larger closes the connection.
    max_frame_bytes: int = 65536
    # Connections of charge points not (yet) accepted: at most this many at once, and each
    # closed if it sends no BootNotification within unaccepted_idle_s.
    max_unaccepted_connections: int = 100
    unaccepted_idle_s: float = 30.0
    # Spread of the Accepted answers when many charge points boot at once (blackout).
    boot_spread_s: float = 30.0
    # Charge points configured at once after their boot (the others wait, Pending).
    boot_concurrency: int = 50
    meter_value_sample_interval_s: int = 10
    # Authorization until the access-control model exists: every idTag, or only these.
    accept_all_id_tags: bool = False
    id_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        port("ws_port", self.ws_port)
        port("wss_port", self.wss_port)
        positive("heartbeat_interval_s", self.heartbeat_interval_s)
        positive("call_timeout_s", self.call_timeout_s)
        positive("max_frame_bytes", self.max_frame_bytes)
        positive("max_unaccepted_connections", self.max_unaccepted_connections)
        positive("unaccepted_idle_s", self.unaccepted_idle_s)
        positive("boot_concurrency", self.boot_concurrency)
        if self.boot_spread_s < 0:
            raise FieldError("boot_spread_s", Text("expected a number ≥ 0"))
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise FieldError("tls_key_file", Text("tls_cert_file and tls_key_file go together"))
        if self.tls == "operator" and self.tls_cert_file is None:
            raise FieldError("tls", Text("tls: operator needs tls_cert_file and tls_key_file"))


@dataclass(frozen=True)
class HttpConfig:
    host: str = "127.0.0.1"
    port: int = 8080
    https_port: int | None = 8443  # null: no HTTPS listener
    # HTTPS certificate: the operator's files, else the hub's local CA (as for wss).
    tls_cert_file: str | None = None
    tls_key_file: str | None = None
    threads: int = 16
    # Reverse proxies whose X-Forwarded-For is believed (their own addresses): behind one,
    # sign-in limits are per client, not per proxy.
    trusted_proxies: tuple[str, ...] = ()
    # Slow clients: a request's line and headers within header_timeout_s, its body at
    # body_min_rate_bytes_per_s at least, and at most max_reading_per_client requests of one
    # address being received at once (trusted proxies exempt): each holds a thread.
    header_timeout_s: float = 10.0
    body_min_rate_bytes_per_s: int = 16384
    max_reading_per_client: int = 4

    def __post_init__(self) -> None:
        port("port", self.port)
        positive("header_timeout_s", self.header_timeout_s)
        positive("body_min_rate_bytes_per_s", self.body_min_rate_bytes_per_s)
        positive("max_reading_per_client", self.max_reading_per_client)
        if 1 < self.threads <= self.max_reading_per_client:
            raise FieldError("max_reading_per_client", Text(
                "{count} of {threads} threads: one client could hold them all",
                count=self.max_reading_per_client, threads=self.threads))
        if self.https_port is not None:
            port("https_port", self.https_port)
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise FieldError("tls_key_file", Text("tls_cert_file and tls_key_file go together"))
        positive("threads", self.threads)


@dataclass(frozen=True)
class BusConfig:
    # Empty endpoints mean ipc:// sockets inside data_dir (file permissions protect them).
    pub_endpoint: str = ""
    router_endpoint: str = ""


@dataclass(frozen=True)
class StoreConfig:
    core_db: str = "core.db"
    samples_db: str = "samples.db"
    group_commit_max_batch: int = 500
    ocpp_log_retention_days: int = 90
    ocpp_log_routine_days: int = 7  # MeterValues and Heartbeat frames: the bulk of the log
    events_retention_days: int = 730
    samples_full_resolution_days: int = 35
    samples_downsample_interval_s: int = 900
    samples_hourly_after_days: int = 90  # then the buckets become hours…
    samples_daily_after_days: int = 730  # …then days (UTC), kept for good
    samples_max_mb: int | None = None  # over this, the oldest curves go first
    pseudonymise_after_years: int | None = None
    backup_dir: str | None = None
    backup_time: str = "03:00"  # local (hub.timezone), daily
    backup_keep: int = 14
    backup_part_mb: int = 1024  # FAT32 holds files under 4 GiB
    backup_samples: bool = True

    def __post_init__(self) -> None:
        for name in (
            "group_commit_max_batch",
            "ocpp_log_retention_days",
            "ocpp_log_routine_days",
            "events_retention_days",
            "samples_full_resolution_days",
            "samples_downsample_interval_s",
            "samples_hourly_after_days",
            "samples_daily_after_days",
            "samples_max_mb",
            "pseudonymise_after_years",
            "backup_keep",
            "backup_part_mb",
        ):
            positive(name, getattr(self, name))
        if not (self.samples_full_resolution_days <= self.samples_hourly_after_days
                <= self.samples_daily_after_days):
            raise FieldError("samples_daily_after_days", Text(
                "expected samples_full_resolution_days ≤ samples_hourly_after_days ≤ "
                "samples_daily_after_days"))
        if 3600 % self.samples_downsample_interval_s:
            raise FieldError("samples_downsample_interval_s", Text(
                "got {value}, expected a divisor of 3600 (buckets fold into hours)",
                value=self.samples_downsample_interval_s))
        if self.backup_part_mb >= 4096:
            raise FieldError("backup_part_mb", Text(
                "got {value}, expected under 4096 (FAT32 refuses files of 4 GiB)",
                value=self.backup_part_mb))
        if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", self.backup_time):
            raise FieldError("backup_time", Text("got {value!r}, expected HH:MM",
                                                 value=self.backup_time))


@dataclass(frozen=True)
class EmsConfig:
    cycle_s: float = 1.0
    reaction_window_s: float = 15.0
    meter_timeout_s: float = 10.0
    profile_validity_s: float = 300.0
    min_current_a: float = 6.0
    min_on_s: float = 900.0
    min_off_s: float = 300.0
    max_pauses_per_session: int = 3
    fairness_unit: Literal["A", "W"] = "A"
    # How far back the largest non-charging load estimate is kept (DESIGN "The EMS", 2):
    # about the age of charge-point MeterValues, so ramps down are not underestimated.
    non_ev_window_s: float = 60.0
    # A limit counts as applied this long after the charge point accepted it (its
    # electronics' delay plus the car's ramp); until then the higher of old and new counts.
    confirm_settle_s: float = 10.0
    # For this long after a limit rises (or a session starts), a meter rise up to the new
    # limit not yet seen in the car's MeterValues is counted as the car's, not the
    # building's; the pre-increase estimates stay in the window above, so it never lowers
    # the estimate below what was measured before the increase.
    ramp_credit_s: float = 30.0
    # A charge point measured above its limit (+2 A) this long is flagged as ignoring it:
    # alert, counted at its real draw. Longer than confirm_settle_s + a MeterValues interval.
    ignore_after_s: float = 60.0
    # Limits in flight at once (decreases first): bounded so a big site's step does not
    # open thousands of calls at once, high enough that 1,200 connectors are served in
    # well under a second.
    max_parallel_sends: int = 256
    # How long a limit waits for its answer; unanswered, it counts at the higher of old
    # and new and is sent again (within the reaction window).
    send_timeout_s: float = 10.0
    # Check every allocation with the independent, slow checker (hub_engine/ems/check.py):
    # a breach is logged and alerted (self_check). For tests and commissioning: it costs
    # a few ms per cycle per hundred charge points.
    self_check: bool = False
    # Profile storms (sessions coming and going every second reshuffle every share by a
    # fraction of an amp): an increase goes out only if it is worth increase_step_a (or
    # as many watts at 230 V) and at most once per increase_interval_s per connector
    # (default 3 × cycle_s). Decreases are never held back.
    increase_step_a: float = 1.0
    increase_interval_s: float | None = None
    # The fail-safe commissioning test of each charge point model (docs/ems.md): run it
    # automatically on an idle connector; until a model passes, its charge points get at
    # most their fallback ("cap"), or are trusted ("trust": not recommended).
    commissioning: Literal["auto", "off"] = "auto"
    commissioning_test_s: float = 60.0
    unverified_models: Literal["cap", "trust"] = "cap"

    def __post_init__(self) -> None:
        for name in ("cycle_s", "reaction_window_s", "meter_timeout_s", "profile_validity_s",
                     "increase_interval_s", "send_timeout_s"):
            positive(name, getattr(self, name))
        if self.increase_step_a < 0:
            raise FieldError("increase_step_a", Text("got {value!r}, expected ≥ 0",
                                                       value=self.increase_step_a))
        if self.profile_validity_s < 3 * self.cycle_s:
            raise FieldError("profile_validity_s", Text("must be at least 3 × cycle_s"))
        if not 0 <= self.ramp_credit_s <= self.non_ev_window_s:
            raise FieldError("ramp_credit_s", Text("must be between 0 and non_ev_window_s"))
        positive("min_current_a", self.min_current_a)
        # The reaction window is the budget every safety rule is stated against: a cycle
        # and a decrease's settle time must fit in it, and so must a silent meter.
        if self.cycle_s + self.confirm_settle_s > self.reaction_window_s:
            raise FieldError("reaction_window_s", Text(
                "{window:g} s is shorter than cycle_s + confirm_settle_s ({cycle:g} + "
                "{settle:g} s): a decrease could not be confirmed within it",
                window=self.reaction_window_s, cycle=self.cycle_s, settle=self.confirm_settle_s))
        if self.cycle_s + self.send_timeout_s > self.reaction_window_s:
            raise FieldError("send_timeout_s", Text(
                "{timeout:g} s + cycle_s ({cycle:g} s) is longer than reaction_window_s "
                "({window:g} s): a decrease whose answer is lost would not be sent again "
                "within it",
                timeout=self.send_timeout_s, cycle=self.cycle_s, window=self.reaction_window_s))
        if self.meter_timeout_s > self.reaction_window_s:
            raise FieldError("meter_timeout_s", Text(
                "{timeout:g} s is longer than reaction_window_s ({window:g} s)",
                timeout=self.meter_timeout_s, window=self.reaction_window_s))


# What an AC connector can carry per phase (IEC 62196-2 type 2): 80 A on one phase, 63 A
# on three.

@dataclass(frozen=True)
class AccessConfig:
    # How often open sessions are checked against credits and time windows, and
    # calendar refills applied (seconds).
    check_s: float = 10.0
    local_lists: bool = True  # keep each charge point's local authorisation list

    def __post_init__(self) -> None:
        positive("check_s", self.check_s)


@dataclass(frozen=True)
class OpsConfig:
    # "ntp": trust the clock once the kernel says it is synchronised (chrony, ntpd,
    # timesyncd); until then every connector is held at its fallback. "trust": the clock
    # is kept by an RTC or another way the operator vouches for.
    clock: Literal["ntp", "trust"] = "ntp"


@dataclass(frozen=True)
class SimulationConfig:
    scenario: str = "office"
    speed: float = 1.0
    seed: int = 1
    meter_port: int = 5020  # simulated grid meter over Modbus TCP; 0 = not served
    plc_port: int = 5021  # simulated PLC (barrier, lights coils) for the flows; 0 = none
    # A simulated CPO backend on 127.0.0.1 for the relayed charge points (docs/cpo.md);
    # 0 = none (their site's cpo.url then names a real one).
    cpo_port: int = 0

    def __post_init__(self) -> None:
        positive("speed", self.speed)
        port("meter_port", self.meter_port)
        port("plc_port", self.plc_port)
        port("cpo_port", self.cpo_port)
