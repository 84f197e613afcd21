"""Operations: the systemd unit (checked by systemd-analyze), the watchdog fed through
sd_notify on a fake NOTIFY_SOCKET with a supervisor that restarts a stuck engine, the
clock-trust rule, and a new engine taking over while simulated cars charge."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub_engine.clock import FakeClock
from hub_engine.ops.clock_trust import ClockTrust, kernel_synchronised
from hub_engine.ops.service import unit_text
from tests.conftest import free_port
from tests.integration.ems_harness import REACTION_S, running_site, site_config
from tests.integration.test_ems_failsafes import plug_all, three


def test_the_unit_file_is_valid_for_systemd(tmp_path: Path) -> None:
    assert shutil.which("systemd-analyze"), "make test installs systemd (its tools)"
    config = tmp_path / "hub.yaml"
    config.write_text("sites: [{id: s, grid: {id: g, limit_a: 40}}]\n")
    exe = str(Path(sys.executable).with_name("hub"))
    unit = tmp_path / "hub.service"
    unit.write_text(unit_text(exe, str(config), str(tmp_path), "root"))
    out = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "hub.service" not in out.stderr  # no warning about our unit
    text = unit.read_text()
    for line in ("Type=notify", "WatchdogSec=30", "Restart=always", "ProtectSystem=strict",
                 f"ReadWritePaths={tmp_path}"):
        assert line in text


def _engine(config: Path, notify: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NOTIFY_SOCKET": str(notify), "WATCHDOG_USEC": "1500000"}
    return subprocess.Popen([sys.executable, "-m", "hub_engine", "run", "--config",
                             str(config)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)


def _messages(sock: socket.socket, seconds: float) -> list[str]:
    end, out = time.monotonic() + seconds, []
    while time.monotonic() < end:
        try:
            out.append(sock.recv(4096).decode())
        except TimeoutError:
            continue
    return out


def test_a_stuck_engine_stops_feeding_the_watchdog_and_is_restarted(tmp_path: Path) -> None:
    """The test plays systemd: READY=1, WATCHDOG=1 every third of WatchdogSec from the EMS
    loop; when the engine freezes (SIGSTOP, as a stuck loop would) the pings stop, the
    supervisor kills it after WatchdogSec and starts it again, which says READY=1."""
    notify = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    sock.settimeout(0.2)
    config = tmp_path / "hub.yaml"
    config.write_text(
        f"hub: {{data_dir: {tmp_path / 'data'}}}\nops: {{clock: trust}}\n"
        f"ocpp: {{host: 127.0.0.1, ws_port: {free_port()}, wss_port: {free_port()}}}\n"
        f"http: {{port: {free_port()}, https_port: null}}\nems: {{cycle_s: 0.3}}\n"
        "sites: [{id: s, grid: {id: g, limit_a: 40, charge_points: [{id: CP1}]}}]\n")
    engine = _engine(config, notify)
    try:
        first = _messages(sock, 8)
        assert any(m.startswith("READY=1") for m in first), first
        pings = [m for m in first if m == "WATCHDOG=1"]
        assert len(pings) >= 6  # every 0.5 s (1.5 s / 3) once ready
        engine.send_signal(signal.SIGSTOP)  # frozen: no cycle completes
        assert "WATCHDOG=1" not in _messages(sock, 1.6)  # WatchdogSec passes in silence
        engine.kill()  # what systemd does on a watchdog timeout (SIGABRT, then KILL)
        engine.wait(10)
        engine = _engine(config, notify)  # Restart=always
        again = _messages(sock, 8)
        assert any(m.startswith("READY=1") for m in again) and "WATCHDOG=1" in again
        engine.terminate()
        assert "STOPPING=1" in _messages(sock, 3)
        assert engine.wait(20) == 0
    finally:
        if engine.poll() is None:
            engine.kill()
        sock.close()


def test_clock_trust_follows_the_ntp_status() -> None:
    status = {"synced": None}
    asked = []
    clock = FakeClock()

    def kernel() -> bool | None:
        asked.append(1)
        return status["synced"]

    trust = ClockTrust("ntp", kernel, max_age_s=5, monotonic=clock.monotonic)
    assert not trust.trusted()  # unknown is not trusted
    status["synced"] = False
    clock.advance(5)
    assert not trust.trusted()
    status["synced"] = True
    assert not trust.trusted()  # asked every cycle, the kernel at most every 5 s
    assert len(asked) == 2
    clock.advance(5)
    assert trust.trusted() and len(asked) == 3
    assert ClockTrust("trust", lambda: False).trusted()  # an RTC the operator vouches for
    assert kernel_synchronised() in (True, False, None)  # the real kernel answers


async def test_an_untrusted_clock_holds_every_connector_at_its_fallback(
        tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, three(limit=63, fallback=40))) as site:
        synced = {"ok": False}
        site.loop.clock_trusted = lambda: synced["ok"]
        await plug_all(site)
        await asyncio.sleep(8)
        held = site.trace.cars_at(time.monotonic() - 0.2)
        fallbacks = dict(site.loop.fallbacks.sent)
        assert fallbacks and all(held[cp] <= fallbacks[f"{cp}/1"] + 0.01 for cp in held)
        assert site.loop.record["inputs"]["clock_trusted"] is False  # said in the record
        synced["ok"] = True  # NTP answers: the dynamic limits come back
        await asyncio.sleep(REACTION_S + 4)
        freed = site.trace.cars_at(time.monotonic() - 0.2)
        assert sum(freed.values()) > sum(held.values()) + 5, (held, freed)
        assert not site.sim.report.trips



TAKEOVER_SITE = """
hub: {data_dir: %s}
ocpp: {host: 127.0.0.1, ws_port: WS_PORT, wss_port: 0, tls: "off", boot_spread_s: 0,
       accept_all_id_tags: true, call_timeout_s: 5}
