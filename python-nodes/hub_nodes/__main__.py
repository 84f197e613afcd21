"""The child process of one hub config node: JSON lines in (config, add, input, remove),
JSON lines out (status, send, done, log). Run unbuffered (``python -u -m hub_nodes``).

The first line is the config: ``{"op": "config", "events", "commands", "token"}`` (the
token comes over stdin, never on the command line where ``ps`` would show it).
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

import zmq

from hub_nodes.client import BusClient
from hub_nodes.nodes import KINDS, Node, NodeError


def emit(msg: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(msg, separators=(",", ":")) + "\n")
    sys.stdout.flush()


class Bridge:
    def __init__(self, config: dict[str, Any]) -> None:
        self.nodes: dict[str, Node] = {}
        self.bus = BusClient(str(config["events"]), str(config["commands"]),
                             str(config.get("token") or ""), self._published, self._status,
                             timeout_s=float(config.get("timeoutS") or 5.0))
        self._status(False, "connecting")

    def _status(self, up: bool, text: str) -> None:
        emit({"op": "status", "connected": up, "text": text})

    def _published(self, topic: str, env: dict[str, Any], snapshot: bool) -> None:
        for node in list(self.nodes.values()):
            node.published(topic, env, snapshot)

    def line(self, raw: str) -> None:
        try:
            msg = json.loads(raw)
            op = msg["op"]
        except (ValueError, KeyError, TypeError):
            emit({"op": "log", "level": "warn", "text": f"unreadable line: {raw[:80]!r}"})
            return
        if op == "add":
            kind = KINDS.get(str(msg.get("kind")))
            if kind is None:
                emit({"op": "log", "level": "error", "text": f"no node kind {msg.get('kind')}"})
                return
            self.nodes[msg["node"]] = kind(msg["node"], msg.get("config") or {}, self.bus, emit)
        elif op == "remove":
            self.nodes.pop(msg.get("node"), None)
        elif op == "input":
            node = self.nodes.get(msg.get("node"))
            rid = str(msg.get("rid"))
            if node is None:
                emit({"op": "done", "node": msg.get("node"), "rid": rid,
                      "error": "node not registered"})
                return
            try:
                node.input(rid, msg.get("msg") or {})
            except NodeError as exc:
                node.done(rid, str(exc))


def main() -> None:
    # stdin read raw (os.read), never through sys.stdin's buffer: lines waiting in a
    # Python buffer would be invisible to the poll.
    stdin = sys.stdin.fileno()
    buffer = b""
    while b"\n" not in buffer:
        chunk = os.read(stdin, 65536)
        if not chunk:
            return
        buffer += chunk
    first, buffer = buffer.split(b"\n", 1)
    bridge = Bridge(json.loads(first))
    poller = zmq.Poller()
    poller.register(stdin, zmq.POLLIN)
    pending = [raw for raw in buffer.split(b"\n")]
    buffer = pending.pop()
    for raw in pending:
        if raw.strip():
            bridge.line(raw.decode())
    while True:
        for sock in bridge.bus.sockets():
            poller.register(sock, zmq.POLLIN)
        ready = dict(poller.poll(100))
        if stdin in ready:
            chunk = os.read(stdin, 65536)
            if not chunk:
                break  # Node-RED closed us: stop with it
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for raw in lines:
                if raw.strip():
                    bridge.line(raw.decode())
        bridge.bus.handle({s for s in bridge.bus.sockets() if s in ready})
        for sock in list(poller.sockets):
            if sock[0] is not stdin and sock[0] not in bridge.bus.sockets():
                poller.unregister(sock[0])  # a DEALER replaced after a timeout
    bridge.bus.close()


if __name__ == "__main__":
    main()
