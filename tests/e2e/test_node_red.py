"""Node-RED end to end, every piece a real process: the engine, Node-RED 5 with the
shipped flows (flows/flows.json) and the hub nodes, a simulated PLC over Modbus TCP,
Debian's mosquitto, mbpoll and mosquitto_sub, simulated charge points over websockets,
and a webhook receiver. Then Node-RED is killed (the EMS runs on) and the engine
restarted (the nodes reconnect)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest

from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.runner import SimRunner
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
NODE = ROOT / "node_modules" / ".bin" / "node"
SITE = """\
hub: {{data_dir: {data}}}
ocpp: {{host: 127.0.0.1, ws_port: {ws}, tls: 'off', boot_spread_s: 0.2,
        unknown_charge_points: accept, accept_all_id_tags: true}}
http: {{port: {http}, https_port: null}}
ops: {{clock: trust}}
ems: {{commissioning: "off", unverified_models: trust}}
sites:
  - id: office
    grid:
      id: tgbt
      limit_a: 100
      children:
        - id: td-irve
          limit_a: 63
          charge_points:
            - {{id: CP-A01, max_current_a: 32, phases: 3}}
            - {{id: CP-A02, max_current_a: 32, phases: 3}}
"""


def wait_for(check: Callable[[], Any], what: str, timeout_s: float = 30) -> Any:
    end = time.monotonic() + timeout_s
    while True:
        try:
            got = check()
        except Exception:  # a peer not up yet
            got = None
        if got:
            return got
        if time.monotonic() > end:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.3)


class Webhook(BaseHTTPRequestHandler):
    received: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Webhook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


class Site:
    """The processes and ports of one run."""

    def __init__(self, tmp: Path) -> None:
        self.tmp, self.data = tmp, tmp / "data"
        self.ports = {k: free_port() for k in ("ws", "http", "plc", "gtb", "mqtt", "nr",
                                               "hook")}
        self.config = tmp / "hub.yaml"
        self.config.write_text(SITE.format(data=self.data, ws=self.ports["ws"],
                                           http=self.ports["http"]))
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.loop = asyncio.new_event_loop()
        threading.Thread(target=self.loop.run_forever, daemon=True).start()
        self.runners: dict[str, SimRunner] = {}

    def spawn(self, name: str, args: list[str], **env: str) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(args, cwd=ROOT, stdout=log, stderr=log,
                                            env={**os.environ, **env})

    def engine(self) -> None:
        self.spawn("engine", [sys.executable, "-m", "hub_engine", "run", "--config",
                              str(self.config)])

    def node_red(self) -> None:
        flows = self.tmp / "flows.json"
        shutil.copy(ROOT / "flows" / "flows.json", flows)
        p = self.ports
        self.spawn("node-red", [str(NODE), str(ROOT / "node_modules/node-red/red.js"),
                                "--settings", str(ROOT / "settings.js")],
                   NODE_RED_USER_DIR=str(self.tmp / "nr"), NODE_RED_PORT=str(p["nr"]),
                   NODE_RED_FLOW_FILE=str(flows), HUB_DATA_DIR=str(self.data),
                   PLC_PORT=str(p["plc"]), GTB_PORT=str(p["gtb"]), MQTT_PORT=str(p["mqtt"]),
                   ALERT_WEBHOOK_URL=f"http://127.0.0.1:{p['hook']}/alerts",
                   ENTRANCE_CP="CP-A01", BARRIER_OPEN_S="3", DUSK_HOUR="0", DAWN_HOUR="0",
                   SOLAR_CAP_TARGET="td-irve", SOLAR_CAP_A="6", SOLAR_CAP_EXPIRES_S="5")

    def call(self, coro: Any, timeout_s: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def charge_point(self, cp_id: str) -> SimRunner:
        runner = SimRunner(SimConfig(cp_id, max_current_a=32, meter_interval_s=1.0),
                           f"ws://127.0.0.1:{self.ports['ws']}", tick_s=0.5)
        self.runners[cp_id] = runner
        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(runner.run()))
        return runner

    def stop(self) -> None:
        for runner in self.runners.values():
            runner.stop()
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        self.loop.call_soon_threadsafe(self.loop.stop)


def coils(port: int) -> list[int]:
    out = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-t", "0", "-r", "1",
                          "-c", "2", "-1", "127.0.0.1"], capture_output=True, text=True,
                         timeout=10).stdout
    return [int(line.split()[-1]) for line in out.splitlines() if line.startswith("[")]


def holding(port: int, first: int, count: int) -> list[int]:
    """0-based addresses (mbpoll counts from 1); raw unsigned words."""
    out = subprocess.run(["mbpoll", "-m", "tcp", "-p", str(port), "-t", "4:hex", "-r",
                          str(first + 1), "-c", str(count), "-1", "127.0.0.1"],
                         capture_output=True, text=True, timeout=10).stdout
    words = [int(line.split()[-1], 16) for line in out.splitlines() if line.startswith("[")]
    assert len(words) == count, out
    return words


def api(site: Site, token: str, path: str) -> Any:
    req = urllib.request.Request(f"http://127.0.0.1:{site.ports['http']}/api/v1{path}",
                                 headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    for tool in ("mosquitto", "mosquitto_sub", "mbpoll"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing: `make test` installs it (tests/debian-packages.txt)")
    if not NODE.exists():
        pytest.fail("Node-RED is not installed: `make nodered`")
    s = Site(tmp_path_factory.mktemp("nodered"))
    hook = ThreadingHTTPServer(("127.0.0.1", s.ports["hook"]), Webhook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    try:
        (s.tmp / "mosquitto.conf").write_text(
            f"listener {s.ports['mqtt']} 127.0.0.1\nallow_anonymous true\n")
        s.spawn("mosquitto", ["mosquitto", "-c", str(s.tmp / "mosquitto.conf")])
        s.spawn("plc", [sys.executable, "-m", "hub_engine.sim.plc", "--port",
                        str(s.ports["plc"]), "--coil", "0=barrier", "--coil", "1=lights"])
        token = s.data / "node-red.token"
        subprocess.run([sys.executable, "-m", "hub_engine", "admin", "create-token",
                        "node-red", "--role", "operator", "--out", str(token), "--config",
                        str(s.config)], cwd=ROOT, check=True, capture_output=True)
        s.reader = subprocess.run(  # type: ignore[attr-defined]
            [sys.executable, "-m", "hub_engine", "admin", "create-token", "test", "--role",
             "reader", "--config", str(s.config)], cwd=ROOT, check=True,
            capture_output=True, text=True).stdout.strip()
        s.engine()
        s.node_red()
        for cp_id in ("CP-A01", "CP-A02"):
            s.charge_point(cp_id)
        yield s
    finally:
        s.stop()
        hook.shutdown()


def test_the_shipped_scenarios(site: Site) -> None:
    reader = site.reader  # type: ignore[attr-defined]
    p = site.ports
    # GTB: the Modbus server is up once Node-RED has started its flows and heard the engine
    wait_for(lambda: holding(p["gtb"], 0, 1) == [1], "the GTB table", 60)
    sub = subprocess.Popen(["mosquitto_sub", "-p", str(p["mqtt"]), "-t", "chargehub/#", "-v",
                            "-W", "40"], stdout=subprocess.PIPE, text=True)
    time.sleep(1.0)
    wait_for(lambda: all(r.connected.is_set() for r in site.runners.values()), "charge points")

    # 1 barrier: a badge at the entrance → coil 0 ON, then OFF after BARRIER_OPEN_S
    assert coils(p["plc"]) == [0, 0]
    cp1 = site.runners["CP-A01"].cp
    assert cp1 is not None
    site.call(cp1.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="BADGE-1"))
    wait_for(lambda: coils(p["plc"])[0] == 1, "the barrier to open", 10)
    # 2 lighting: a session is active and it is "after dusk" (DUSK_HOUR=0) → lights ON
    wait_for(lambda: coils(p["plc"])[1] == 1, "the lights", 40)
    wait_for(lambda: coils(p["plc"])[0] == 0, "the barrier to close", 10)

    # 3 GTB: the registers carry what the engine has
    def gtb_matches() -> bool:
        live = api(site, reader, "/live")
        regs = holding(p["gtb"], 0, 14)
        conn = holding(p["gtb"], 100, 10)
        c = next(x for x in live["connectors"] if x["id"] == "CP-A01/1")
        return (regs[4] * 65536 + regs[5] == 100 * 230 * 3
                and regs[10] == live["sessions_active"] == 1 and regs[11] == 2
                and conn[0] == 3 and conn[1] == 1 and conn[7] == 1
                and conn[4] == round(c["limit_a"] * 10))
    wait_for(gtb_matches, "the GTB table to match GET /live", 20)

    # 6 + hub limit: the morning cap (6 A, 5 s) lowers the car's setpoint, then it expires
    def setpoint() -> float:
        return float(cp1.schedule_limit(cp1.connectors[1]))
    wait_for(lambda: setpoint() > 6, "a setpoint above 6 A", 20)
    nr = f"http://127.0.0.1:{p['nr']}"
    password = (site.tmp / "nr" / "initial-admin-password").read_text().strip()
    req = urllib.request.Request(f"{nr}/auth/token", data=json.dumps({
        "client_id": "node-red-admin", "grant_type": "password", "scope": "*",
        "username": "admin", "password": password}).encode(),
        headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        admin = json.loads(resp.read())["access_token"]
    urllib.request.urlopen(urllib.request.Request(
        f"{nr}/inject/s6cron", method="POST", headers={"Authorization": f"Bearer {admin}"}),
        timeout=10)
    wait_for(lambda: setpoint() <= 6.0, "the cap to reach the charge point", 10)
    assert [x["target"] for x in api(site, reader, "/ems/limits")] == ["td-irve"]
    wait_for(lambda: setpoint() > 6.0, "the setpoint back after expiry", 20)

    # 4 MQTT: events, the retained live state, and a command answered on /reply
    subprocess.run(["mosquitto_pub", "-p", str(p["mqtt"]), "-t", "chargehub/command", "-m",
                    json.dumps({"command": "ping"})], check=True, timeout=10)
    time.sleep(12)
    sub.terminate()
    lines = sub.communicate(timeout=10)[0].splitlines()
    topics = {line.split(" ", 1)[0] for line in lines}
    assert "chargehub/event/cp/CP-A01/session/started" in topics, sorted(topics)[:20]
    assert "chargehub/event/cp/CP-A01/meter" in topics
    assert "chargehub/state/live" in topics
    replies = [json.loads(line.split(" ", 1)[1]) for line in lines
               if line.startswith("chargehub/reply ")]
    assert {"pong": True} in [{k: v for k, v in r.items() if k == "pong"} for r in replies]

    # 5 webhook: an alert from the engine is POSTed (a charge point's connection lost)
    runner = site.runners.pop("CP-A02")
    runner.stop()
    assert runner.cp is not None
    site.call(runner.cp._connection.close())
    hook = wait_for(lambda: [a for a in Webhook.received if a["alert"] == "cp.offline"],
                    "the webhook", 15)
    assert hook[0]["detail"] == {"target": "CP-A02"} and hook[0]["seq"] > 0


def test_engine_restart_then_node_red_killed(site: Site) -> None:
    p = site.ports
    before = holding(p["gtb"], 1, 1)[0]
    wait_for(lambda: holding(p["gtb"], 1, 1)[0] != before, "the GTB heartbeat", 10)
    engine = site.procs["engine"]
    engine.send_signal(signal.SIGTERM)
    engine.wait(30)
    time.sleep(3)
    stalled = holding(p["gtb"], 1, 1)[0]
    time.sleep(3)
    assert holding(p["gtb"], 1, 1)[0] == stalled, "no engine, yet the table was refreshed"
    site.engine()
    wait_for(lambda: holding(p["gtb"], 1, 1)[0] != stalled, "the nodes to reconnect", 40)
    assert holding(p["gtb"], 10, 1)[0] == 1  # the session goes on in the new engine

    site.procs["node-red"].kill()
    site.procs["node-red"].wait(10)
    reader = site.reader  # type: ignore[attr-defined]
    first = api(site, reader, "/system")["ems_cycles"]
    wait_for(lambda: api(site, reader, "/system")["ems_cycles"] > first + 2,
             "EMS cycles without Node-RED", 15)
    live = api(site, reader, "/live")
    assert next(c for c in live["connectors"] if c["id"] == "CP-A01/1")["limit_a"] > 0
