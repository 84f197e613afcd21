"""SunSpec inverters over real Modbus TCP: the model chain is found at its base address
(40000, else 0 or 50000), model 1 names the device, and the power comes from model 103
(integers with scale-factor registers) or 113 (float32). The register dumps below are
written by hand from the SunSpec model definitions (reference/FORMATS.md §4.1)."""

from __future__ import annotations

import pytest

from hub_engine.clock import SystemClock
from hub_engine.devices.modbus import LinkOptions, ModbusLink
from hub_engine.devices.poller import DeviceOptions, ModbusDevice
from hub_engine.devices.sunspec import discover
from hub_engine.errors import ReadError
from hub_engine.sim.modbus_server import RegisterServer
from tests.conftest import free_port


def _string(text: str, words: int) -> list[int]:
    raw = text.encode("ascii").ljust(2 * words, b"\x00")
    return [int.from_bytes(raw[i:i + 2], "big") for i in range(0, 2 * words, 2)]


def _common(length: int) -> list[int]:
    """Model 1: ID, L, Mn, Md, Opt, Vr, SN, DA (and Pad when L = 66)."""
    body = (_string("Fronius", 16) + _string("Symo 10.0-3-M", 16) + _string("", 8)
            + _string("1.2", 8) + _string("31234567", 16) + [1])
    return [1, length, *body, *([0] if length == 66 else [])]


def _model_103(w_raw: int) -> list[int]:
    body = [0] * 50
    body[1:5] = [725, 720, 715, 0xFFFE]  # AphA/B/C (S+3..5) in 0.01 A: A_SF (S+6) = −2
    body[12], body[13] = w_raw, 1  # W (S+14) and W_SF (S+15) = 1: × 10
    body[22:25] = [0x0012, 0xD687, 0]  # WH acc32 (S+24) = 1,234,567 Wh, WH_SF = 0
    return [103, 50, *body]


def _model_113() -> list[int]:
    body = [0] * 60
    body[2:8] = [0x40E8, 0, 0x40E8, 0, 0x40E8, 0]  # AphA/B/C (S+4..9) float32 7.25 A
    body[20:22] = [0x459C, 0x4000]  # W (S+22) float32 5000.0
    body[30:32] = [0x4996, 0xB4E0]  # WH (S+32) float32 1,234,588.0
    return [113, 60, *body]


def _dump(base: int, *models: list[int]) -> dict[int, int]:
    words = [0x5375, 0x6E53] + [w for m in models for w in m] + [0xFFFF, 0]
    return {base + k: w for k, w in enumerate(words)}


CASES = {
    "int model 103 at 40000, common model without Pad": (
        _dump(40000, _common(65), _model_103(500)), 5000.0, (7.25, 7.20, 7.15), 1_234_567.0),
    "float model 113 at 50000, common model with Pad": (
        _dump(50000, _common(66), _model_113()), 5000.0, (7.25, 7.25, 7.25), 1_234_588.0),
}


async def _read(dump: dict[int, int]) -> ModbusDevice:
    port = free_port()
    server = RegisterServer(lambda unit: {"holding": dump}, port=port,
                            span={"holding": {0: 0, 0xFFFF: 0}})
    await server.start()
    clock = SystemClock()
    device = ModbusDevice("pv", DeviceOptions(host="127.0.0.1", port=port), None,
                          ModbusLink(LinkOptions(host="127.0.0.1", port=port), 1.0, clock),
                          clock, discover=discover)
    try:
        await device.poll()
    finally:
        await server.stop()
        device.link.close()
    return device


@pytest.mark.parametrize("case", sorted(CASES))
async def test_sunspec_discovery_reads_the_inverter(case: str) -> None:
    dump, power_w, current_a, energy_wh = CASES[case]
    device = await _read(dump)
    assert device.template is not None
    assert device.template.name == "SunSpec Fronius Symo 10.0-3-M"
    assert device.value("power_w") == pytest.approx((power_w,))
    assert device.value("current_a") == pytest.approx(current_a)
    assert device.value("energy_export_wh") == pytest.approx((energy_wh,))


async def test_a_power_the_inverter_does_not_implement_is_unknown_not_zero() -> None:
    device = await _read(_dump(40000, _common(65), _model_103(0x8000)))
    with pytest.raises(ReadError, match="not available"):
        device.value("power_w")
    assert device.value("current_a") == pytest.approx((7.25, 7.20, 7.15))  # the rest stands
