"""Engine → Node-RED node → engine: an event published on the engine's bus, received by
a *hub events* node, turned into a command by a *change* node and sent back by a *hub
command* node, timed from the engine's publish to the engine's dispatch of the command.

    python -m bench.nodered_latency [--count 1000]

A whole engine (tests' site) runs in this process; Node-RED 5 (node_modules, Node 24)
runs the three-node flow with the hub nodes (Python child through python-shell). One
event at a time, so the figure is latency, not throughput. Beside it, in the same run,
a bare pyzmq client doing the same hop (SUB → DEALER) shows what Node-RED adds. Writes
bench/results/nodered_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import zmq

from bench.bus_latency import _percentiles

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).parent / "results" / "nodered_latency.json"
FLOW = [
    {"id": "cfg", "type": "hub-config", "name": "hub", "dataDir": "", "events": "",
     "commands": "", "python": "", "timeoutS": 5},
    {"id": "tab", "type": "tab", "label": "bench"},
    {"id": "ev", "type": "hub-events", "z": "tab", "hub": "cfg", "topics": "event.bench.*",
     "chargePoint": "", "wires": [["back"]]},
    {"id": "back", "type": "change", "z": "tab", "rules": [
        {"t": "set", "p": "payload", "pt": "msg", "tot": "jsonata",
         "to": '{"command": "ping", "args": {"t_ns": payload.t_ns}}'}], "wires": [["cmd"]]},
    {"id": "cmd", "type": "hub-command", "z": "tab", "hub": "cfg", "command": "",
     "chargePoint": "", "commandName": "", "wires": [[]]},
]


def _measure(hub: Any, count: int, label: str) -> list[float]:
    """Publish ``count`` bench events one at a time; the time until each comes back."""
    bus, back = hub.app.bus, {}
    done = threading.Event()
    original = bus._dispatch

    async def dispatch(cmd: Any, who: Any) -> dict[str, Any]:
        t_ns = cmd.args.get("t_ns") if cmd.command == "ping" else None
        if isinstance(t_ns, int):
            back[t_ns] = time.perf_counter_ns()
            done.set()
        return await original(cmd, who)

    bus._dispatch = dispatch
    times: list[float] = []
    try:
        deadline = time.monotonic() + 60
        while not back:  # until the path is up (Node-RED started, nodes connected)
            if time.monotonic() > deadline:
                raise SystemExit(f"{label}: no event came back in 60 s")
            hub.loop.call_soon_threadsafe(bus.publish, "event.bench.ping", "event",
                                          {"t_ns": time.perf_counter_ns()})
            time.sleep(0.2)
        time.sleep(0.5)
        for _ in range(count):
            done.clear()
            t_ns = time.perf_counter_ns()
            hub.loop.call_soon_threadsafe(bus.publish, "event.bench.ping", "event",
                                          {"t_ns": t_ns})
            if done.wait(5) and t_ns in back:
                times.append((back[t_ns] - t_ns) / 1e6)
    finally:
        bus._dispatch = original
    return times


def _bare_client(hub: Any, token: str, stop: threading.Event) -> None:
    ctx = zmq.Context()
    sub, dealer = ctx.socket(zmq.SUB), ctx.socket(zmq.DEALER)
    sub.connect(hub.app.bus.pub_endpoint)
    sub.setsockopt(zmq.SUBSCRIBE, b"event.bench.")
    dealer.connect(hub.app.bus.router_endpoint)
    while not stop.is_set():
        if sub.poll(100):
            _, raw = sub.recv_multipart()
            t_ns = json.loads(raw)["data"]["t_ns"]
            dealer.send(json.dumps({"v": 1, "type": "command", "id": uuid.uuid4().hex,
                                    "token": token, "command": "ping",
                                    "args": {"t_ns": t_ns}}).encode())
        while dealer.poll(0):
            dealer.recv()
    ctx.destroy(0)


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    args = parser.parse_args(argv)
    from tests.integration.api_fixtures import Hub

    rows: dict[str, Any] = {"count": args.count}
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "hub").mkdir()
        hub = Hub(Path(tmp) / "hub")
        try:
            token = hub.send("POST", "/tokens", json={"name": "bench", "role": "operator"}
                             ).json()["token"]
            stop = threading.Event()
            bare = threading.Thread(target=_bare_client, args=(hub, token, stop))
            bare.start()
            rows["bare_pyzmq_client"] = _percentiles(_measure(hub, args.count, "bare"))
            stop.set()
            bare.join()
            flows = Path(tmp) / "flows.json"
            flows.write_text(json.dumps(FLOW))
            data_dir = Path(hub.app.config.hub.data_dir)
            nr = subprocess.Popen(
                [str(ROOT / "node_modules/.bin/node"), str(ROOT / "node_modules/node-red/red.js"),
                 "--settings", str(ROOT / "settings.js")], cwd=ROOT,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**os.environ, "NODE_RED_USER_DIR": str(Path(tmp) / "nr"),
                     "NODE_RED_FLOW_FILE": str(flows), "NODE_RED_PORT": "0",
                     "HUB_DATA_DIR": str(data_dir), "HUB_BUS_TOKEN": token})
            try:
                started = time.monotonic()
                times = _measure(hub, args.count, "node-red")
                rows["node_red_hub_nodes"] = _percentiles(times)
                rows["node_red_hub_nodes"]["answered"] = len(times)
                rows["path_up_after_s"] = round(time.monotonic() - started, 1)
            finally:
                nr.terminate()
                nr.wait(10)
        finally:
            hub.stop()
    for name in ("bare_pyzmq_client", "node_red_hub_nodes"):
        r = rows[name]
        print(f"{name:<20} p50 {r['p50_ms']:.2f} ms  p99 {r['p99_ms']:.2f} ms  "
              f"max {r['max_ms']:.2f} ms")
    RESULTS.write_text(json.dumps({"benchmark": "nodered_latency", **rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
