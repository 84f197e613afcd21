"""Modbus RTU over a serial line (a socat pty pair): two meters on one bus share its link,
and a poll plan the bus cannot carry is refused at start with the figures."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub_engine.clock import SystemClock
from hub_engine.config import parse_config
from hub_engine.devices import build_devices
from hub_engine.errors import ConfigError
from hub_engine.sim.modbus_server import RegisterServer
from tests.integration.serial_fixtures import pty_pair

__all__ = ["pty_pair"]

SITE = """
hub: {data_dir: %s}
sites:
  - id: s
    grid:
      id: grid
      limit_a: 100
      meter: tgbt
      children:
        - {id: parking, limit_a: 63, meter: parking_meter}
meters:
%s
"""


def _meters(serial: str, count: int, interval: float, baud: int = 9600) -> str:
    lines = []
    for k in range(count):
        lines.append(f"  - {{id: {'tgbt' if k == 0 else 'parking_meter' if k == 1 else f'm{k}'},"
                     f" driver: modbus, options: {{serial: {serial}, baudrate: {baud},"
                     f" device_id: {k + 1}, template: sdm630, poll_interval_s: {interval},"
                     " timeout_s: 0.5}}")
    return "\n".join(lines)


# SDM630 (input registers, float32): L1..L3 = 16.25 / 8.5 / 0.75 A and 10 / 20 / 30 A.
TABLES = {1: {"input": {6: 0x4182, 7: 0, 8: 0x4108, 9: 0, 10: 0x3F40, 11: 0}},
          2: {"input": {6: 0x4120, 7: 0, 8: 0x41A0, 9: 0, 10: 0x41F0, 11: 0}}}
SPAN = {"input": {0: 0, 0x50: 0}}


async def test_two_meters_on_one_rs485_bus(pty_pair: tuple[str, str], tmp_path: Path) -> None:
    device_end, hub_end = pty_pair
    server = RegisterServer(lambda unit: TABLES[unit], units=(1, 2), serial=device_end,
                            baudrate=9600, span=SPAN)
    await server.start()
    config = parse_config(SITE % (tmp_path, _meters(hub_end, 2, 0.5)))
    devices = build_devices(config, SystemClock())
    assert len({id(d.link) for d in devices.modbus.values()}) == 1  # one link per bus
    try:
        for device in devices.modbus.values():
            await device.poll()
    finally:
        for device in devices.modbus.values():
            device.link.close()
        await server.stop()
    assert devices.meters["grid"].reading().current_a == pytest.approx((16.25, 8.5, 0.75))
    assert devices.meters["parking"].reading().current_a == pytest.approx((10.0, 20.0, 30.0))


@pytest.mark.parametrize(("count", "interval", "baud", "ok"), [
    (20, 1.0, 9600, False),  # 20 SDM630 maps (76 registers) each second at 9600 bd: 3.8 s
    (20, 5.0, 9600, True),
    (20, 1.0, 38400, False),  # 1.2 s: the turnaround dominates
    (20, 1.0, 115200, True),
    (4, 1.0, 9600, True),
])
def test_a_poll_plan_the_bus_cannot_carry_is_refused(tmp_path: Path, count: int,
                                                     interval: float, baud: int,
                                                     ok: bool) -> None:
    config = parse_config(SITE % (tmp_path, _meters("/dev/ttyUSB0", count, interval, baud)))
    if ok:
        build_devices(config, SystemClock())
        return
    with pytest.raises(ConfigError) as err:
        build_devices(config, SystemClock())
    assert err.value.path == "meters[0].options"
    assert "/dev/ttyUSB0" in err.value.message and "s of bus time per second" in err.value.message


def test_devices_on_one_bus_must_agree_on_its_settings(tmp_path: Path) -> None:
    meters = _meters("/dev/ttyUSB0", 2, 1.0).replace("baudrate: 9600, device_id: 2",
                                                      "baudrate: 19200, device_id: 2")
    with pytest.raises(ConfigError) as err:
        build_devices(parse_config(SITE % (tmp_path, meters)), SystemClock())
    assert err.value.path == "meters[1].options" and "meters[0].options" in err.value.message
