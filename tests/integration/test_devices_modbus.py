"""A Modbus TCP meter read by the hub (pymodbus client, SDM630 template) from the
simulated meter server over real TCP: values, signs, staleness, reconnection."""

from __future__ import annotations

import asyncio

import pytest

from hub_engine.clock import SystemClock
from hub_engine.devices.modbus import ModbusMeter, ModbusOptions
from hub_engine.devices.template import load_template
from hub_engine.ems.model import Reading
from hub_engine.errors import ReadError
from hub_engine.sim.modbus_meter import MeterReading, ModbusMeterServer
from tests.conftest import free_port

SITE = MeterReading(voltage_v=(231.0, 229.5, 230.2), current_a=(120.5, 98.0, 15.25),
                    power_w=(27000.0, 22000.0, -3500.0), import_wh=1_234_500.0,
                    export_wh=67_800.0)


async def _first_reading(meter: ModbusMeter) -> Reading:
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
    meter = ModbusMeter("m", ModbusOptions(host="127.0.0.1", port=port, template="sdm630",
                                           poll_interval_s=0.2, timeout_s=0.5),
                        load_template("sdm630"), SystemClock())
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
        await asyncio.sleep(1.5)
        assert meter.reading().age_s >= 1.0  # the last value, with its age: the EMS decides
        assert meter.failures >= 1
        current["reading"] = MeterReading((230,) * 3, (5.0, 6.0, 7.0), (1150,) * 3, 0, 0)
        server = ModbusMeterServer(lambda: current["reading"], port=port)
        await server.start()  # back: the poller reconnects by itself
        for _ in range(100):
            await asyncio.sleep(0.1)
            if meter.reading().current_a == pytest.approx((5.0, 6.0, 7.0)):
                break
        assert meter.reading().current_a == pytest.approx((5.0, 6.0, 7.0))
    finally:
        await meter.stop()
        await server.stop()


async def test_a_user_template_on_holding_registers(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """FC3 path, and a template given by path (the simulated meter answers FC3 too)."""
    template = tmp_path / "my-meter.yaml"
    template.write_text("name: mine\nfunction: holding\n"
                        "current_a: {address: [6, 8, 10], type: float32}\n")
    port = free_port()
    server = ModbusMeterServer(lambda: SITE, port=port)
    await server.start()
    meter = ModbusMeter("m", ModbusOptions(host="127.0.0.1", port=port, template=str(template),
                                           poll_interval_s=0.2, ct_ratio=2.0),
                        load_template(str(template)), SystemClock())
    await meter.start()
    try:
        r = await _first_reading(meter)
        assert r.current_a == pytest.approx((241.0, 196.0, 30.5))  # × the CT ratio
        assert r.power_w is None  # unsigned: no sign source in this template
    finally:
        await meter.stop()
        await server.stop()
