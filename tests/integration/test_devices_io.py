"""Dry contacts on a Modbus I/O module (a simulated PLC over real TCP) as EMS hard inputs,
and a group contactor driven from the EMS: normally-closed polarity, so a broken wire or
a lost module gives each function's safe state; end to end with simulated charge points."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from hub_engine.clock import SystemClock
from hub_engine.config import parse_config
from hub_engine.devices import build_devices
from hub_engine.devices.modbus import ModbusLink
from hub_engine.devices.poller import DeviceOptions, ModbusDevice
from hub_engine.devices.template import load_template
from hub_engine.sim.modbus_meter import ModbusMeterServer
from hub_engine.sim.modbus_server import RegisterServer
from tests.conftest import free_port
from tests.integration.ems_harness import REACTION_S, running_site, site_config
from tests.integration.test_ems_failsafes import plug_all, three

SPAN = {"discrete": {0: 0, 15: 0}, "coil": {0: 0, 15: 0}}


def io_section(port: int) -> str:
    return f"""
devices:
  - {{id: plc, role: io, options: {{host: 127.0.0.1, port: {port}, poll_interval_s: 0.2,
      timeout_s: 0.3}}}}
inputs:
  - {{id: shed, device: plc, address: 0, function: load_shedding, node: grid, limit_a: 20}}
  - {{id: fire, device: plc, address: 1, function: fire_alarm}}
  - {{id: genset, device: plc, address: 2, function: generator, node: grid, limit_a: 30}}
  - {{id: hc, device: plc, address: 3, function: off_peak, polarity: "no"}}
outputs:
  - {{id: k1, device: plc, coil: 0, node: grid}}
"""


class Plc:
    """The module's contacts: 1 = closed. Healthy NC contacts are closed."""

    def __init__(self, port: int) -> None:
        self.contacts = {0: 1, 1: 1, 2: 1, 3: 0}
        self.server = RegisterServer(lambda unit: {"discrete": self.contacts}, port=port,
                                     span=SPAN)

    def coil(self) -> bool | None:
        writes = [w for w in self.server.writes if w[1] == "coil" and w[2] == 0]
        return bool(writes[-1][3][0]) if writes else None


async def _settle(devices, seconds: float = 0.8) -> None:  # type: ignore[no-untyped-def]
    await asyncio.sleep(seconds)


async def test_contacts_give_their_safe_state_when_cut_or_lost(tmp_path: Path) -> None:
    port = free_port()
    plc = Plc(port)
    await plc.server.start()
    config = parse_config(f"hub: {{data_dir: {tmp_path}}}\n" + three() + io_section(port))
    devices = build_devices(config, SystemClock())
    alerts: list[str] = []
    devices.alert = lambda kind, target, data: alerts.append(f"{kind} {target}")
    await devices.start()
    try:
        await _settle(devices)
        assert devices.limits() == () and not devices.hard_inputs().fire_alarm
        assert devices.describe()["inputs"]["hc"] == {"function": "off_peak", "active": False,
                                                      "known": True}
        plc.contacts[0] = 0  # the shedding contact opens (or its wire is cut: the same)
        plc.contacts[3] = 1  # off-peak (normally open) closes
        await _settle(devices)
        (shed,) = devices.limits()
        assert (shed.target, shed.limit_a, shed.source) == ("grid", 20, "input:shed")
        assert devices.describe()["inputs"]["hc"]["active"]
        await plc.server.stop()  # the module is lost: every input at its safe state
        await asyncio.sleep(1.5)
        assert devices.hard_inputs().fire_alarm
        assert sorted(lim.limit_a or 0 for lim in devices.limits()) == [20, 30]
        state = devices.describe()["inputs"]
        assert state["hc"] == {"function": "off_peak", "active": False, "known": False}
        assert alerts == ["device.lost plc"]
    finally:
        await devices.stop()
        await plc.server.stop()


async def test_shedding_fire_alarm_and_contactor_end_to_end(tmp_path: Path) -> None:
    port = free_port()
    plc = Plc(port)
    await plc.server.start()
    config = site_config(tmp_path, three() + io_section(port))
    async with running_site(config) as site:
        devices = build_devices(config, site.loop.clock)
        site.loop.site_inputs, devices.alert = devices, site.loop._alert
        await devices.start()
        try:
            await plug_all(site)
            await asyncio.sleep(8)
            shares = sorted(site.trace.cars_at(time.monotonic() - 0.2).values())
            assert shares == pytest.approx([12.6] * 3, abs=0.2)  # (40 − 2) / 3
            assert plc.coil() is True  # the group contactor is held closed
            plc.contacts[0] = 0  # the utility's shedding contact opens
            await asyncio.sleep(REACTION_S + 1)
            shares = sorted(site.trace.cars_at(time.monotonic() - 0.2).values())
            assert shares == pytest.approx([6.0] * 3, abs=0.1)  # (20 − 2) / 3
            assert site.loop.record["inputs"] == {
                "fire_alarm": False, "clock_trusted": True, "device_limits": [
                {"target": "grid", "source": "input:shed", "limit_a": 20.0}]}
            plc.contacts[0] = 1
            plc.contacts[1] = 0  # fire alarm (SSI): every car to 0, the contactor opens
            await asyncio.sleep(REACTION_S)
            assert sorted(site.trace.cars_at(time.monotonic() - 0.2).values()) == [0.0] * 3
            assert plc.coil() is False
            plc.contacts[1] = 1  # the alarm clears: charging resumes
            await asyncio.sleep(REACTION_S + 3)
            assert min(site.trace.cars_at(time.monotonic() - 0.2).values()) >= 6.0
            assert plc.coil() is True
            await plc.server.stop()  # the module is lost: fire alarm is its safe state
            await asyncio.sleep(REACTION_S)
            assert sorted(site.trace.cars_at(time.monotonic() - 0.2).values()) == [0.0] * 3
            assert ("device.lost", "plc") in [(k, t) for k, t, _ in site.loop.alerts]
            assert not site.sim.report.trips
        finally:
            await devices.stop()
            await plc.server.stop()


