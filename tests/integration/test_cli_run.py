"""`hub run` starts, creates its databases, and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _wait_for(proc: subprocess.Popen[str], text: str, timeout_s: float = 20) -> list[str]:
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    assert proc.stderr is not None
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        if not line:
            break
        lines.append(line)
        if text in line:
            return lines
    raise AssertionError(f"{text!r} not seen; got:\n{''.join(lines)}")


def test_run_and_sigterm(minimal_config_file: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "hub_engine", "run", "--config",
                             str(minimal_config_file)], stderr=subprocess.PIPE, text=True,
                            cwd=ROOT, preexec_fn=lambda: os.umask(0o022))
    try:
        _wait_for(proc, "running: sites s1")
        data = minimal_config_file.parent / "data"
        assert (data / "core.db").exists() and (data / "samples.db").exists()
        # Nothing of it readable by another local user, whatever the umask it had; the
        # hub's group reaches the bus sockets only (docs/bus.md).
        assert data.stat().st_mode & 0o777 == 0o750
        loose = [p for p in data.rglob("*") if p.stat().st_mode & 0o077
                 and not (p.is_socket() and p.stat().st_mode & 0o777 == 0o660)]
        assert not loose, [(str(p), oct(p.stat().st_mode)) for p in loose]
        os.kill(proc.pid, signal.SIGTERM)
        _wait_for(proc, "hub stopped")
        assert proc.wait(10) == 0
    finally:
        proc.kill()


def test_run_demo_without_config(tmp_path: Path) -> None:
    meter_port = free_port()  # moved: the hub's meter follows (its `port: simulation`)
    env = {**os.environ, "HUB_DATA_DIR": str(tmp_path / "demo"), "HUB_OCPP_WS_PORT": "0",
           "HUB_OCPP_WSS_PORT": "0", "HUB_SIMULATION_METER_PORT": str(meter_port),
           "HUB_SIMULATION_PLC_PORT": str(free_port()), "HUB_HTTP_PORT": "0",
           "HUB_HTTP_HTTPS_PORT": "0"}
    env.pop("HUB_CONFIG", None)
    proc = subprocess.Popen([sys.executable, "-m", "hub_engine", "run"], stderr=subprocess.PIPE,
                            text=True, cwd=ROOT, env=env)
    try:
        # The demo starts last: everything before it is in the log by then.
        seen = "".join(_wait_for(proc, "20 charge points configured"))
        assert "simulated site: 20 charge points connecting" in seen
        assert "EMS: tgbt: meter" in seen  # the EMS runs from the start
        assert f"simulated grid meter on modbus tcp 127.0.0.1:{meter_port}" in seen
        # The EMS reads the moved meter (fresh), as the API shows.
        url = re.findall(r"API and docs on (http://[\d.:]+)/api/docs", seen)[0]
        password = (tmp_path / "demo" / "initial-admin-password").read_text().strip()
        token = requests.post(f"{url}/api/v1/auth/login", json={
            "login": "admin", "password": password}, timeout=10).json()["token"]
        status, deadline = None, time.monotonic() + 20
        while status != "fresh" and time.monotonic() < deadline:
            time.sleep(0.5)
            record = requests.get(f"{url}/api/v1/ems", timeout=10,
                                  headers={"Authorization": f"Bearer {token}"}).json()
            status = record["record"]["nodes"][0]["meter_status"]
        assert status == "fresh"
        # The simulated charge points boot through the hub and are accepted.

        deadline = time.monotonic() + 30
        accepted = 0
        while time.monotonic() < deadline and accepted < 20:
            time.sleep(0.5)
            with sqlite3.connect(tmp_path / "demo" / "core.db") as db:
                accepted = db.execute("SELECT count(*) FROM charge_points"
                                      " WHERE registration = 'accepted'").fetchone()[0]
        assert accepted == 20
        os.kill(proc.pid, signal.SIGINT)
        assert proc.wait(15) == 0
    finally:
        proc.kill()


def test_bad_config_refuses_to_start(tmp_path: Path) -> None:
    bad = tmp_path / "hub.yaml"
    bad.write_text("sites: [{id: s, grid: {id: g, limit_a: 0}}]\n")
    proc = subprocess.run([sys.executable, "-m", "hub_engine", "run", "--config", str(bad)],
                          capture_output=True, text=True, cwd=ROOT, timeout=30, check=False)
    assert proc.returncode == 2
    assert "sites[0].grid.limit_a: got 0.0, expected a number > 0" in proc.stderr
    assert not (tmp_path / "var").exists()
