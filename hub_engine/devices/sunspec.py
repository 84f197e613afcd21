"""SunSpec inverters: find the model chain, then read them as an ordinary template.

SunSpec devices (Fronius, SMA, SolarEdge, Huawei…) describe themselves: the holding
registers at a base address (40000, else 0 or 50000, 0-based) hold "SunS", then models
follow as ``ID, L, body[L]`` up to ``ID = 0xFFFF``. Model 1 names the device; the
inverter model gives the power: 101/102/103 (integers with scale-factor registers) or
111/112/113 (float32). Offsets are from the model's ID register (reference/FORMATS.md
§4.1); many inverters shorten model 1 to L = 65, so positions are never assumed.
"""

from __future__ import annotations

from dataclasses import dataclass

from hub_engine.devices.modbus import ModbusLink
from hub_engine.devices.template import Template, Value
from hub_engine.errors import ReadError

__all__ = ["BASES", "SunSpecInfo", "discover"]

BASES = (40000, 0, 50000)
SUNS = (0x5375, 0x6E53)
_INT_MODELS = (101, 102, 103)
_FLOAT_MODELS = (111, 112, 113)


@dataclass(frozen=True)
class SunSpecInfo:
    base: int
    models: tuple[tuple[int, int, int], ...]  # (model id, address of its ID register, L)
    manufacturer: str = ""
    model: str = ""
    serial: str = ""


def _text(words: list[int]) -> str:
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    return raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip()


async def _chain(link: ModbusLink, unit: int) -> SunSpecInfo:
    for base in BASES:
        try:
            marker = await link.read_registers("holding", base, 2, unit)
        except ReadError:
            continue
        if tuple(marker) != SUNS:
            continue
        models: list[tuple[int, int, int]] = []
        address = base + 2
        for _ in range(64):  # a chain longer than that is a broken device
            model_id, length = await link.read_registers("holding", address, 2, unit)
            if model_id == 0xFFFF:
                break
            models.append((model_id, address, length))
            address += 2 + length
        info = SunSpecInfo(base=base, models=tuple(models))
        common = next((m for m in models if m[0] == 1), None)
        if common is not None and common[2] >= 64:
            body = await link.read_registers("holding", common[1] + 2, 64, unit)
            info = SunSpecInfo(base, tuple(models), _text(body[0:16]), _text(body[16:32]),
                               _text(body[48:64]))
        return info
    raise ReadError(f"no SunSpec marker at {', '.join(map(str, BASES))}")


def inverter_template(info: SunSpecInfo) -> Template:
    """The inverter model's power, currents and energy as a template (holding registers)."""
    name = f"SunSpec {info.manufacturer} {info.model}".strip()
    for model_id, s, _ in info.models:
        if model_id in _INT_MODELS:
            currents = (s + 3, s + 4, s + 5) if model_id == 103 else s + 3
            return Template(
                name=name, kind="inverter", function="holding",
                power_w=Value(s + 14, "int16", scale_factor=s + 15, invalid=(0x8000,)),
                current_a=Value(currents, "uint16", scale_factor=s + 6, invalid=(0xFFFF,)),
                energy_export_wh=Value(s + 24, "uint32", scale_factor=s + 26))
        if model_id in _FLOAT_MODELS:
            currents = (s + 4, s + 6, s + 8) if model_id == 113 else s + 4
            return Template(name=name, kind="inverter", function="holding",
                            power_w=Value(s + 22, "float32"),
                            current_a=Value(currents, "float32"),
                            energy_export_wh=Value(s + 32, "float32"))
    found = ", ".join(str(m[0]) for m in info.models) or "none"
    raise ReadError(f"SunSpec device without an inverter model (101-103, 111-113); "
                    f"models: {found}")


async def discover(link: ModbusLink, unit: int) -> Template:
    """Walk the device's model chain and build its inverter template."""
    return inverter_template(await _chain(link, unit))
