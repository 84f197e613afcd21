"""What each hub node does, in Python; ``hub.js`` only carries messages to and from here.

A node gets its editor configuration once (``add``) and then each input message
(``input``, with a request id). It answers with ``send`` (an output message: the fields
to set on the input message, so an HTTP request's ``res`` survives) and ``done`` (with
the error, if any, for Catch nodes), both carrying the request id back.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from hub_nodes.client import BusClient
from hub_nodes.gtb import gtb_table

__all__ = ["KINDS", "Node", "NodeError"]

Emit = Callable[[dict[str, Any]], None]
MAX_EXPIRY_S = 7 * 24 * 3600


class NodeError(Exception):
    """A message the node cannot act on: reported to the flow (Catch), nothing sent."""


class Node:
    def __init__(self, node_id: str, config: dict[str, Any], bus: BusClient, emit: Emit
                 ) -> None:
        self.id, self.config, self.bus, self._emit = node_id, config, bus, emit

    def send(self, rid: str | None, msg: dict[str, Any]) -> None:
        self._emit({"op": "send", "node": self.id, "rid": rid, "msg": msg})

    def done(self, rid: str, error: str | None = None) -> None:
        self._emit({"op": "done", "node": self.id, "rid": rid, "error": error})

    def input(self, rid: str, msg: dict[str, Any]) -> None:
        raise NodeError("this node has no input")

    def published(self, topic: str, env: dict[str, Any], snapshot: bool) -> None:
        """A message from the bus (events nodes only)."""

    def ask(self, rid: str, command: str, args: dict[str, Any],
            shape: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> None:
        """Send a command; its reply (shaped) goes out on the output, an error to Catch."""
        def replied(env: dict[str, Any]) -> None:
            data = env.get("data") or {}
            if env.get("type") != "reply":
                self.done(rid, f"{command}: {data.get('code')}: {data.get('message')}")
                return
            self.send(rid, shape(data) if shape else {"payload": data})
            self.done(rid)
        self.bus.command(command, args, replied)


class Events(Node):
    """hub events: bus messages whose topic matches one of the node's patterns."""

    def __init__(self, *a: Any) -> None:
        super().__init__(*a)
        raw = str(self.config.get("topics") or "event.*, alert.*, state.*")
        self.patterns = [p.strip() for p in raw.replace("\n", ",").split(",") if p.strip()]
        self.charge_point = str(self.config.get("chargePoint") or "").strip()

    def published(self, topic: str, env: dict[str, Any], snapshot: bool) -> None:
        if self.charge_point and not topic.startswith(f"event.cp.{self.charge_point}."):
            return
        if not any(fnmatch.fnmatchcase(topic, p) for p in self.patterns):
            return
        hub = {k: env.get(k) for k in ("type", "seq", "ts", "id")}
        msg: dict[str, Any] = {"topic": topic, "payload": env.get("data"),
                               "hub": {**hub, "snapshot": snapshot}}
        parts = topic.split(".")
        if parts[:2] == ["event", "cp"] and len(parts) > 3:
            msg["chargePoint"] = parts[2]
            msg["event"] = ".".join(parts[3:])
        self.send(None, msg)


class Command(Node):
    """hub command: any engine command; for charge point commands, the name and charge
    point may come from the node or from the message."""

    def input(self, rid: str, msg: dict[str, Any]) -> None:
        payload = msg.get("payload")
        command = str(self.config.get("command") or "")
        if not command:
            if not isinstance(payload, dict) or not payload.get("command"):
                raise NodeError("no command: set one on the node or send "
                                "msg.payload = {command, args}")
            command, args = str(payload["command"]), payload.get("args") or {}
        elif command == "cp.command":
            params = payload if isinstance(payload, dict) else {}
            args = {"charge_point": msg.get("chargePoint") or self.config.get("chargePoint"),
                    "name": msg.get("commandName") or self.config.get("commandName"),
                    "params": params}
            if not args["charge_point"] or not args["name"]:
                raise NodeError("cp.command needs a charge point and a command name "
                                "(on the node, or msg.chargePoint and msg.commandName)")
        else:
            args = payload if isinstance(payload, dict) else {}
        if not isinstance(args, dict):
            raise NodeError("args: an object is expected")
        self.ask(rid, command, args)


class State(Node):
    """hub state: the live state (charge points, sessions, site), the EMS state, or the
    whole snapshot of the engine's states."""

    def input(self, rid: str, msg: dict[str, Any]) -> None:
        what = str(msg.get("query") or self.config.get("query") or "live")
        if what == "live":
            self.ask(rid, "state.live", {})
        elif what in ("ems", "snapshot"):
            def shape(data: dict[str, Any]) -> dict[str, Any]:
                if what == "snapshot":
                    return {"payload": data}
                site = data.get("states", {}).get("state.ems.site")
                return {"payload": site["data"] if site else None}
            self.ask(rid, "state.snapshot", {}, shape)
        else:
            raise NodeError(f"query {what!r}: live, ems or snapshot")


