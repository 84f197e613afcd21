"""A stand-in for the engine's bus in the node tests: the shared fixtures published on
PUB, commands answered on ROUTER (``fake.received`` lists the commands seen so far).

    python fake_engine.py <dir>   → binds ipc://<dir>/bus-{events,commands}.sock
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import zmq

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
LIVE = {"time": "2026-11-29T15:00:01Z", "local_time": "2026-11-29T16:00:01+01:00",
        "cycle_ms": 1.0, "sessions_active": 1, "external_limits": [], "fire_alarm": False,
        "sites": [{"id": "s", "name": "s", "node": "grid", "limit_a": 100.0,
                   "voltage_v": 230.0, "meter_current_a": [40.0, 30.0, 20.0],
                   "meter_status": "fresh", "charging_a": [16.0, 16.0, 16.0],
                   "capacity_a": [60.0, 70.0, 80.0]}],
        "connectors": [{"id": "CP-A01/1", "charge_point": "CP-A01", "connector": 1,
                        "online": True, "status": "Charging", "limit_a": 16.0,
                        "reason": "fair share", "measured_a": [16.0, 16.0, 16.0],
                        "max_current_a": 32.0,
                        "session": {"id": 7, "id_tag": "B1", "energy_wh": 1234.7}}]}


def main() -> None:
    where = Path(sys.argv[1])
    ctx = zmq.Context()
    pub, router = ctx.socket(zmq.PUB), ctx.socket(zmq.ROUTER)
    pub.bind(f"ipc://{where / 'bus-events.sock'}")
    router.bind(f"ipc://{where / 'bus-commands.sock'}")
    status = json.loads((FIXTURES / "event-status.json").read_text())
    state = json.loads((FIXTURES / "state-ems-site.json").read_text())
    received: list[dict[str, object]] = []
    seq, next_pub = 100, 0.0
    print("ready", flush=True)
    while True:
        if router.poll(50):
            client, raw = router.recv_multipart()
            cmd = json.loads(raw)
            if cmd["command"] != "ping":
                received.append(cmd)
            if cmd.get("token") != "hub_test":
                data, kind = {"code": "unauthorized", "message": "a valid API token is "
                              "required"}, "error"
            elif cmd["command"] == "fake.received":
                data, kind = {"received": received[:-1]}, "reply"
            elif cmd["command"] == "state.live":
                data, kind = LIVE, "reply"
            elif cmd["command"] == "state.snapshot":
                data, kind = {"seq": seq, "states": {"state.ems.site": {
                    "seq": seq, "data": state["data"]}}}, "reply"
            elif cmd["command"] == "cp.command" and cmd["args"].get("charge_point") == "NOPE":
                data, kind = {"code": "refused", "message": "no charge point NOPE"}, "error"
            else:
                data, kind = {"pong": True} if cmd["command"] == "ping" else {
                    "echo": cmd["args"]}, "reply"
            router.send_multipart([client, json.dumps(
                {"v": 1, "type": kind, "id": cmd["id"], "seq": seq, "ts": time.time(),
                 "data": data}).encode()])
        if time.monotonic() >= next_pub:
            next_pub = time.monotonic() + 0.2
            for topic, env in (("event.cp.CP-A01.status", status),
                               ("state.ems.site", state)):
                seq += 1
                pub.send_multipart([topic.encode(), json.dumps({**env, "seq": seq}).encode()])


if __name__ == "__main__":
    main()
