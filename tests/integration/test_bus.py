"""The bus over real ZeroMQ ipc sockets against a whole hub: events from a charge point,
the EMS state, commands with tokens and roles, idempotent command ids, limits with a
mandatory expiry, snapshots and sequence numbers; the shared JSON fixtures."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
import zmq

from hub_engine.bus.envelope import decode_command, envelope
from hub_engine.sim.chargepoint import EV
from tests.integration.api_fixtures import Hub, hub_api

__all__ = ["hub_api"]

FIXTURES = Path(__file__).parents[2] / "python-nodes" / "fixtures"


@pytest.mark.parametrize("name", sorted(p.name for p in FIXTURES.glob("*.json")))
def test_the_shared_fixtures_are_valid_envelopes(name: str) -> None:
    raw = (FIXTURES / name).read_bytes()
    msg = envelope(raw)
    if msg["type"] == "command":
        assert decode_command(raw).command == "ems.limit.set"
    else:
        assert set(msg) == {"v", "type", "id", "seq", "ts", "data"}


class Client:
    def __init__(self, hub: Hub) -> None:
        self.ctx = zmq.Context()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.connect(hub.app.bus.pub_endpoint)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.dealer = self.ctx.socket(zmq.DEALER)
        self.dealer.connect(hub.app.bus.router_endpoint)
        self.dealer.setsockopt(zmq.RCVTIMEO, 10000)

    def command(self, token: str, command: str, args: dict[str, Any] | None = None,
                cid: str | None = None) -> dict[str, Any]:
        msg = {"v": 1, "type": "command", "id": cid or uuid.uuid4().hex, "token": token,
               "command": command, "args": args or {}}
        self.dealer.send(json.dumps(msg).encode())
        return envelope(self.dealer.recv())

    def events(self, seconds: float) -> list[tuple[str, dict[str, Any]]]:
        out, end = [], time.monotonic() + seconds
        while time.monotonic() < end:
            if self.sub.poll(100):
                topic, raw = self.sub.recv_multipart()
                out.append((topic.decode(), envelope(raw)))
        return out

    def close(self) -> None:
        self.ctx.destroy(0)


def test_events_states_and_commands(hub_api: Hub) -> None:
    operator = hub_api.send("POST", "/tokens", json={"name": "node-red", "role": "operator"}
                            ).json()["token"]
    reader = hub_api.send("POST", "/tokens", json={"name": "viewer", "role": "reader"}
                          ).json()["token"]
    client = Client(hub_api)
    try:
        assert client.command(operator, "ping")["data"]["pong"] is True
        runner = hub_api.charge_point("CP1")
        seen = client.events(3)
        topics = {t for t, _ in seen}
        assert "event.cp.CP1.boot" in topics and "state.ems.site" in topics
        seqs = [m["seq"] for _, m in seen]
        assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)  # gaps would show
        hub_api.loop.call_soon_threadsafe(  # any EMS alert (devices' too) is published
            hub_api.app.ems._alert, "device.lost", "tgbt", {"reason": "timeout"})
        alerts = [m for t, m in client.events(2) if t == "alert.device.lost"]
        assert alerts and alerts[0]["data"] == {"target": "tgbt", "reason": "timeout"}
        snap = client.command(reader, "state.snapshot")["data"]
        assert snap["states"]["state.ems.site"]["data"]["connectors"]
        assert snap["seq"] >= seqs[-1]
        now = client.command(reader, "state.live")["data"]  # the dashboard's own data
        assert now == {**hub_api.get("/live").json(), "time": now["time"]} | {
            "connectors": now["connectors"]}
        cp1 = [c for c in now["connectors"] if c["charge_point"] == "CP1"]
        assert cp1 and cp1[0]["online"] is True and cp1[0]["status"] == "Available"

        bad = client.command("hub_nope", "ping")
        assert bad["type"] == "error" and bad["data"]["code"] == "unauthorized"
        refused = client.command(reader, "ems.limit.set", {"target": "parking", "limit_a": 6,
                                                           "expires_in_s": 60})
        assert refused["data"]["code"] == "forbidden"
        no_expiry = client.command(operator, "ems.limit.set", {"target": "parking",
                                                               "limit_a": 6})
        assert no_expiry["data"]["code"] == "bad_args" and "expiry" in no_expiry["data"][
            "message"]
        raw_profile = client.command(operator, "cp.command", {
            "name": "set_charging_profile", "charge_point": "CP1", "params": {}})
        assert raw_profile["data"]["code"] == "unknown_command"
        unknown_target = client.command(operator, "ems.limit.set", {
            "target": "nowhere", "limit_a": 6, "expires_in_s": 60})
        assert unknown_target["data"]["code"] == "refused"

        args = {"target": "parking", "limit_a": 10, "expires_in_s": 3}
        first = client.command(operator, "ems.limit.set", args, cid="flow-1")
        assert first["type"] == "reply" and first["id"] == "flow-1"
        assert first["data"]["source"] == "bus:token:node-red"
        again = client.command(operator, "ems.limit.set", {**args, "limit_a": 99},
                               cid="flow-1")
        assert again == first  # a retried id: the same answer, not a second limit
        limits = hub_api.get("/ems/limits").json()
        assert [(x["target"], x["limit_a"]) for x in limits] == [("parking", 10.0)]
        time.sleep(4)  # the expiry releases it
        assert hub_api.get("/ems/limits").json() == []
        prio = client.command(operator, "ems.priority.set", {
            "target": "parking", "tier": 4, "expires_in_s": 60})
        assert prio["type"] == "reply", prio
        assert hub_api.app.ems.priorities.tiers() == {"CP1/1": 4, "CP2/1": 4}  # under parking
        assert client.command(operator, "ems.priority.set", {
            "target": "parking", "tier": 4})["data"]["code"] == "bad_args"  # no expiry
        assert client.command(reader, "ems.priority.set", {
            "target": "parking", "tier": 4, "expires_in_s": 60})["data"]["code"] == "forbidden"
        assert client.command(operator, "ems.priority.clear", {"target": "parking"}
                              )["data"] == {"cleared": True}
        assert hub_api.app.ems.priorities.tiers() == {}
        trigger = client.command(operator, "cp.command", {
            "name": "trigger_message", "charge_point": "CP1",
            "params": {"requested_message": "Heartbeat"}})
        assert trigger["data"]["outcome"] == "accepted"
        assert runner.cp is not None
        hub_api.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="BADGE9"))
        seen = dict(client.events(2.5))
        assert seen["event.cp.CP1.authorize"]["data"] == {"id_tag": "BADGE9",
                                                         "status": "Accepted"}
        started = seen["event.cp.CP1.session.started"]["data"]
        assert started["id_tag"] == "BADGE9" and started["status"] == "Accepted"
        meter = seen["event.cp.CP1.meter"]["data"]
        assert meter["connector_id"] == 1 and meter["energy_wh"] >= 0
        assert meter["current_a"][0] is not None
        garbage_socket = client.ctx.socket(zmq.DEALER)
        garbage_socket.connect(hub_api.app.bus.router_endpoint)
        garbage_socket.setsockopt(zmq.RCVTIMEO, 10000)
        garbage_socket.send(b"{not json")
        assert envelope(garbage_socket.recv())["data"]["code"] == "bad_json"
        assert client.command(operator, "ping")["type"] == "reply"  # the bus lives on
    finally:
        client.close()


def test_hostile_messages_get_an_answer_and_the_bus_lives_on(hub_api: Hub) -> None:
    """Deep nesting raised RecursionError in the decoder: no answer ever came and the
    client hung. Every bad message gets an error naming what is wrong."""
    client = Client(hub_api)
    try:
        token = hub_api.token("operator")
        deep = b'{"v": 1, "type": "command", "id": "d1", "args": ' + b"[" * 5000 + \
            b"]" * 5000 + b"}"
        nested = {"v": 1, "type": "command", "id": "d2", "token": token,
                  "command": "ping", "args": {"a": _nest(20)}}
        huge = {"v": 1, "type": "command", "id": "d3", "token": token, "command": "ping",
                "args": {"pad": "x" * (2 << 20)}}
        for raw, code in ((deep, "bad_json"), (json.dumps(nested).encode(), "bad_json"),
                          (json.dumps(huge).encode(), "too_large")):
            client.dealer.send(raw)
            answer = envelope(client.dealer.recv())
            assert answer["type"] == "error" and answer["data"]["code"] == code, answer
            assert ("deeper than 16" if code == "bad_json" else "limit") in \
                answer["data"]["message"]
        assert client.command(token, "ping")["type"] == "reply"
    finally:
        client.close()


def _nest(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value
