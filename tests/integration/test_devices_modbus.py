"""A Modbus TCP meter read by the hub (pymodbus client, SDM630 template) from the
simulated meter server over real TCP: values, signs, staleness with one alert each way,
reconnection."""

from __future__ import annotations

import asyncio

import pytest

from hub_engine.clock import SystemClock
from hub_engine.devices.modbus import ModbusLink
from hub_engine.devices.poller import DeviceOptions, ModbusDevice
from hub_engine.devices.template import load_template
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.sim.modbus_meter import MeterReading, ModbusMeterServer
from hub_engine.sim.modbus_server import RegisterServer
from tests.conftest import free_port

SITE = MeterReading(voltage_v=(231.0, 229.5, 230.2), current_a=(120.5, 98.0, 15.25),
                    power_w=(27000.0, 22000.0, -3500.0), import_wh=1_234_500.0,
                    export_wh=67_800.0)


def _meter(options: DeviceOptions, alerts: list[tuple[str, bool]] | None = None
           ) -> ModbusDevice:
    assert options.template is not None
    clock = SystemClock()
    seen = alerts if alerts is not None else []
    return ModbusDevice("m", options, load_template(options.template),
                        ModbusLink(options, options.timeout_s, clock), clock,
                        on_change=lambda d, online, why: seen.append((d, online)))


async def _first_reading(meter: ModbusDevice) -> Reading:
    for _ in range(50):
        await asyncio.sleep(0.1)
        if meter.reads:
            break
    return meter.reading()


async def test_reads_currents_with_the_sign_of_power_and_knows_when_it_is_stale() -> None:
    port = free_port()
    current = {"reading": SITE}
    server = ModbusMeterServer(lambda: current["reading"], port=port)
    await server.start()
    alerts: list[tuple[str, bool]] = []
    meter = _meter(DeviceOptions(host="127.0.0.1", port=port, template="sdm630",
                                 poll_interval_s=0.2, timeout_s=0.5), alerts)
    with pytest.raises(ReadError):
        meter.reading()  # never a zero before the first read
    await meter.start()
    try:
        r = await _first_reading(meter)
        assert r.current_a == pytest.approx((120.5, 98.0, 15.25))
        assert r.power_w is not None and r.power_w[2] == pytest.approx(-3500.0)
        assert r.signed_a()[2] == pytest.approx(-15.25)  # PV export on L3
        assert r.age_s < 1.0
        await server.stop()  # the meter goes silent
        await asyncio.sleep(0.5)
        assert meter.reading().age_s >= 0.3  # within 2 polls + a timeout: last value, aged
        await asyncio.sleep(1.5)
        with pytest.raises(ReadError, match="stale"):  # then stale: never its last value
            meter.reading()
        assert meter.failures >= 1 and alerts == [("m", False)]  # one alert, not one a poll
        current["reading"] = MeterReading((230,) * 3, (5.0, 6.0, 7.0), (1150,) * 3, 0, 0)
        server = ModbusMeterServer(lambda: current["reading"], port=port)
        await server.start()  # back: the poller reconnects by itself
        for _ in range(100):
            await asyncio.sleep(0.1)
            if meter.fresh() and meter.reading().current_a == pytest.approx((5.0, 6.0, 7.0)):
                break
        assert meter.reading().current_a == pytest.approx((5.0, 6.0, 7.0))
        assert alerts == [("m", False), ("m", True)]
    finally:
        await meter.stop()
        await server.stop()


async def test_a_user_template_on_holding_registers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """FC3 path, and a template given by path: 120.5 / 98.0 / 15.25 A as float32 holding
    registers, hand-encoded."""
    template = tmp_path / "my-meter.yaml"
    template.write_text("name: mine\nfunction: holding\n"
                        "current_a: {address: [6, 8, 10], type: float32}\n")
    port = free_port()
    regs = {6: 0x42F1, 7: 0x0000, 8: 0x42C4, 9: 0x0000, 10: 0x4174, 11: 0x0000}
    server = RegisterServer(lambda unit: {"holding": regs}, port=port)
    await server.start()
    meter = _meter(DeviceOptions(host="127.0.0.1", port=port, template=str(template),
                                 poll_interval_s=0.2, ct_ratio=2.0))
    await meter.start()
    try:
        r = await _first_reading(meter)
        assert r.current_a == pytest.approx((241.0, 196.0, 30.5))  # × the CT ratio
        assert r.power_w is None  # unsigned: no sign source in this template
    finally:
        await meter.stop()
        await server.stop()
