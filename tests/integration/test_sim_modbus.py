"""The simulated site meter over real Modbus TCP, read by pymodbus and by Debian's mbpoll."""

from __future__ import annotations

import asyncio
import re
import shutil
import struct

import pytest
from pymodbus.client import AsyncModbusTcpClient

from hub_engine.sim.modbus_meter import MeterReading, ModbusMeterServer
from tests.conftest import free_port

# SDM630 map: voltages 0x00, currents 0x06, powers 0x0C, energy 0x48 (kWh), float32.
READING = MeterReading(voltage_v=(231.0, 229.5, 230.2), current_a=(120.5, 98.0, 15.25),
                       power_w=(27000.0, 22000.0, -3500.0), import_wh=1_234_500.0,
                       export_wh=67_800.0)


def _floats(registers: list[int]) -> list[float]:
    return [struct.unpack(">f", struct.pack(">HH", registers[i], registers[i + 1]))[0]
            for i in range(0, len(registers), 2)]


async def test_pymodbus_client_reads_the_live_values() -> None:
    current = {"reading": READING}
    port = free_port()
    server = ModbusMeterServer(lambda: current["reading"], port=port)
    await server.start()
    client = AsyncModbusTcpClient("127.0.0.1", port=port)
    try:
        await asyncio.sleep(0.2)
        await client.connect()
        regs = (await client.read_input_registers(0, count=0x12, device_id=1)).registers
        values = _floats(regs)
        assert values[0:3] == pytest.approx([231.0, 229.5, 230.2])
        assert values[3:6] == pytest.approx([120.5, 98.0, 15.25])
        assert values[6:9] == pytest.approx([27000.0, 22000.0, -3500.0])  # export negative
        energy = await client.read_input_registers(0x48, count=4, device_id=1)
        assert _floats(energy.registers) == pytest.approx([1234.5, 67.8], rel=1e-6)
        current["reading"] = MeterReading((230,) * 3, (5.0, 5.0, 5.0), (1150,) * 3, 0, 0)
        again = await client.read_input_registers(0x06, count=2, device_id=1)
        assert _floats(again.registers) == [5.0]  # every read sees the site as it is now
    finally:
        client.close()
        await server.stop()


async def test_mbpoll_reads_the_currents() -> None:
    assert shutil.which("mbpoll"), "mbpoll is installed by make test (tests/debian-packages.txt)"
    port = free_port()
    server = ModbusMeterServer(lambda: READING, port=port)
    await server.start()
    try:
        await asyncio.sleep(0.2)
        proc = await asyncio.create_subprocess_exec(
            "mbpoll", "-m", "tcp", "-p", str(port), "-a", "1", "-t", "3:float", "-B", "-0",
            "-r", str(0x06), "-c", "3", "-1", "127.0.0.1",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 20)
        assert proc.returncode == 0, err.decode()
        found = [float(v) for v in re.findall(r"^\[\d+\]:\s+(\S+)", out.decode(), re.M)]
        assert found == pytest.approx([120.5, 98.0, 15.25])
    finally:
        await server.stop()
