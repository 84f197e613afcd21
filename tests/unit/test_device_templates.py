"""Device templates: decoding registers, and errors that name the key path."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from hub_engine.devices.template import Value, decode, load_template
from hub_engine.errors import ConfigError


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


_FMT = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "float32": "f",
        "int64": "q", "uint64": "Q", "float64": "d"}


def _encode(value: Value, x: float) -> list[int]:
    raw = x / value.scale
    number: float | int = raw if value.type.startswith("float") else round(raw)
    words = list(struct.unpack(f">{value.size}H", struct.pack(">" + _FMT[value.type], number)))
    return words[::-1] if value.word_order == "little" else words


SHIPPED = sorted(p.stem for p in (Path(__file__).parents[2] / "hub_engine" / "devices"
                                  / "templates").glob("*.yaml"))


@pytest.mark.parametrize("name", SHIPPED)
def test_every_shipped_template_reads_back_what_a_meter_would_send(name: str) -> None:
    """Each shipped map, fed registers encoded as that meter encodes them, gives back
    the currents, the signed powers and the energy in the units its names carry."""
    t = load_template(name)
    assert t.current_a is not None and t.power_w is not None
    cases = [(t.current_a, (16.25, 8.5, 0.75)), (t.power_w, (3680.0, -1150.0, 0.0))]
    if t.energy_import_wh is not None:
        cases.append((t.energy_import_wh, (1_234_500.0,)))
    for value, expect in cases:
        for address, x in zip(value.addresses, expect, strict=True):
            regs = _encode(value, x)
            assert decode(value, regs) == pytest.approx(x, abs=value.scale), (name, address)
    assert len(SHIPPED) >= 9
