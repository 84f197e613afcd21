"""The configuration model: frozen dataclasses that ``hub.yaml`` is parsed into.

Units are in the names (``limit_a`` is amps per phase, ``limit_w`` watts). Defaults are
the values a typical site needs; see ``docs/configuration.md`` for every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hub_engine.config.devices import DeviceConfig, InputConfig, MeterConfig, OutputConfig
from hub_engine.config.notify import AlertsConfig, MailConfig, ReportsConfig
from hub_engine.i18n import Text
from hub_engine.typed import FieldError, join_path

__all__ = [
    "AccessConfig",
    "BusConfig",
    "ChargePointConfig",
    "EmsConfig",
    "GeneralConfig",
    "HttpConfig",
    "HubConfig",
    "MeterConfig",
    "NodeConfig",
    "OcppConfig",
    "OpsConfig",
    "SimulationConfig",
    "SiteConfig",
    "StoreConfig",
]

Rotation = Literal["L1L2L3", "L2L3L1", "L3L1L2", "L1L3L2", "L3L2L1", "L2L1L3"]


def _positive(name: str, value: float | None) -> None:
    if value is not None and value <= 0:
        raise FieldError(name, Text("got {value!r}, expected a number > 0", value=value))


def _port(name: str, value: int) -> None:
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
    meter_value_sample_interval_s: int = 10
    # Authorization until the access-control model exists: every idTag, or only these.
    accept_all_id_tags: bool = False
    id_tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _port("ws_port", self.ws_port)
        _port("wss_port", self.wss_port)
        _positive("heartbeat_interval_s", self.heartbeat_interval_s)
        _positive("call_timeout_s", self.call_timeout_s)
        _positive("max_frame_bytes", self.max_frame_bytes)
        _positive("max_unaccepted_connections", self.max_unaccepted_connections)
        _positive("unaccepted_idle_s", self.unaccepted_idle_s)
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
        _port("port", self.port)
        _positive("header_timeout_s", self.header_timeout_s)
        _positive("body_min_rate_bytes_per_s", self.body_min_rate_bytes_per_s)
        _positive("max_reading_per_client", self.max_reading_per_client)
        if 1 < self.threads <= self.max_reading_per_client:
            raise FieldError("max_reading_per_client", Text(
                "{count} of {threads} threads: one client could hold them all",
                count=self.max_reading_per_client, threads=self.threads))
        if self.https_port is not None:
            _port("https_port", self.https_port)
        if (self.tls_cert_file is None) != (self.tls_key_file is None):
            raise FieldError("tls_key_file", Text("tls_cert_file and tls_key_file go together"))
        _positive("threads", self.threads)


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
            _positive(name, getattr(self, name))
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
            _positive(name, getattr(self, name))
        if self.increase_step_a < 0:
            raise FieldError("increase_step_a", Text("got {value!r}, expected ≥ 0",
                                                       value=self.increase_step_a))
        if self.profile_validity_s < 3 * self.cycle_s:
            raise FieldError("profile_validity_s", Text("must be at least 3 × cycle_s"))
        if not 0 <= self.ramp_credit_s <= self.non_ev_window_s:
            raise FieldError("ramp_credit_s", Text("must be between 0 and non_ev_window_s"))
        _positive("min_current_a", self.min_current_a)
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
_AC_MAX_A = {1: 80.0, 3: 63.0}

ProfileQuirk = Literal["stack_level_zero_only", "tx_default_ignored_in_tx",
                       "no_charge_point_max", "profiles_lost_on_reboot"]


@dataclass(frozen=True)
class ChargePointConfig:
    id: str
    connectors: int = 1
    max_current_a: float = 32.0
    phases: Literal[1, 3] = 3
    rotation: Rotation = "L1L2L3"
    control: Literal["A", "W"] = "A"
    dc: bool = False
    max_power_w: float | None = None
    priority: int = 0
    weight: float = 1.0
    # HTTP Basic Auth password (OCPP security profiles 1 and 2, its AuthorizationKey).
    auth_key: str | None = None
    # Firmware behaviours the profile layout adapts to (reference/OCPP-INTEROP.md; some
    # are also detected from the charge point's configuration at boot).
    quirks: tuple[ProfileQuirk, ...] = ()

    def grid_phases(self) -> list[int]:
        """Grid phases (0 = L1) of the charge point's own L1, L2, L3, by its rotation."""
        order = [int(self.rotation[i + 1]) - 1 for i in (0, 2, 4)]
        return order[: self.phases]

    def __post_init__(self) -> None:
        if self.auth_key is not None and not 16 <= len(self.auth_key) <= 40:
            raise FieldError("auth_key", Text("an AuthorizationKey has 16 to 40 characters"))
        if not self.id or "/" in self.id:
            raise FieldError("id", Text("got {value!r}, expected a non-empty id without '/'",
                                           value=self.id))
        if not 1 <= self.connectors <= 4:
            raise FieldError("connectors", Text("got {value!r}, expected 1..4",
                                                   value=self.connectors))
        _positive("max_current_a", self.max_current_a)
        _positive("max_power_w", self.max_power_w)
        _positive("weight", self.weight)
        if self.dc and self.max_power_w is None:
            raise FieldError("max_power_w", Text("a DC charge point needs max_power_w"))
        ac_max = _AC_MAX_A[self.phases]
        if not self.dc and self.max_current_a > ac_max:
            raise FieldError("max_current_a", Text(
                "{current:g} A: an AC connector with {phases} phase(s) carries at most "
                "{most:g} A (IEC 62196-2); is it a DC charger (dc: true)?",
                current=self.max_current_a, phases=self.phases, most=ac_max))