http: {host: 127.0.0.1, port: 0, https_port: %s}
ems: {cycle_s: 0.5, commissioning: "off", unverified_models: trust, profile_validity_s: 30}
ops: {clock: trust}
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
sites:
  - id: s
    grid: {id: grid, limit_a: 63, meter: m, meter_fallback_load_a: 40,
           charge_points: [{id: CP1}]}
"""


class Field:
    """Simulated charge points on a loop of their own: they outlive the engine."""

    def __init__(self) -> None:
        import threading

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def call(self, coro, timeout_s: float = 60):  # type: ignore[no-untyped-def]
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def test_a_new_engine_takes_over_while_cars_charge(tmp_path: Path) -> None:
    """The update path: the running engine stops, the new one starts on the same data;
    the charge point reconnects, its session goes on, and it never leaves its dynamic
    limit (32 A) for its fallback (63 − 40 = 23 A) because the takeover is shorter than
    the dynamic profile's validity (30 s)."""
    import threading

    from hub_engine.sim.chargepoint import SimConfig
    from hub_engine.sim.ev import EV
    from hub_engine.sim.runner import SimRunner
    from tests.integration.api_fixtures import Hub

    port = free_port()
    site = TAKEOVER_SITE.replace("WS_PORT", str(port))
    old = Hub(tmp_path, site=site)
    field = Field()
    runner = SimRunner(SimConfig("CP1", meter_interval_s=1.0), f"ws://127.0.0.1:{port}",
                       tick_s=0.2)
    field.loop.call_soon_threadsafe(lambda: field.loop.create_task(runner.run()))
    new: Hub | None = None
    seen: list[float] = []
    watching = threading.Event()
    try:
        field.call(asyncio.wait_for(runner.connected.wait(), 30))
        assert runner.cp is not None
        cp = runner.cp
        tx = field.call(cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="T1"))
        deadline = time.monotonic() + 20
        while cp.connectors[1].applied_a < 31.9 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert cp.connectors[1].applied_a == pytest.approx(32.0)
        assert field.call(_fallback(cp)) == pytest.approx(23.0)  # what expiry would give

        def watch() -> None:
            while not watching.is_set():
                seen.append(cp.connectors[1].applied_a)
                time.sleep(0.05)
        threading.Thread(target=watch, daemon=True).start()
        started = time.monotonic()
        old.stop()
        new = Hub(tmp_path, site=site)  # the new version, same data, same ports
        deadline = time.monotonic() + 30
        while runner.connections < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        took = time.monotonic() - started
        assert runner.connections == 2 and took < 30, took
        time.sleep(5)  # the new engine's cycles run and refresh the limit
        watching.set()
        assert min(seen) >= 31.9, min(seen)  # never on its fallback
        assert cp.connectors[1].transaction_id == tx  # the session went on
        open_tx = new.app.store.rows("SELECT id FROM transactions WHERE stopped_at IS NULL")
        assert [r[0] for r in open_tx] == [tx]
        print(f"takeover: charge point back on the new engine after {took:.1f} s")
    finally:
        watching.set()
        field.loop.call_soon_threadsafe(runner.stop)
        if new is not None:
            new.stop()
        else:
            old.stop()
        field.stop()


async def _fallback(cp) -> float:  # type: ignore[no-untyped-def]
    """The limit the charge point would apply with its dynamic profile expired."""
    from hub_engine.ocpp.schedule import field_of

    fallback = [p for p in cp.profiles.get(1, []) if field_of(p, "stackLevel") == 0]
    schedule = field_of(fallback[0], "chargingSchedule")
    return float(field_of(field_of(schedule, "chargingSchedulePeriod")[0], "limit"))


def test_a_failing_ems_cycle_starves_the_watchdog_while_the_rest_lives(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Only a completed EMS cycle feeds the watchdog: if the cycle keeps failing the pings
    stop although the API still answers, so systemd restarts an engine that no longer
    manages the site."""
    import requests

    from tests.integration.api_fixtures import Hub

    notify = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(notify))
    sock.settimeout(0.2)
    monkeypatch.setenv("NOTIFY_SOCKET", str(notify))
    monkeypatch.setenv("WATCHDOG_USEC", "900000")
    hub = Hub(tmp_path)
    try:
        assert "WATCHDOG=1" in _messages(sock, 2)

        def broken() -> None:
            raise RuntimeError("a bug in the allocation")
        hub.app.ems.cycle = broken  # type: ignore[method-assign]
        _messages(sock, 0.5)  # drain
        assert "WATCHDOG=1" not in _messages(sock, 2)
        assert requests.get(f"{hub.url}/health", timeout=5).ok  # the process is alive
    finally:
        hub.stop()
        sock.close()