def _number(value: Any, name: str) -> float | None:
    if value is None or value == "":
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NodeError(f"{name}: a number is expected, not {value!r}") from None
    if number != number or number < 0:
        raise NodeError(f"{name}: a number ≥ 0 is expected, not {value!r}")
    return number


class Limit(Node):
    """hub limit: an extra EMS limit (or a priority tier) on a node of the site tree or
    a connector, always with an expiry, so that a flow that dies cannot pin the site. A
    number in msg.payload is the limit in the node's unit (the tier, in priority mode);
    an object overrides any field; no payload uses the node's own value; ``null`` or
    msg.topic ``clear`` withdraws the request before its expiry."""

    def input(self, rid: str, msg: dict[str, Any]) -> None:
        cfg, payload = self.config, msg.get("payload")
        fields = payload if isinstance(payload, dict) else {}
        target = str(fields.get("target") or msg.get("target") or cfg.get("target") or "")
        if not target:
            raise NodeError("no target: a site, board, group or connector id (CP-1/1)")
        source = str(cfg.get("source") or f"node-red:{cfg.get('name') or self.id}")[:64]
        priority = str(fields.get("mode") or cfg.get("mode") or "limit") == "priority"
        kind = "ems.priority" if priority else "ems.limit"
        # An explicit null clears; no payload at all (an inject with no property) uses the
        # node's own value.
        if msg.get("topic") == "clear" or ("payload" in msg and payload is None):
            self.ask(rid, f"{kind}.clear", {"target": target, "source": source})
            return
        expires = _number(fields.get("expires_in_s", cfg.get("expiresInS")), "expires_in_s")
        if expires is None or not 0 < expires <= MAX_EXPIRY_S:
            raise NodeError(f"expires_in_s: a mandatory expiry, 1 to {MAX_EXPIRY_S} s")
        given = payload if isinstance(payload, (int, float, str)) else None
        if priority:
            tier = _number(given if given is not None else fields.get("tier", cfg.get("tier")),
                           "tier")
            if tier is None or tier != int(tier) or not 1 <= tier <= 9:
                raise NodeError("tier: an integer from 1 to 9")
            self.ask(rid, "ems.priority.set", {"target": target, "source": source,
                                               "tier": int(tier), "expires_in_s": expires})
            return
        unit = str(fields.get("unit") or cfg.get("unit") or "A")
        if unit not in ("A", "W"):
            raise NodeError("unit: A or W")
        value = _number(given if given is not None else fields.get("limit", cfg.get("limit")),
                        "limit")
        if value is None:
            raise NodeError("no limit: msg.payload = a number, or set one on the node")
        on_expiry = str(fields.get("on_expiry") or cfg.get("onExpiry") or "release")
        args: dict[str, Any] = {"target": target, "source": source, "expires_in_s": expires,
                                "on_expiry": on_expiry,
                                "limit_a" if unit == "A" else "limit_w": value}
        if on_expiry == "hold":
            fallback = _number(fields.get("fallback", cfg.get("fallback")), "fallback")
            if fallback is None:
                raise NodeError("on_expiry hold needs a fallback limit")
            args["fallback_a" if unit == "A" else "fallback_w"] = fallback
        self.ask(rid, "ems.limit.set", args)


class Gtb(Node):
    """hub gtb table: the live state (from hub state) as the GTB register table, a
    write for node-red-contrib-modbus's Modbus-Server (docs/node-red.md)."""

    counter = 0

    def input(self, rid: str, msg: dict[str, Any]) -> None:
        live = msg.get("payload")
        if not isinstance(live, dict) or "connectors" not in live:
            raise NodeError("msg.payload: the live state from a hub state node is expected")
        self.counter = (self.counter + 1) % 65536
        registers = gtb_table(live, self.counter, str(self.config.get("site") or ""))
        # Modbus-Server takes an array as bytes and puts them at byte address × 8, so the
        # whole table goes as big-endian bytes from address 0 (register n = bytes 2n, 2n+1).
        data = [b for r in registers for b in (r >> 8, r & 0xFF)]
        self.send(rid, {"payload": {"register": "holding", "address": 0, "value": data,
                                    "disableMsgOutput": 1},
                        "registers": registers})
        self.done(rid)


KINDS: dict[str, type[Node]] = {"hub-events": Events, "hub-command": Command,
                                "hub-state": State, "hub-limit": Limit, "hub-gtb": Gtb}
