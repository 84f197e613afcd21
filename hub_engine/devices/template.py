"""Device templates: register maps in YAML, validated, errors naming the key path.

Addresses are **0-based wire addresses** (what goes in the Modbus frame). Datasheets
that number registers from 1 ("30001", "40001" or "register 3060") must be converted
by the template's author: 30001 → 0, register 3060 → 3059. A value is one register
address (a total) or three (per phase L1, L2, L3); ``type`` says how many registers
each takes. The number read is turned into the unit its name carries (``power_w`` in W,
``current_a`` in A, ``energy_import_wh`` in Wh, ``soc_pct`` in %) by ``unit`` (the
unit the device sends: ``kW``, ``mA``, ``kWh``…), ``scale`` (a fixed factor: 0.01 for
hundredths) and ``scale_factor`` (the address of an int16 register holding a power of
ten, as SunSpec does); ``invert`` flips a sign convention; ``invalid`` lists raw values
that mean "not available" (a read error, never a zero).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, fields
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from hub_engine.errors import ConfigError, ReadError
from hub_engine.i18n import Text
from hub_engine.typed import FieldError, build

__all__ = [
    "QUANTITIES",
    "TEMPLATES_DIR",
    "Template",
    "Value",
    "decode",
    "encode",
    "load_template",
]

TEMPLATES_DIR = Path(str(resources.files("hub_engine.devices") / "templates"))
ValueType = Literal["int16", "uint16", "int32", "uint32", "float32", "int64", "uint64",
                    "float64"]
Kind = Literal["meter", "inverter", "battery", "generator"]
Function = Literal["input", "holding"]
_FORMAT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f",
           "int64": "q", "uint64": "Q", "float64": "d"}
# The units a device may send for each quantity, and their factor to the quantity's unit.
_UNITS = {
    "current_a": {"A": 1.0, "mA": 0.001},
    "power_w": {"W": 1.0, "kW": 1000.0},
    "setpoint_w": {"W": 1.0, "kW": 1000.0},
    "voltage_v": {"V": 1.0, "mV": 0.001},
    "energy_import_wh": {"Wh": 1.0, "kWh": 1000.0},
    "energy_export_wh": {"Wh": 1.0, "kWh": 1000.0},
    "soc_pct": {"%": 1.0},
    "running": {"": 1.0},
}
QUANTITIES = tuple(_UNITS)


@dataclass(frozen=True)
class Value:
    address: int | tuple[int, ...]
    type: ValueType = "float32"
    scale: float = 1.0
    unit: str = ""  # the unit the device sends; "" = already the quantity's own unit
    word_order: Literal["big", "little"] = "big"  # little: least significant word first
    byte_order: Literal["big", "little"] = "big"  # little: bytes swapped in each register
    scale_factor: int | None = None  # address of an int16 power-of-ten register (SunSpec)
    invert: bool = False
    invalid: tuple[int, ...] = ()  # raw values meaning "not available"
    function: Function | None = None  # overrides the template's register table

    @property
    def addresses(self) -> tuple[int, ...]:
        return self.address if isinstance(self.address, tuple) else (self.address,)

    @property
    def size(self) -> int:
        return struct.calcsize(">" + _FORMAT[self.type]) // 2

    def __post_init__(self) -> None:
        if len(self.addresses) not in (1, 3):
            raise FieldError("address", Text("one address, or three (L1, L2, L3)"))
        every = (*self.addresses, *([self.scale_factor] if self.scale_factor is not None
                                    else []))
        if not all(0 <= a <= 0xFFFF for a in every):
            raise FieldError("address", Text(
                "0-based wire addresses 0..65535 (see docs/devices.md)"))


@dataclass(frozen=True)
class Template:
    name: str
    kind: Kind = "meter"
    function: Function = "input"  # FC4 or FC3
    current_a: Value | None = None
    power_w: Value | None = None
    voltage_v: Value | None = None
    energy_import_wh: Value | None = None
    energy_export_wh: Value | None = None
    soc_pct: Value | None = None
    setpoint_w: Value | None = None  # written (FC16) to a battery: + charge, − discharge
    running: Value | None = None  # a generator's status: non-zero = running

    def values(self) -> dict[str, Value]:
        """The quantities this template reads (the setpoint is written, not read)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name in _UNITS and f.name != "setpoint_w"
                and getattr(self, f.name) is not None}

    def function_of(self, value: Value) -> Function:
        return value.function or self.function

    def __post_init__(self) -> None:
        for name in QUANTITIES:
            value: Value | None = getattr(self, name)
            if value is not None and value.unit not in (_UNITS[name] | {"": 1.0}):
                raise FieldError(f"{name}.unit", Text("got {unit!r}, expected one of: {units}",
                                      unit=value.unit, units=", ".join(_UNITS[name])))
        needs = {"meter": ("current_a",), "inverter": ("power_w",),
                 "battery": ("soc_pct", "power_w"), "generator": ("running",)}[self.kind]
        for name in needs:
            if getattr(self, name) is None:
                raise FieldError(name, Text("a {kind} template needs {name}",
                                                 kind=self.kind, name=name))
        if self.kind == "meter":
            assert self.current_a is not None
            if len(self.current_a.addresses) != 3:
                raise FieldError("current_a", Text(
                    "a meter template needs the three phase currents"))
        if self.setpoint_w is not None:
            if self.kind != "battery":
                raise FieldError("setpoint_w", Text("only a battery takes a power setpoint"))
            if self.function_of(self.setpoint_w) != "holding":
                raise FieldError("setpoint_w.function", Text("a setpoint is a holding register"))


