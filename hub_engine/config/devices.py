"""The configuration of field devices: meters, other devices with a role, dry contacts.

``meters`` are named by the nodes they measure (``meter: tgbt``). ``devices`` are the
other devices, each bound to a node with a role (``pv``, ``battery``, ``generator``) or
an I/O module (``io``) whose contacts ``inputs`` and ``outputs`` use. Driver options are
checked by the driver (:mod:`hub_engine.devices.build`), with the same key paths.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["DeviceConfig", "InputConfig", "MeterConfig", "OutputConfig"]

# What each input function means when active, and its safe state: the one a broken
# wire or a lost module gives (normally-closed polarity makes a cut wire read "open").
INPUT_FUNCTIONS = ("load_shedding", "generator", "off_peak", "fire_alarm")


@dataclass(frozen=True)
class MeterConfig:
    id: str
    driver: Literal["simulated", "static", "modbus", "tic"] = "simulated"
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DeviceConfig:
    id: str
    role: Literal["pv", "battery", "generator", "io"]
    driver: Literal["modbus", "sunspec"] = "modbus"
    node: str | None = None  # the node it belongs to (pv, battery, generator)
    options: dict[str, Any] = field(default_factory=dict)
    limit_a: float | None = None  # generator: the node's limit while it runs
    # battery: charged with the solar surplus no car takes, up to this (None: only read)
    max_charge_w: float | None = None
    max_soc_pct: float = 95.0  # battery: no charging above
    # battery: discharged to cover the cars' draw up to this (None: never discharged)
    max_discharge_w: float | None = None
    min_soc_pct: float = 20.0  # battery: no discharging below
    # battery: on three phases, balanced, or on one (which one is not known: its discharge
    # is then counted on each, the safe side)
    phases: Literal[1, 3] = 3

    def __post_init__(self) -> None:
        if self.role != "io" and self.node is None:
            raise FieldError("node", Text("a {role} device belongs to a node of the tree",
                                           role=self.role))
        if self.role == "generator" and self.limit_a is None:
            raise FieldError("limit_a", Text("the node's limit while the generator runs"))
        if self.max_charge_w is not None and (self.role != "battery" or self.max_charge_w <= 0):
            raise FieldError("max_charge_w", Text(
                "a battery's charging power in W (> 0); only for role battery"))
        if self.max_discharge_w is not None and (
                self.max_charge_w is None or self.max_discharge_w <= 0):
            raise FieldError("max_discharge_w", Text(
                "a battery's discharging power in W (> 0), with its max_charge_w"))
        if not 0 <= self.min_soc_pct < self.max_soc_pct:
            raise FieldError("min_soc_pct", Text("got {value!r}, expected 0 % to below "
                                                 "max_soc_pct", value=self.min_soc_pct))
        if not 0 < self.max_soc_pct <= 100:
            raise FieldError("max_soc_pct", Text("got {value!r}, expected 0 to 100 %",
                                                 value=self.max_soc_pct))
        if self.driver == "sunspec" and self.role != "pv":
            raise FieldError("driver", Text("sunspec discovery is for inverters (role pv)"))


@dataclass(frozen=True)
class InputConfig:
    """A dry contact on an I/O module. Polarity ``nc`` (normally closed, the default):
    the function is active when the contact opens, so a cut wire is the active state."""

    id: str
    device: str
    address: int
    function: Literal["load_shedding", "generator", "off_peak", "fire_alarm"]
    table: Literal["discrete", "coil"] = "discrete"
    polarity: Literal["nc", "no"] = "nc"
    node: str | None = None  # load_shedding, generator: the node limited
    limit_a: float | None = None  # per phase, while active

    def __post_init__(self) -> None:
        if not 0 <= self.address <= 0xFFFF:
            raise FieldError("address", Text("0-based wire address 0..65535"))
        if self.function in ("load_shedding", "generator"):
            if self.node is None or self.limit_a is None:
                raise FieldError("limit_a", Text(
                    "a {function} input limits a node: give node and limit_a",
                    function=self.function))
            if self.limit_a < 0:
                raise FieldError("limit_a", Text("must be ≥ 0"))


@dataclass(frozen=True)
class OutputConfig:
    """A coil driving a group contactor: closed (coil on) while charging may go on under
    the node; opened when nothing under it may charge, or on a fire alarm."""

    id: str
    device: str
    coil: int
    node: str

    def __post_init__(self) -> None:
        if not 0 <= self.coil <= 0xFFFF:
            raise FieldError("coil", Text("0-based wire address 0..65535"))
