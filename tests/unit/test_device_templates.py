"""Device templates: decoding registers, and errors that name the key path."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hub_engine.devices.template import Value, decode, load_template
from hub_engine.errors import ConfigError, ReadError


def _words(fmt: str, value: float) -> list[int]:
    raw = struct.pack(">" + fmt, value)
    return list(struct.unpack(f">{len(raw) // 2}H", raw))


@pytest.mark.parametrize(("value", "registers", "expect"), [
    (Value(0, "float32"), _words("f", 230.5), 230.5),
    (Value(0, "float32"), [0x4366, 0x0000], 230.0),  # reference/FORMATS.md fixture
    (Value(0, "int32", word_order="little", scale=0.1), [0x3039, 0x0000], 1234.5),  # EM24
    (Value(0, "uint32", scale=0.001), _words("I", 16250), 16.25),  # mA → A
    (Value(0, "int16"), [0xFFFE], -2.0),
    (Value(0, "int64", scale=0.001), _words("q", 123_456_789), 123_456.789),  # Wh → kWh
    (Value(0, "float64"), _words("d", -3500.25), -3500.25),
])
def test_decode(value: Value, registers: list[int], expect: float) -> None:
    assert decode(value, registers) == pytest.approx(expect)


def test_the_shipped_sdm630_template_matches_the_reference_map() -> None:
    t = load_template("sdm630")
    assert t.function == "input" and t.current_a is not None and t.power_w is not None
    assert t.current_a.addresses == (6, 8, 10) and t.power_w.addresses == (12, 14, 16)


@pytest.mark.parametrize(("text", "path"), [
    ("name: x\nfunction: input\n", "current_a"),
    ("name: x\ncurrent_a: {address: [1, 2], type: float32}\n", "current_a.address"),
    ("name: x\ncurrent_a: {address: [0, 2, 4], type: float33}\n", "current_a.type"),
    ("name: x\ncurrent_a: {address: [0, 2, 4]}\nspeed: 3\n", "speed"),
])
def test_a_bad_template_names_its_key(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "meter.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_template(str(f))
    assert err.value.path == path and str(f) in str(err.value)


def test_an_unknown_template_lists_the_shipped_ones() -> None:
    with pytest.raises(ConfigError, match="sdm630"):
        load_template("no-such-meter")


@pytest.mark.parametrize(("value", "name", "registers", "power10", "expect"), [
    (Value(0, "float32", unit="kW"), "power_w", [0x406B, 0x851F], 0, 3680.0),
    (Value(0, "uint32", unit="mA"), "current_a", [0x0000, 0x3F7A], 0, 16.25),
    (Value(0, "int16", invert=True), "power_w", [0x01F4], 0, -500.0),
    (Value(0, "int16"), "power_w", [0x01F4], 1, 5000.0),  # SunSpec W × 10^W_SF
    (Value(0, "uint16"), "current_a", [0x02D5], -2, 7.25),
    (Value(0, "uint16", byte_order="little"), "current_a", [0x0A00], 0, 10.0),
    (Value(0, "uint32", unit="kWh"), "energy_import_wh", [0x0000, 0x04D2], 0, 1_234_000.0),
])
def test_decode_units_scale_factors_and_orders(value: Value, name: str, registers: list[int],
                                               power10: int, expect: float) -> None:
    assert decode(value, registers, name, power10) == pytest.approx(expect)


@pytest.mark.parametrize(("value", "registers"), [
    (Value(0, "int16", invalid=(0x8000,)), [0x8000]),  # SunSpec "not implemented"
    (Value(0, "uint32", invalid=(0xFFFFFFFF,)), [0xFFFF, 0xFFFF]),  # ABB "invalid"
    (Value(0, "float32"), [0x7FC0, 0x0000]),  # NaN
])
def test_a_not_available_value_is_an_error_never_a_zero(value: Value,
                                                        registers: list[int]) -> None:
    with pytest.raises(ReadError, match=r"not available|NaN"):
        decode(value, registers, "power_w")


@pytest.mark.parametrize(("text", "path"), [
    ("name: x\ncurrent_a: {address: [0, 2, 4], unit: kW}\n", "current_a.unit"),
    ("name: x\nkind: battery\npower_w: {address: 0}\n", "soc_pct"),
    ("name: x\nkind: inverter\ncurrent_a: {address: 0}\n", "power_w"),
    ("name: x\nkind: generator\n", "running"),
    ("name: x\ncurrent_a: {address: [0, 2, 4]}\nsetpoint_w: {address: 9}\n", "setpoint_w"),
    ("name: x\nkind: battery\nfunction: input\nsoc_pct: {address: 0}\n"
     "power_w: {address: 2}\nsetpoint_w: {address: 9}\n", "setpoint_w.function"),
])
def test_template_kinds_and_units_are_checked(tmp_path: Path, text: str, path: str) -> None:
    f = tmp_path / "device.yaml"
    f.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_template(str(f))
    assert err.value.path == path
