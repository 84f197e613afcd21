"""Device templates: register maps in YAML, validated, errors naming the key path.

Addresses are **0-based wire addresses** (what goes in the Modbus frame). Datasheets
that number registers from 1 ("30001", "40001" or "register 3060") must be converted
by the template's author: 30001 → 0, register 3060 → 3059. A value is one register
address (a total) or three (per phase L1, L2, L3); ``type`` says how many registers
each takes; ``scale`` multiplies the raw number into the unit its name carries
(``power_w`` in W, ``current_a`` in A, ``energy_import_wh`` in Wh).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Literal

import yaml

from hub_engine.errors import ConfigError
from hub_engine.typed import FieldError, build

__all__ = ["TEMPLATES_DIR", "Template", "Value", "decode", "load_template"]

TEMPLATES_DIR = Path(str(resources.files("hub_engine.devices") / "templates"))
ValueType = Literal["int16", "uint16", "int32", "uint32", "float32", "int64", "uint64",
                    "float64"]
_FORMAT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f",
           "int64": "q", "uint64": "Q", "float64": "d"}


@dataclass(frozen=True)
class Value:
    address: int | tuple[int, ...]
    type: ValueType = "float32"
    scale: float = 1.0
    word_order: Literal["big", "little"] = "big"  # little: least significant word first

    @property
    def addresses(self) -> tuple[int, ...]:
        return self.address if isinstance(self.address, tuple) else (self.address,)

    @property
    def size(self) -> int:
        return struct.calcsize(">" + _FORMAT[self.type]) // 2

    def __post_init__(self) -> None:
        if len(self.addresses) not in (1, 3):
            raise FieldError("address", "one address, or three (L1, L2, L3)")
        if not all(0 <= a <= 0xFFFF for a in self.addresses):
            raise FieldError("address", "0-based wire addresses 0..65535 (see docs/devices.md)")


@dataclass(frozen=True)
class Template:
    name: str
    function: Literal["input", "holding"] = "input"  # FC4 or FC3
    current_a: Value | None = None
    power_w: Value | None = None
    voltage_v: Value | None = None
    energy_import_wh: Value | None = None
    energy_export_wh: Value | None = None

    def __post_init__(self) -> None:
        if self.current_a is None or len(self.current_a.addresses) != 3:
            raise FieldError("current_a", "a meter template needs the three phase currents")
        if self.power_w is not None and len(self.power_w.addresses) != 3:
            raise FieldError("power_w", "per-phase power (three addresses) gives the sign")


def decode(value: Value, registers: list[int]) -> float:
    """One number from its registers (``value.size`` of them), scaled."""
    words = list(registers[: value.size])
    if value.word_order == "little":
        words.reverse()
    raw = struct.pack(f">{len(words)}H", *words)
    (number,) = struct.unpack(">" + _FORMAT[value.type], raw)
    return float(number) * value.scale


def load_template(name_or_path: str) -> Template:
    """A shipped template by name (``sdm630``) or a user template by path."""
    path = Path(name_or_path)
    if not path.suffix:
        path = TEMPLATES_DIR / f"{name_or_path}.yaml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        known = ", ".join(sorted(p.stem for p in TEMPLATES_DIR.glob("*.yaml")))
        raise ConfigError("template", f"no template {name_or_path!r} (shipped: {known})",
                          source=str(path)) from None
    except yaml.YAMLError as exc:
        raise ConfigError("", f"not valid YAML: {exc}", source=str(path)) from None
    try:
        template: Template = build(Template, data)
    except ConfigError as exc:
        raise ConfigError(exc.path, exc.message, source=str(path)) from None
    return template
