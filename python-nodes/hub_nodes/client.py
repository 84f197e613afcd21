"""The bus client of one config node: SUB for events and states, DEALER for commands.

What the engine's bus (docs/bus.md) asks of a client: commands carry the token and an id,
and are retried with the *same* id after a timeout (the engine answers a seen id with
its first answer, so nothing is done twice); the DEALER socket is replaced before a retry
so that a request lost with a dead engine is not stuck behind it. Every published
message has a sequence number: on a gap, on joining and after the engine restarted, the
client asks for ``state.snapshot`` and hands the states on as if just published.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import zmq

__all__ = ["BusClient", "Reply"]

VERSION = 1
PING_EVERY_S = 2.0
ALIVE_FOR_S = 5.0  # no answer to anything for this long: the engine is unreachable

Reply = Callable[[dict[str, Any]], None]


@dataclass
class _Pending:
    frame: bytes
    on_reply: Reply
    deadline: float
    tries_left: int
    timeout_s: float


@dataclass
class BusClient:
    events_endpoint: str
    commands_endpoint: str
    token: str
    on_message: Callable[[str, dict[str, Any], bool], None]  # topic, envelope, snapshot
    on_status: Callable[[bool, str], None]
    timeout_s: float = 5.0
    retries: int = 2
    clock: Callable[[], float] = time.monotonic
    ctx: Any = field(default_factory=zmq.Context)
    connected: bool = False
    last_seq: int | None = None
    gaps: int = 0
    _pending: dict[str, _Pending] = field(default_factory=dict)
    refused: str = ""  # the token's refusal, if the engine refused it
    _last_answer: float = 0.0
    _next_ping: float = 0.0
    _shown: tuple[bool, str] = (False, "")

    def __post_init__(self) -> None:
        self._started = self.clock()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.LINGER, 0)
        self.sub.setsockopt(zmq.SUBSCRIBE, b"")
        self.sub.connect(self.events_endpoint)
        self.dealer = self._dealer()

    def _dealer(self) -> Any:
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.connect(self.commands_endpoint)
        return sock

    # -- commands ------------------------------------------------------------------------
    def command(self, command: str, args: dict[str, Any], on_reply: Reply,
                cid: str | None = None, timeout_s: float | None = None) -> str:
        cid = cid or f"nr-{uuid.uuid4().hex}"
        frame = json.dumps({"v": VERSION, "type": "command", "id": cid, "token": self.token,
                            "command": command, "args": args}).encode()
        wait = timeout_s or self.timeout_s
        self._pending[cid] = _Pending(frame, on_reply, self.clock() + wait, self.retries, wait)
        self.dealer.send(frame)
        return cid

    def _answered(self, raw: bytes) -> None:
        try:
            env = json.loads(raw)
        except ValueError:
            return
        self._last_answer = self.clock()
        self._set_connected(True)
        pending = self._pending.pop(str(env.get("id")), None)
        if pending is not None:
            pending.on_reply(env)

    def _expire(self, now: float) -> None:
        late = [cid for cid, p in self._pending.items() if now >= p.deadline]
        if not late:
            return
        # A fresh socket: a request queued to a dead peer would otherwise wait behind it.
        self.dealer.close(0)
        self.dealer = self._dealer()
        for cid in late:
            p = self._pending[cid]
            if p.tries_left <= 0:
                del self._pending[cid]
                p.on_reply({"v": VERSION, "type": "error", "id": cid, "data": {
                    "code": "timeout", "message": "the engine did not answer in "
                    f"{p.timeout_s * (self.retries + 1):.0f} s"}})
        for p in self._pending.values():
            if now >= p.deadline:
                p.tries_left -= 1
                p.deadline = now + p.timeout_s
            self.dealer.send(p.frame)  # the same id: never done twice by the engine

    # -- events --------------------------------------------------------------------------
    def _published(self, topic: bytes, raw: bytes) -> None:
        try:
            env = json.loads(raw)
            seq = int(env["seq"])
        except (ValueError, KeyError, TypeError):
            return
        if self.last_seq is None or seq != self.last_seq + 1:
            if self.last_seq is not None and seq > self.last_seq + 1:
                self.gaps += 1
            self.resync()  # joined late, missed some, or the engine restarted (seq anew)
        self.last_seq = seq
        self.on_message(topic.decode(), env, False)

    def resync(self) -> None:
        def got(env: dict[str, Any]) -> None:
            if env.get("type") != "reply":
                return
            data = env["data"]
            for topic, state in sorted(data.get("states", {}).items(),
                                       key=lambda kv: kv[1]["seq"]):
                self.on_message(topic, {"v": VERSION, "type": "state", "id": env["id"],
                                        "seq": state["seq"], "ts": env.get("ts"),
                                        "data": state["data"]}, True)
        self.command("state.snapshot", {}, got)

    # -- the loop ------------------------------------------------------------------------
    def _set_connected(self, up: bool) -> None:
        if up != self.connected:
            self.connected = up
            if up and self.last_seq is None:
                self.resync()
        self._show()

    def _show(self) -> None:
        shown = (self.connected and not self.refused,
                 self.refused or ("connected" if self.connected else "engine unreachable"))
        if shown != self._shown:
            self._shown = shown
            self.on_status(*shown)

    def _pinged(self, env: dict[str, Any]) -> None:
        data = env.get("data") or {}
        code = data.get("code")
        if env.get("type") == "reply":
            self.refused = ""
        elif code in ("unauthorized", "forbidden"):
            self.refused = f"token refused: {data.get('message', code)}"
        self._show()

    def sockets(self) -> list[Any]:
        return [self.sub, self.dealer]

    def handle(self, ready: set[Any]) -> None:
        """After a poll: read what is ready, ping when idle, expire and retry."""
        if self.sub in ready:
            while self.sub.poll(0):
                topic, raw = self.sub.recv_multipart()
                self._published(topic, raw)
        if self.dealer in ready:
            while self.dealer.poll(0):
                self._answered(self.dealer.recv_multipart()[-1])
        now = self.clock()
        if now >= self._next_ping:
            self._next_ping = now + PING_EVERY_S
            self.command("ping", {}, self._pinged, timeout_s=ALIVE_FOR_S)
        if self.connected and now - self._last_answer > ALIVE_FOR_S:
            self._set_connected(False)
            self.last_seq = None  # it may come back as a new engine: resync then
        elif not self.connected and now - self._started > ALIVE_FOR_S:
            self._show()  # never answered since the start: say so, not "connecting"
        self._expire(now)

    def close(self) -> None:
        self.sub.close(0)
        self.dealer.close(0)
        self.ctx.term()
