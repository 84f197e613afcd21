"""`hub devices serve` (the simulator serving any template) and `hub devices read` (try a
device from the command line), as separate processes over real Modbus TCP."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from tests.conftest import free_port

HUB = [sys.executable, "-m", "hub_engine"]


def test_serve_a_template_and_read_it_from_the_configuration(tmp_path: Path) -> None:
    port, dead = free_port(), free_port()
    server = subprocess.Popen(
        [*HUB, "devices", "serve", "--template", "schneider_iem3000", "--port", str(port),
         "--unit", "3", "--set", "current_a=16.25,8.5,0.75", "--set", "power_w=3680,-1150,0"],
        stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        assert "serving Schneider iEM3000" in server.stdout.readline()
        config = tmp_path / "hub.yaml"
        config.write_text(f"""
hub: {{data_dir: {tmp_path}}}
sites:
  - id: s
    grid: {{id: grid, limit_a: 100, meter: tgbt,
            children: [{{id: board, limit_a: 63, meter: board}}]}}
meters:
  - {{id: tgbt, driver: modbus, options: {{host: 127.0.0.1, port: {port}, device_id: 3,
      template: schneider_iem3000}}}}
  - {{id: board, driver: modbus, options: {{host: 127.0.0.1, port: {dead},
      template: sdm630, timeout_s: 0.5}}}}
""")
        out = subprocess.run([*HUB, "devices", "read", "tgbt", "--config", str(config)],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        lines = {line.split()[0]: line.split()[1:] for line in out.stdout.splitlines()[1:]}
        assert [float(x) for x in lines["current_a"]] == [16.25, 8.5, 0.75]
        assert [float(x) for x in lines["power_w"]] == [3680.0, -1150.0, 0.0]  # kW → W
        both = subprocess.run([*HUB, "devices", "read", "--config", str(config)],
                              capture_output=True, text=True, timeout=60)
        assert both.returncode == 1  # one device does not answer: said, not a zero
        assert f"cannot connect to tcp://127.0.0.1:{dead}" in both.stdout
        assert "tgbt  tcp://127.0.0.1" in both.stdout
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_read_refuses_what_it_cannot_read() -> None:
    out = subprocess.run([*HUB, "devices", "read", "--host", "127.0.0.1"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "--template" in out.stderr
    started = time.monotonic()
    out = subprocess.run([*HUB, "devices", "read", "--host", "127.0.0.1", "--template",
                          "no-such-meter"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "sdm630" in out.stderr and time.monotonic() - started < 30