async def test_a_generator_limits_its_node_and_a_battery_takes_a_setpoint(
        tmp_path: Path) -> None:
    port = free_port()
    # generic_generator: running (holding 0), power int32 W (2); generic_battery on unit 2:
    # SoC uint16 0.1 % (0) = 87.5 %, power int32 W (2) = −2,500 W (discharging).
    regs = {1: {"holding": {0: 1, 2: 0x0000, 3: 0x2EE0}},
            2: {"holding": {0: 0x036B, 2: 0xFFFF, 3: 0xF63C}}}
    server = RegisterServer(lambda unit: regs[unit], units=(1, 2), port=port,
                            span={"holding": {0: 0, 20: 0}})
    await server.start()
    opts = f"host: 127.0.0.1, port: {port}, poll_interval_s: 0.2, timeout_s: 0.3"
    config = parse_config(f"hub: {{data_dir: {tmp_path}}}\n" + three() + f"""
devices:
  - {{id: genset, role: generator, node: grid, limit_a: 30,
      options: {{{opts}, template: generic_generator, device_id: 1}}}}
  - {{id: storage, role: battery, node: grid,
      options: {{{opts}, template: generic_battery, device_id: 2}}}}
""")
    devices = build_devices(config, SystemClock())
    assert len({id(d.link) for d in devices.modbus.values()}) == 1  # one gateway, one link
    await devices.start()
    try:
        await _settle(devices)
        assert [(x.source, x.limit_a) for x in devices.limits()] == [("generator:genset", 30)]
        assert devices.modbus["genset"].value("power_w") == pytest.approx((12000.0,))
        battery = devices.modbus["storage"]
        assert battery.value("soc_pct") == pytest.approx((87.5,))
        assert battery.value("power_w") == pytest.approx((-2500.0,))
        await battery.write_setpoint(-3000)
        assert server.writes[-1] == (2, "holding", 10, [0xFFFF, 0xF448])  # int32 −3000 W
        regs[1]["holding"][0] = 0  # the generator stops: back on the grid
        await _settle(devices)
        assert devices.limits() == ()
        await server.stop()  # its status is lost: assume it runs (the smaller source)
        await asyncio.sleep(1.5)
        assert [x.source for x in devices.limits()] == ["generator:genset"]
    finally:
        await devices.stop()
        await server.stop()


async def test_a_silent_modbus_meter_puts_its_node_on_its_fallback(tmp_path: Path) -> None:
    """The grid meter read over Modbus TCP by the hub: when it goes silent the EMS counts
    the node at its fallback load within the reaction window; when it answers again the
    cars get their share back."""
    port = free_port()
    config = site_config(tmp_path, three(fallback=20))
    async with running_site(config) as site:
        server = ModbusMeterServer(site.sim.meter_reading, port=port)
        await server.start()
        clock = site.loop.clock
        opts = DeviceOptions(host="127.0.0.1", port=port, template="sdm630",
                             poll_interval_s=0.2, timeout_s=0.3)
        meter = ModbusDevice("tgbt", opts, load_template("sdm630"),
                             ModbusLink(opts, opts.timeout_s, clock), clock)
        site.loop.meters["grid"] = meter
        await meter.start()
        try:
            await plug_all(site)
            await asyncio.sleep(8)
            shares = sorted(site.trace.cars_at(time.monotonic() - 0.2).values())
            assert shares == pytest.approx([12.6] * 3, abs=0.2)  # metered: (40 − 2) / 3
            await server.stop()
            await asyncio.sleep(REACTION_S)
            assert site.loop.record["nodes"][0]["meter_status"] == "stale"
            shares = sorted(site.trace.cars_at(time.monotonic() - 0.2).values())
            assert shares == pytest.approx([6.0] * 3, abs=0.1)  # (40 − 2 − 20) / 3
            server = ModbusMeterServer(site.sim.meter_reading, port=port)
            await server.start()
            await asyncio.sleep(REACTION_S + 6)
            assert site.loop.record["nodes"][0]["meter_status"] == "fresh"
            shares = sorted(site.trace.cars_at(time.monotonic() - 0.2).values())
            assert shares == pytest.approx([12.6] * 3, abs=0.2)
            assert not site.sim.report.trips
        finally:
            await meter.stop()
            await server.stop()