def _words(value: Value, registers: list[int]) -> bytes:
    words = list(registers[: value.size])
    if value.word_order == "little":
        words.reverse()
    raw = struct.pack(f">{len(words)}H", *words)
    if value.byte_order == "little":
        raw = b"".join(raw[i:i + 2][::-1] for i in range(0, len(raw), 2))
    return raw


def _factor(name: str, value: Value) -> float:
    return value.scale * _UNITS.get(name, {}).get(value.unit, 1.0) * (-1 if value.invert else 1)


def decode(value: Value, registers: list[int], name: str = "", power10: int = 0) -> float:
    """One number from its registers (``value.size`` of them), in the unit of ``name``.

    ``power10`` is the scale-factor register's content when the value has one. Raises
    :class:`ReadError` for a raw value the template lists as "not available".
    """
    raw = _words(value, registers)
    (number,) = struct.unpack(">" + _FORMAT[value.type], raw)
    if value.invalid and int.from_bytes(raw, "big") in value.invalid:
        raise ReadError(f"{name or 'value'}: the device says not available")
    if number != number:  # a float NaN is a device's "not available" too
        raise ReadError(f"{name or 'value'}: the device sent NaN")
    return float(number) * _factor(name, value) * 10.0 ** power10


def encode(value: Value, x: float, name: str = "") -> list[int]:
    """The registers a device following this template sends for ``x`` (the simulator's
    side; tests of the shipped templates use hand-encoded dumps instead)."""
    raw = x / _factor(name, value)
    number: float | int = raw if value.type.startswith("float") else round(raw)
    data = struct.pack(">" + _FORMAT[value.type], number)
    if value.byte_order == "little":
        data = b"".join(data[i:i + 2][::-1] for i in range(0, len(data), 2))
    words = list(struct.unpack(f">{value.size}H", data))
    return words[::-1] if value.word_order == "little" else words


def load_template(name_or_path: str) -> Template:
    """A shipped template by name (``sdm630``) or a user template by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = TEMPLATES_DIR / f"{name_or_path}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml")))
        raise ConfigError("template", Text("no template {name!r} (shipped: {known})",
                                                name=name_or_path, known=known),
                          source=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError("", Text("not valid YAML: {error}", error=exc),
                          source=str(path)) from None
    except RecursionError:
        raise ConfigError("", Text("nested too deep"), source=str(path)) from None
    try:
        template: Template = build(Template, data)
    except ConfigError as exc:
        raise ConfigError(exc.path, exc.message, source=str(path)) from None
    return template
