"""An admin saves a configuration and restarts the engine from the page: `hub run`
stops and starts again in the same process on the saved file, the page comes back by
itself, and the car charging meanwhile never stops (its charge point keeps its limit)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, expect

from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.runner import SimRunner
from tests.conftest import free_port
from tests.e2e.pages import DESKTOP, sign_in, watch_errors

ROOT = Path(__file__).resolve().parents[2]
REACTION_WINDOW_S = 10.0  # the EMS's default ems.reaction_window_s


class Engine:
    """`hub run --config FILE` as a service runs it; its log is kept, read as it comes."""

    def __init__(self, tmp: Path) -> None:
        self.ws_port, self.http_port = free_port(), free_port()
        self.config = tmp / "hub.yaml"
        self.config.write_text(f"""
hub: {{data_dir: {tmp / 'data'}}}
ocpp: {{host: 127.0.0.1, ws_port: {self.ws_port}, wss_port: {free_port()}, tls: "off",
       boot_spread_s: 0, accept_all_id_tags: true}}
http: {{host: 127.0.0.1, port: {self.http_port}, https_port: null}}
ems: {{commissioning: "off", unverified_models: trust}}
ops: {{clock: trust}}
sites:
  - id: s1
    grid: {{id: grid, limit_a: 63, charge_points: [{{id: CP1}}]}}
""")
        self.log: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hub_engine", "run", "--config", str(self.config)],
            stderr=subprocess.PIPE, text=True, cwd=ROOT, env={**os.environ, "HUB_CONFIG": ""})
        threading.Thread(target=self._read, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.http_port}"
        self.wait_for("running: sites s1")

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.log.append(line)

    def wait_for(self, text: str, timeout_s: float = 30, after: int = 0) -> int:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for i, line in enumerate(self.log[after:], after):
                if text in line:
                    return i
            time.sleep(0.1)
        raise AssertionError(f"{text!r} not in the log:\n{''.join(self.log[-40:])}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    e = Engine(tmp_path)
    try:
        yield e
    finally:
        e.stop()


def test_restart_from_the_page_applies_the_saved_configuration_without_stopping_charging(
        engine: Engine, browser: Browser, tmp_path: Path) -> None:
    loop = asyncio.new_event_loop()
    threading.Thread(target=loop.run_forever, daemon=True).start()
    runner = SimRunner(SimConfig("CP1", meter_interval_s=1.0),
                       f"ws://127.0.0.1:{engine.ws_port}", tick_s=0.2)
    running = asyncio.run_coroutine_threadsafe(runner.run(), loop)
    asyncio.run_coroutine_threadsafe(asyncio.wait_for(runner.connected.wait(), 30),
                                     loop).result(35)
    assert runner.cp is not None
    cp = runner.cp
    tx = asyncio.run_coroutine_threadsafe(
        cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="NIGHT"), loop).result(30)
    applied: list[tuple[float, float]] = []  # (time, current the car gets)
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            applied.append((time.monotonic(), cp.connectors[1].applied_a))
            time.sleep(0.2)
    threading.Thread(target=watch, daemon=True).start()
    try:
        deadline = time.monotonic() + 20
        while cp.connectors[1].applied_a < 6 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert cp.connectors[1].applied_a >= 6, "the car never started charging"

        page = browser.new_page(viewport=DESKTOP)
        errors = watch_errors(page)
        page.on("dialog", lambda d: d.accept())
        password = (tmp_path / "data" / "initial-admin-password").read_text().strip()

        class _Hub:  # what sign_in needs of a hub
            url = f"{engine.url}/api/v1"
        sign_in(page, _Hub(), "admin", password)  # type: ignore[arg-type]
        page.get_by_role("link", name="Configuration").click()
        area = page.locator("#config-text")
        expect(area).to_have_value(re.compile("limit_a: 63"))
        area.fill(area.input_value().replace("limit_a: 63", "limit_a: 50"))
        page.locator("#config-save").click()
        expect(page.locator("#config-result")).to_contain_text("Saved as version 1")
        pid, mark = engine.proc.pid, len(engine.log)
        page.locator("#restart").click()
        expect(page.locator("#restart-result")).to_have_text(
            "The engine restarted on the saved configuration.", timeout=60000)
        engine.wait_for("restarting the engine", after=mark)
        engine.wait_for("running: sites s1", after=mark)
        assert engine.proc.pid == pid and engine.proc.poll() is None  # the same process

        # The saved configuration is in force, the session goes on under its id.
        token = requests.post(f"{engine.url}/api/v1/auth/login", json={
            "login": "admin", "password": password}, timeout=10).json()["token"]
        auth = {"Authorization": f"Bearer {token}"}
        deadline = time.monotonic() + 30
        live: dict = {}
        while time.monotonic() < deadline:
            live = requests.get(f"{engine.url}/api/v1/live", headers=auth, timeout=10).json()
            if live["sites"][0]["rating_a"] == 50 and live["connectors"][0]["online"]:
                break
            time.sleep(0.5)
        assert live["sites"][0]["rating_a"] == 50
        sessions = requests.get(f"{engine.url}/api/v1/sessions?active=true", headers=auth,
                                timeout=10).json()
        assert [s["id"] for s in sessions] == [tx]
        time.sleep(3)
    finally:
        watching.set()
        runner.stop()
        running.cancel()
        time.sleep(0.5)  # the runner closes its link before its loop stops
        loop.call_soon_threadsafe(loop.stop)
    # Charging never stopped: the longest stretch at 0 A after the start is not longer
    # than the reaction window (and here it is none at all).
    started = next(i for i, (_, a) in enumerate(applied) if a >= 6)
    longest, since = 0.0, None
    for t, a in applied[started:]:
        if a <= 0.0:
            since = t if since is None else since
            longest = max(longest, t - since)
        else:
            since = None
    assert longest <= REACTION_WINDOW_S, f"charging stopped for {longest:.1f} s"
    assert min(a for _, a in applied[started:]) > 0, "the car was paused by the restart"
    assert not errors, errors
