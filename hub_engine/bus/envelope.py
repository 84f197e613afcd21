"""Every message of the bus, defined once: ``[topic, json]`` frames whose JSON is the
envelope ``{"v": 1, "type", "id", "seq", "ts", "data"}``.

Topics are dotted: ``event.cp.<id>.<what>`` (status, boot, session.started…),
``state.ems.site`` (the EMS summary each cycle), ``alert.<kind>``. Published messages
carry a sequence number so that a subscriber sees a gap (PUB drops past its high-water
mark) and asks for a snapshot. Commands go to the ROUTER as
``{"v": 1, "type": "command", "id", "token", "command", "args"}`` and are answered
``{"type": "reply"|"error", "id": <the same>, "data"}``; a command id seen again gets
the same answer without running twice. Units are in the keys (``current_a``, ``power_w``).
The JSON fixtures in ``python-nodes/fixtures/`` are checked against this module by the
Python tests and by the Node-RED nodes' tests.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any, Literal

from hub_engine.jsonlimits import TooDeepError, loads_bounded

__all__ = ["VERSION", "BusError", "Command", "Envelope", "decode_command", "envelope"]

VERSION = 1
Kind = Literal["event", "state", "alert", "reply", "error"]
_KINDS = ("event", "state", "alert", "reply", "error", "command")


class BusError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        self.code = code
        super().__init__(message)


@dataclass(frozen=True)
class Envelope:
    type: Kind
    data: dict[str, Any]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    seq: int = 0
    ts: float = field(default_factory=time.time)
    v: int = VERSION

    def to_json(self) -> bytes:
        return json.dumps({"v": self.v, "type": self.type, "id": self.id, "seq": self.seq,
                           "ts": round(self.ts, 3), "data": self.data},
                          separators=(",", ":"), default=str).encode()


def envelope(raw: bytes | str) -> dict[str, Any]:
    """Parse and check any bus message (fixtures, tests, clients)."""
    try:
        msg = loads_bounded(raw)
    except TooDeepError as exc:
        raise BusError("bad_json", str(exc)) from None
    except ValueError:
        raise BusError("bad_json", "not JSON") from None
    if not isinstance(msg, dict):
        raise BusError("bad_envelope", "a JSON object is expected")
    if msg.get("v") != VERSION:
        raise BusError("bad_version", f"version {msg.get('v')!r}: this hub speaks {VERSION}")
    if msg.get("type") not in _KINDS:
        raise BusError("bad_envelope", f"type {msg.get('type')!r} unknown")
    if not isinstance(msg.get("id"), str) or not msg["id"]:
        raise BusError("bad_envelope", "id: a non-empty string is required")
    if msg["type"] != "command" and not isinstance(msg.get("seq"), int):
        raise BusError("bad_envelope", "seq: an integer is required")
    return msg


@dataclass(frozen=True)
class Command:
    id: str
    token: str
    command: str
    args: dict[str, Any]


def decode_command(raw: bytes) -> Command:
    msg = envelope(raw)
    if msg["type"] != "command":
        raise BusError("bad_envelope", "the ROUTER takes commands")
    if not isinstance(msg.get("command"), str):
        raise BusError("bad_envelope", "command: a string is required")
    args = msg.get("args", {})
    if not isinstance(args, dict):
        raise BusError("bad_envelope", "args: an object is required")
    return Command(msg["id"], str(msg.get("token", "")), msg["command"], args)
