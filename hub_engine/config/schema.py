"""The configuration model: frozen dataclasses that ``hub.yaml`` is parsed into.

Units are in the names (``limit_a`` is amps per phase, ``limit_w`` watts). Defaults are
the values a typical site needs; see ``docs/configuration.md`` for every key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub_engine.config.cpo import CpoConfig, check_cpo_url
from hub_engine.config.devices import DeviceConfig, InputConfig, MeterConfig, OutputConfig
from hub_engine.config.maintenance import MaintenanceConfig
from hub_engine.config.notify import AlertsConfig, MailConfig, ReportsConfig
from hub_engine.config.pv import PvConfig
from hub_engine.config.sections import (
    AccessConfig,
    BusConfig,
    EmsConfig,
    GeneralConfig,
    HttpConfig,
    OcppConfig,
    OpsConfig,
    SimulationConfig,
    StoreConfig,
    positive,
)
from hub_engine.config.signals import SignalsConfig, SiteSignals
from hub_engine.config.solar import SolarConfig, SolarMode
from hub_engine.config.subscription import SubscriptionConfig
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
    # Its sessions' solar mode when their badge sets none: "site" follows the site's.
    solar: SolarMode | Literal["site"] = "site"
    # Switching a car between three phases and one (OCPP numberPhases) for solar
    # charging: None as the charge point says (ConnectorSwitch3to1PhaseSupported).
    phase_switching: bool | None = None
    # "cpo": relayed to its site's CPO backend (site.cpo), under its own id, with the
    # hub still managing its power (docs/cpo.md); "local": the hub is its backend.
    mode: Literal["local", "cpo"] = "local"
    cpo_url: str | None = None  # its own CPO address (else the site's cpo.url + its id)
    cpo_password: str | None = None  # Basic Auth towards the CPO (security profile 1, 2)
    # Security profile 3 towards the CPO: this charge point's client certificate, held
    # by the hub (PEM files).
    cpo_client_cert_file: str | None = None
    cpo_client_key_file: str | None = None

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
        positive("max_current_a", self.max_current_a)
        positive("max_power_w", self.max_power_w)
        positive("weight", self.weight)
        if self.dc and self.max_power_w is None:
            raise FieldError("max_power_w", Text("a DC charge point needs max_power_w"))
        if self.phase_switching and (self.dc or self.phases != 3 or self.control != "A"):
            raise FieldError("phase_switching", Text(
                "only a three-phase AC charge point limited in A switches phases"))
        if self.cpo_url is not None:
            check_cpo_url("cpo_url", self.cpo_url)
        if self.cpo_password is not None and not 1 <= len(self.cpo_password) <= 255:
            raise FieldError("cpo_password", Text("expected 1 to 255 characters"))
        if (self.cpo_client_cert_file is None) != (self.cpo_client_key_file is None):
            raise FieldError("cpo_client_key_file", Text(
                "cpo_client_cert_file and cpo_client_key_file go together"))
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
            positive(name, getattr(self, name))
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
    solar: SolarConfig = SolarConfig()
    pv: PvConfig | None = None  # its panels and their forecast (docs/solar.md)
    # C4: the subscribed power per TURPE period, held as a 10-minute mean (docs/ems.md).
    subscription: SubscriptionConfig | None = None
    signals: SiteSignals = SiteSignals()  # which grid signals it follows, its own limits
    cpo: CpoConfig | None = None  # the CPO backend its mode: cpo charge points relay to

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
        positive("voltage_v", self.voltage_v)
        for cp in self.charge_points():
            if cp.mode != "cpo":
                continue
            if self.cpo is None:
                raise FieldError("cpo", Text(
                    "charge point {cp} has mode cpo: the site needs a cpo section",
                    cp=cp.id))
            if cp.cpo_url is None and self.cpo.url is None:
                raise FieldError("cpo.url", Text(
                    "charge point {cp} has mode cpo but no cpo_url, and the site's cpo "
                    "section gives no url", cp=cp.id))
        if self.grid.limit_a is None and self.grid.limit_va is None and self.grid.limit_w is None:
            raise FieldError("grid", Text("the grid connection needs limit_a, limit_va or limit_w"))
        if self.grid.meter is None:
            if self.subscription is not None:  # its mean is read there
                raise FieldError("subscription", Text(
                    "a subscription needs a meter on the grid connection (grid.meter)"))
            # The export is read on the grid connection: without a meter, no solar mode.
            if self.solar.mode != "off":
                raise FieldError("solar.mode", Text(
                    "{mode!r} needs a meter on the grid connection (grid.meter) to see "
                    "the export", mode=self.solar.mode))
            for cp in self.charge_points():
                if cp.solar not in ("site", "off"):
                    raise FieldError("solar.mode", Text(
                        "charge point {cp}: solar {mode!r} needs a meter on the grid "
                        "connection (grid.meter) to see the export", cp=cp.id, mode=cp.solar))


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
    signals: SignalsConfig = SignalsConfig()
    meters: tuple[MeterConfig, ...] = ()
    devices: tuple[DeviceConfig, ...] = ()
    inputs: tuple[InputConfig, ...] = ()
    outputs: tuple[OutputConfig, ...] = ()
    simulation: SimulationConfig | None = None
    maintenance: MaintenanceConfig = MaintenanceConfig()

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
        them): a board rated above its parent (the parent's rating is what counts); a
        charge point above 25 kW on a site that follows the ZNI signal (Advenir)."""
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
            if self.signals.zni is not None:  # Advenir ZNI: points up to 25 kW only
                for cp in site.charge_points():
                    power_w = cp.max_power_w or cp.max_current_a * cp.phases * site.voltage_v
                    if power_w > 25_000:
                        out.append(Text(
                            "charge point {cp}: {kw:g} kW is above the 25 kW of Advenir ZNI "
                            "(not eligible)", cp=cp.id, kw=round(power_w / 1000, 1)))
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