@dataclass(frozen=True)
class NodeConfig:
    """A node of the site tree: grid connection, board or group, with its limits."""

    id: str
    name: str = ""
    limit_a: float | None = None
    limit_va: float | None = None
    limit_w: float | None = None
    margin_a: float = 0.0
    meter: str | None = None
    meter_fallback_load_a: float | None = None
    children: tuple[NodeConfig, ...] = ()
    charge_points: tuple[ChargePointConfig, ...] = ()

    def __post_init__(self) -> None:
        if not self.id:
            raise FieldError("id", Text("expected a non-empty id"))
        for name in ("limit_a", "limit_va", "limit_w"):
            _positive(name, getattr(self, name))
        if self.margin_a < 0:
            raise FieldError("margin_a", Text("got {value!r}, expected a number ≥ 0",
                                                value=self.margin_a))
        if self.limit_a is not None and self.margin_a >= self.limit_a:
            raise FieldError("margin_a", Text(
                "{margin:g} A is at or above limit_a {limit:g} A: nothing would be left "
                "for charging", margin=self.margin_a, limit=self.limit_a))
        if self.meter_fallback_load_a is not None and self.meter_fallback_load_a < 0:
            # A sign error here hands the building's share to the cars when the meter is
            # silent (60 A given on a 40 A node with -20).
            raise FieldError("meter_fallback_load_a",
                             Text("got {value!r}, expected a load ≥ 0 A",
                                  value=self.meter_fallback_load_a))


@dataclass(frozen=True)
class SiteConfig:
    id: str
    grid: NodeConfig
    name: str = ""
    voltage_v: float = 230.0

    def charge_points(self) -> list[ChargePointConfig]:
        """Every charge point of this site's tree, by id."""
        out: list[ChargePointConfig] = []
        stack = [self.grid]
        while stack:
            node = stack.pop()
            out.extend(node.charge_points)
            stack.extend(node.children)
        return sorted(out, key=lambda cp: cp.id)

    def __post_init__(self) -> None:
        _positive("voltage_v", self.voltage_v)
        if self.grid.limit_a is None and self.grid.limit_va is None and self.grid.limit_w is None:
            raise FieldError("grid", Text("the grid connection needs limit_a, limit_va or limit_w"))


@dataclass(frozen=True)
class AccessConfig:
    # How often open sessions are checked against credits and time windows, and
    # calendar refills applied (seconds).
    check_s: float = 10.0
    local_lists: bool = True  # keep each charge point's local authorisation list

    def __post_init__(self) -> None:
        _positive("check_s", self.check_s)


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

    def __post_init__(self) -> None:
        _positive("speed", self.speed)
        _port("meter_port", self.meter_port)
        _port("plc_port", self.plc_port)


