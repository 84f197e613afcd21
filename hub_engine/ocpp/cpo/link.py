"""One charge point's OCPP-J 1.6 link to the CPO, opened by the hub under that charge
point's identity (its URL, its Basic Auth password, its client certificate).

The link speaks raw frames, not the library's typed calls: it relays what the charge
point said, field for field, with the charge point's own message ids. One CALL at a
time goes up (OCPP-J §4.1.1); the CPO's own calls are served one after another by
``on_call``. It reconnects by itself, with a growing pause, until closed.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
import ssl
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from hub_engine.clock import Clock
from hub_engine.config.cpo import CpoConfig

__all__ = ["CallHandler", "CpoCallError", "Link", "LinkDown", "LinkSettings"]

log = logging.getLogger(__name__)


class LinkDown(Exception):
    """The CPO is not reachable now."""


class CpoCallError(Exception):
    """A CALLERROR, from the CPO or for it."""

    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code, self.description = code, description


@dataclass(frozen=True)
class LinkSettings:
    cp_id: str
    url: str
    password: str | None
    ssl: ssl.SSLContext | None
    config: CpoConfig


# (charge point id, action, payload, the CPO's message id) → the answer's payload.
CallHandler = Callable[[str, str, dict[str, Any], str], Awaitable[dict[str, Any]]]


class Link:
    def __init__(self, settings: LinkSettings, clock: Clock, on_call: CallHandler,
                 on_up: Callable[[Link], Awaitable[None]],
                 journal: Callable[[str, str], None] | None = None) -> None:
        self.settings, self.clock = settings, clock
        self.cp_id = settings.cp_id
        self._on_call, self._on_up = on_call, on_up
        self._journal = journal  # (direction to_cpo or from_cpo, frame): the OCPP log
        self.ws: ClientConnection | None = None
        self.online = asyncio.Event()  # connected, and its BootNotification accepted
        self.heartbeat_s = 300.0  # the CPO's interval, from its BootNotification answer
        self.connects = 0
        self.last_error = ""
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._lock = asyncio.Lock()
        self._closing = False
        self._incoming: asyncio.Queue[list[Any]] = asyncio.Queue()

    # -- life ---------------------------------------------------------------------------
    async def run(self) -> None:
        cfg = self.settings.config
        delay = cfg.reconnect_min_s
        while not self._closing:
            try:
                async with connect(self.settings.url, subprotocols=[Subprotocol("ocpp1.6")],
                                   additional_headers=self._headers(), ssl=self.settings.ssl,
                                   open_timeout=10, ping_interval=30, ping_timeout=60,
                                   max_size=2**20) as ws:
                    self.ws, self.connects = ws, self.connects + 1
                    delay, self.last_error = cfg.reconnect_min_s, ""
                    log.info("%s: linked to the CPO at %s", self.cp_id, self.settings.url)
                    await self._session(ws)
                    if not self._closing:
                        self.last_error = "the CPO closed the connection"
            except (OSError, InvalidHandshake, ConnectionClosed, TimeoutError,
                    LinkDown, CpoCallError) as exc:  # a CALLERROR to its BootNotification
                self.last_error = str(exc)[:200] or type(exc).__name__
                log.info("%s: CPO link down: %s", self.cp_id, self.last_error)
            except Exception as exc:  # a bug must not leave the link dead for good
                self.last_error = str(exc)[:200] or type(exc).__name__
                log.exception("%s: CPO link failed", self.cp_id)
            finally:
                self.ws = None
                self.online.clear()
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(LinkDown("link closed"))
                self._pending.clear()
            if self._closing:
                break
            await self.clock.sleep(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, cfg.reconnect_max_s)

    async def _session(self, ws: ClientConnection) -> None:
        self._incoming = asyncio.Queue()  # calls of an earlier connection are not answered
        tasks = [asyncio.create_task(self._read(ws)), asyncio.create_task(self._serve())]
        try:
            await self._on_up(self)  # BootNotification, statuses; then online
            heart = asyncio.create_task(self._heartbeat())
            tasks.append(heart)
            await tasks[0]
        finally:
            for task in tasks:
                task.cancel()
            with contextlib.suppress(Exception):
                await ws.close()

    async def close(self) -> None:
        self._closing = True
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close()

    async def drop(self) -> None:
        """Close this connection (a CPO that stopped answering); it reconnects."""
        if self.ws is not None:
            with contextlib.suppress(Exception):
                await self.ws.close(code=1001, reason="no answer")

    def _headers(self) -> dict[str, str]:
        if self.settings.password is None:
            return {}
        token = base64.b64encode(f"{self.cp_id}:{self.settings.password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    # -- frames -------------------------------------------------------------------------
    async def call(self, action: str, payload: dict[str, Any], unique_id: str | None = None,
                   timeout_s: float | None = None) -> dict[str, Any]:
        """Send one CALL and wait for its answer; raises LinkDown, TimeoutError or
        CpoCallError."""
        async with self._lock:
            ws = self.ws
            if ws is None:
                raise LinkDown("not connected")
            uid = unique_id or str(uuid.uuid4())
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            self._pending[uid] = fut
            try:
                await self._send(ws, json.dumps([2, uid, action, payload],
                                                separators=(",", ":")))
                return await asyncio.wait_for(fut, timeout_s or self.settings.config.
                                              call_timeout_s)
            except ConnectionClosed as exc:
                raise LinkDown(str(exc)) from None
            finally:
                self._pending.pop(uid, None)

    async def _read(self, ws: ClientConnection) -> None:
        async for raw in ws:
            if self._journal is not None:
                self._journal("from_cpo", raw if isinstance(raw, str) else raw.decode(
                    "utf-8", "replace"))
            try:
                frame = json.loads(raw)
                kind, uid = int(frame[0]), str(frame[1])
            except (ValueError, TypeError, IndexError, KeyError):
                log.warning("%s: unreadable frame from the CPO: %.200s", self.cp_id, raw)
                continue
            fut = self._pending.get(uid)
            if kind == 3 and fut is not None and not fut.done():
                fut.set_result(frame[2] if len(frame) > 2 and isinstance(frame[2], dict)
                               else {})
            elif kind == 4 and fut is not None and not fut.done():
                fut.set_exception(CpoCallError(str(frame[2]), str(frame[3])[:200]))
            elif kind == 2 and len(frame) >= 4:
                self._incoming.put_nowait(frame)

    async def _serve(self) -> None:
        """The CPO's calls, one after another (its answer before the next)."""
        while True:
            _, uid, action, payload = (await self._incoming.get())[:4]
            try:
                if not isinstance(payload, dict):
                    raise CpoCallError("FormationViolation", "payload must be an object")
                result = await self._on_call(self.cp_id, str(action), payload, str(uid))
                frame: list[Any] = [3, uid, result]
            except CpoCallError as exc:
                frame = [4, uid, exc.code, exc.description, {}]
            except Exception as exc:  # a bug answers InternalError, the link lives on
                log.exception("%s: CPO call %s failed", self.cp_id, action)
                frame = [4, uid, "InternalError", str(exc)[:200], {}]
            ws = self.ws
            if ws is not None:
                with contextlib.suppress(ConnectionClosed):
                    await self._send(ws, json.dumps(frame, separators=(",", ":")))

    async def _send(self, ws: ClientConnection, text: str) -> None:
        if self._journal is not None:
            self._journal("to_cpo", text)
        await ws.send(text)

    async def _heartbeat(self) -> None:
        """The hub owns the charge point's HeartbeatInterval: the link keeps the CPO's."""
        while True:
            await self.clock.sleep(self.heartbeat_s)
            with contextlib.suppress(LinkDown, TimeoutError, CpoCallError):
                await self.call("Heartbeat", {})
