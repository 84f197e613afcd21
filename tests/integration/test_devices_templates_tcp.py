"""Every shipped meter template read over real Modbus TCP from a **hand-encoded register
dump**: the words a meter of that model sends for L1/L2/L3 = 16.25/8.5/0.75 A, per-phase
power +3680/−1150/0 W (where the model has it) and 1,234.5 kWh imported, written out from
the datasheet encodings (float32 5000.0 W = 0x459C 0x4000), not produced by the template
code under test."""

from __future__ import annotations

import pytest

from hub_engine.clock import SystemClock
from hub_engine.devices.modbus import LinkOptions, ModbusLink
from hub_engine.devices.poller import DeviceOptions, ModbusDevice
from hub_engine.devices.template import load_template
from hub_engine.sim.modbus_server import RegisterServer
from tests.conftest import free_port

F_16_25, F_8_5, F_0_75 = [0x4182, 0x0000], [0x4108, 0x0000], [0x3F40, 0x0000]
F_3680, F_M1150, F_0 = [0x4566, 0x0000], [0xC48F, 0xC000], [0x0000, 0x0000]


def _at(start: int, *words: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for chunk in words:
        for w in chunk:
            out[start + len(out)] = w
    return out


def _gap(start: int, stride: int, *values: list[int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for k, words in enumerate(values):
        out.update({start + k * stride + j: w for j, w in enumerate(words)})
    return out


IEM = {"holding": {**_gap(0x0BB7, 2, F_16_25, F_8_5, F_0_75),
                   # kW: 3.68, −1.15, 0
                   **_gap(0x0BED, 2, [0x406B, 0x851F], [0xBF93, 0x3333], F_0),
                   **_at(0x0C83, [0x0000, 0x0000, 0x0012, 0xD644])}}  # INT64 1,234,500 Wh
SOCOMEC_IP = {**_gap(0xC560, 2, [0x0000, 0x3F7A], [0x0000, 0x2134], [0x0000, 0x02EE]),  # mA
              **_gap(0xC570, 2, [0x0000, 0x0170], [0xFFFF, 0xFF8D], [0, 0])}  # 10 W units
DUMPS = {
    "sdm630": ({"input": {**_gap(6, 2, F_16_25, F_8_5, F_0_75),
                          **_gap(12, 2, F_3680, F_M1150, F_0),
                          **_at(0x48, [0x449A, 0x5000])}}, 1_234_500.0),  # float32 kWh
    "schneider_iem3000": (IEM, 1_234_500.0),
    "schneider_pm5000": (IEM, 1_234_500.0),
    "siemens_pac2200": ({"input": {**_gap(13, 2, F_16_25, F_8_5, F_0_75),
                                   **_gap(25, 2, F_3680, F_M1150, F_0),
                                   **_at(801, [0x4132, 0xD644, 0x0000, 0x0000])}},  # float64
                        1_234_500.0),
    "abb_b23": ({"holding": {
        **_gap(0x5B0C, 2, [0x0000, 0x0659], [0x0000, 0x0352], [0x0000, 0x004B]),  # 0.01 A
        **_gap(0x5B16, 2, [0x0005, 0x9D80], [0xFFFE, 0x3EC8], [0, 0]),  # 0.01 W
        **_at(0x5000, [0x0000, 0x0000, 0x0001, 0xE23A])}}, 1_234_500.0),  # 0.01 kWh
    "carlo_gavazzi_em24": ({"input": {  # int32, least significant word first
        **_gap(0x0C, 2, [0x3F7A, 0x0000], [0x2134, 0x0000], [0x02EE, 0x0000]),  # mA
        **_gap(0x12, 2, [0x8FC0, 0x0000], [0xD314, 0xFFFF], [0, 0]),  # 0.1 W
        **_at(0x42, [0x3039, 0x0000])}}, 1_234_500.0),  # 0.1 kWh
    "carlo_gavazzi_em340": ({"input": {
        **_gap(0x0C, 2, [0x3F7A, 0x0000], [0x2134, 0x0000], [0x02EE, 0x0000]),
        **_gap(0x12, 2, [0x8FC0, 0x0000], [0xD314, 0xFFFF], [0, 0]),
        **_at(0x34, [0x3039, 0x0000])}}, 1_234_500.0),
    "janitza_umg96rm": ({"holding": {**_gap(19012, 2, F_16_25, F_8_5, F_0_75),
                                     **_gap(19020, 2, F_3680, F_M1150, F_0),
                                     **_at(19068, [0x4996, 0xB220])}}, 1_234_500.0),  # Wh
    "socomec_diris_a10": ({"holding": {**SOCOMEC_IP,
                                       **_at(0xC65C, [0x0000, 0x04D2])}},  # 1234 kWh
                          1_234_000.0),
    "socomec_countis_e": ({"holding": {**SOCOMEC_IP,
                                       **_at(0xC702, [0x0001, 0xE23A])}},  # 10 Wh units
                          1_234_500.0),
    "legrand_emdx3": ({"holding": {
        **_gap(4102, 2, [0x0000, 0x3F7A], [0x0000, 0x2134], [0x0000, 0x02EE]),  # mA
        **_at(4116, [0x0000, 0x09E2]),  # 2530 W, three-phase total
        **_at(4124, [0x0012, 0xD644])}}, 1_234_500.0),  # Wh
}


WHOLE = {"holding": {0: 0, 0xFFFF: 0}, "input": {0: 0, 0xFFFF: 0}}


def test_every_shipped_meter_template_has_a_dump() -> None:
    from hub_engine.devices.template import TEMPLATES_DIR
    meters = {p.stem for p in TEMPLATES_DIR.glob("*.yaml")
              if load_template(p.stem).kind == "meter"}
    assert meters == set(DUMPS)


@pytest.mark.parametrize("name", sorted(DUMPS))
async def test_a_shipped_template_reads_the_meter_it_names(name: str) -> None:
    tables, energy_wh = DUMPS[name]
    port = free_port()
    # A real meter answers for every register of its map: voltages, totals… read in the
    # same requests read as zero here.
    server = RegisterServer(lambda unit: tables, units=(7,), port=port, span=WHOLE)
    await server.start()
    clock = SystemClock()
    opts = DeviceOptions(host="127.0.0.1", port=port, template=name, device_id=7)
    device = ModbusDevice("m", opts, load_template(name),
                          ModbusLink(LinkOptions(host="127.0.0.1", port=port), 1.0, clock),
                          clock)
    try:
        await device.poll()
    finally:
        await server.stop()
        device.link.close()
    reading = device.reading()
    assert reading.current_a == pytest.approx((16.25, 8.5, 0.75))
    if reading.power_w is not None:  # per-phase power: the sign of each current
        assert reading.power_w == pytest.approx((3680.0, -1150.0, 0.0))
        assert reading.signed_a() == pytest.approx((16.25, -8.5, 0.75))
    else:
        assert device.values["power_w"] == pytest.approx((2530.0,))
    assert device.values["energy_import_wh"] == pytest.approx((energy_wh,))