@dataclass(frozen=True)
class HubConfig:
    sites: tuple[SiteConfig, ...]
    hub: GeneralConfig = GeneralConfig()
    ocpp: OcppConfig = OcppConfig()
    http: HttpConfig = HttpConfig()
    bus: BusConfig = BusConfig()
    store: StoreConfig = StoreConfig()
    ems: EmsConfig = EmsConfig()
    access: AccessConfig = AccessConfig()
    ops: OpsConfig = OpsConfig()
    alerts: AlertsConfig = AlertsConfig()
    mail: MailConfig | None = None
    reports: ReportsConfig = ReportsConfig()
    meters: tuple[MeterConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    inputs: tuple[InputConfig, ...] = ()
    outputs: tuple[OutputConfig, ...] = ()
    simulation: SimulationConfig | None = None

    def __post_init__(self) -> None:
        if not self.sites:
            raise FieldError("sites", Text("expected at least one site"))
        meter_ids = _unique([(join_path("meters", i), m.id) for i, m in enumerate(self.meters)])
        node_ids: list[tuple[str, str]] = []
        cp_ids: list[tuple[str, str]] = []
        site_ids = [(join_path("sites", i), s.id) for i, s in enumerate(self.sites)]
        _unique(site_ids)
        for i, site in enumerate(self.sites):
            _walk(site.grid, join_path(join_path("sites", i), "grid"), node_ids, cp_ids, meter_ids)
        nodes = _unique(node_ids)
        _unique(cp_ids)
        connectors = [cp for cp in self.charge_points() if not cp.dc]
        if connectors and all(cp.max_current_a < self.ems.min_current_a for cp in connectors):
            raise FieldError("ems.min_current_a", Text(
                "{current:g} A is above every connector's max_current_a: no car could ever "
                "charge", current=self.ems.min_current_a))
        _check_devices(self, nodes)
        ports = [("ocpp.ws_port", self.ocpp.ws_port), ("ocpp.wss_port", self.ocpp.wss_port),
                 ("http.port", self.http.port), ("http.https_port", self.http.https_port)]
        used: dict[int, str] = {}
        for name, port in ports:
            if port and port in used:
                raise FieldError(name, Text("port {port} is also {other}", port=port,
                                                     other=used[port]))
            if port:
                used[port] = name

    def warnings(self) -> list[str]:
        """What is allowed but worth a second look (``check-config`` and the start print
        them): a board rated above its parent (the parent's rating is what counts)."""
        out: list[str] = []
        for i, site in enumerate(self.sites):
            stack = [(site.grid, join_path(join_path("sites", i), "grid"))]
            while stack:
                node, path = stack.pop()
                for j, child in enumerate(node.children):
                    cpath = join_path(join_path(path, "children"), j)
                    if (child.limit_a is not None and node.limit_a is not None
                            and child.limit_a > node.limit_a):
                        out.append(Text(
                            "{path}.limit_a: {limit:g} A is above its parent {parent!r} "
                            "({parent_limit:g} A); the EMS keeps both, so the parent's "
                            "rating is what the board gets", path=cpath, limit=child.limit_a,
                            parent=node.id, parent_limit=node.limit_a))
                    stack.append((child, cpath))
        return out

    def charge_points(self) -> list[ChargePointConfig]:
        """Every charge point of every site, by id."""
        return sorted((cp for site in self.sites for cp in site.charge_points()),
                      key=lambda cp: cp.id)


def _unique(items: list[tuple[str, str]]) -> set[str]:
    seen: set[str] = set()
    for path, ident in items:
        if ident in seen:
            raise FieldError(join_path(path, "id"), Text("id {ident!r} is used twice", ident=ident))
        seen.add(ident)
    return seen


def _walk(
    node: NodeConfig,
    path: str,
    node_ids: list[tuple[str, str]],
    cp_ids: list[tuple[str, str]],
    meter_ids: set[str],
) -> None:
    node_ids.append((path, node.id))
    if node.meter is not None and node.meter not in meter_ids:
        raise FieldError(join_path(path, "meter"), Text("no meter with id {meter!r} in meters",
                                                               meter=node.meter))
    for j, cp in enumerate(node.charge_points):
        cp_ids.append((join_path(join_path(path, "charge_points"), j), cp.id))
    for j, child in enumerate(node.children):
        _walk(child, join_path(join_path(path, "children"), j), node_ids, cp_ids, meter_ids)


def _check_devices(config: HubConfig, nodes: set[str]) -> None:
    """Devices, inputs and outputs name nodes and I/O modules that exist."""
    devices = {d.id: d for d in config.devices}
    _unique([(join_path("meters", i), m.id) for i, m in enumerate(config.meters)]
            + [(join_path("devices", i), d.id) for i, d in enumerate(config.devices)])
    for i, dev in enumerate(config.devices):
        if dev.node is not None and dev.node not in nodes:
            raise FieldError(join_path(join_path("devices", i), "node"),
                             Text("no node {node!r} in the site tree", node=dev.node))
    _check_contacts("inputs", [(x.id, x.device, x.node) for x in config.inputs], devices, nodes)
    _check_contacts("outputs", [(x.id, x.device, x.node) for x in config.outputs], devices,
                    nodes)


def _check_contacts(section: str, items: list[tuple[str, str, str | None]],
                    devices: dict[str, DeviceConfig], nodes: set[str]) -> None:
    _unique([(join_path(section, i), x[0]) for i, x in enumerate(items)])
    for i, (_, device, node) in enumerate(items):
        path = join_path(section, i)
        if device not in devices or devices[device].role != "io":
            raise FieldError(join_path(path, "device"),
                             Text("no I/O device {device!r} in devices (role: io)",
                                  device=device))
        if node is not None and node not in nodes:
            raise FieldError(join_path(path, "node"), Text("no node {node!r}", node=node))
