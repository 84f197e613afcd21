"""A simulated CPO central system (the ``ocpp`` library) on 127.0.0.1: what the hub's
relayed charge points talk to in the tests, the demo and the scenarios (docs/cpo.md).

It accepts every charge point that presents the right Basic Auth password (any, without
one) or a client certificate, numbers transactions from 1001, accepts the badges in
``good_tags`` (every one, without them) and records every message it gets, in order, as
(charge point, action, unique id, payload as sent). It can be stopped and started again
on the same port (a CPO that goes away and comes back), and behave as field backends do:
boots answered Pending first, a message refused, every answer late.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import ssl
from datetime import UTC, datetime
from http import HTTPStatus
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.http11 import Request, Response

__all__ = ["SimCpo"]


def _now() -> str:
    return datetime.now(UTC).isoformat()


class _Central(ChargePoint):  # type: ignore[misc]
    """The CPO's side of one charge point's link."""

    def __init__(self, cp_id: str, ws: ServerConnection, cpo: SimCpo) -> None:
        super().__init__(cp_id, ws, response_timeout=10)
        self.cpo = cpo

    async def route_message(self, raw_msg: str) -> None:
        frame = json.loads(raw_msg)
        cpo = self.cpo
        if frame[0] == 2:
            cpo.log.append((self.id, frame[2], frame[1], frame[3]))
            if cpo.answer_delay_s:  # a slow backend: every answer late, one after another
                await asyncio.sleep(cpo.answer_delay_s)
            if cpo.refuse_next.get(frame[2], 0) > 0:  # a message it cannot take
                cpo.refuse_next[frame[2]] -= 1
                cpo.refused.append((self.id, frame[2], frame[1]))
                await self._send(json.dumps([4, frame[1], "InternalError",
                                             "refused by the simulated CPO", {}]))
                return
        await super().route_message(raw_msg)

    def _info(self, id_tag: str) -> IdTagInfo:
        tags = self.cpo.good_tags
        ok = tags is None or id_tag in tags
        return IdTagInfo(status=AuthorizationStatus.accepted if ok
                         else AuthorizationStatus.invalid)

    @on(Action.boot_notification)
    async def on_boot(self, **_: Any) -> call_result.BootNotification:
        if self.cpo.pending_boots > 0:  # not registered yet on the CPO's side
            self.cpo.pending_boots -= 1
            return call_result.BootNotification(current_time=_now(), interval=1,
                                                status=RegistrationStatus.pending)
        return call_result.BootNotification(current_time=_now(), interval=300,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    async def on_status(self, **_: Any) -> call_result.StatusNotification:
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        return call_result.Authorize(id_tag_info=self._info(id_tag))

    @on(Action.start_transaction)
    async def on_start(self, id_tag: str, **_: Any) -> call_result.StartTransaction:
        self.cpo.next_tx += 1
        return call_result.StartTransaction(transaction_id=self.cpo.next_tx,
                                            id_tag_info=self._info(id_tag))

    @on(Action.meter_values)
    async def on_meter_values(self, **_: Any) -> call_result.MeterValues:
        return call_result.MeterValues()

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, data: str | None = None,
                               **_: Any) -> call_result.DataTransfer:
        return call_result.DataTransfer(status=DataTransferStatus.accepted,
                                        data=f"{vendor_id}:{data}")

    @on(Action.stop_transaction)
    async def on_stop(self, **_: Any) -> call_result.StopTransaction:
        return call_result.StopTransaction()


class SimCpo:
    def __init__(self, port: int, password: str | None = None,
                 good_tags: set[str] | None = None, tls: ssl.SSLContext | None = None,
                 host: str = "127.0.0.1") -> None:
        self.host = host
        self.port, self.password, self.good_tags = port, password, good_tags
        self.tls = tls  # wss; with CERT_REQUIRED: security profile 3
        self.client_names: list[str] = []  # the CN of each client certificate seen
        # Field behaviours of CPO backends (docs/cpo.md): BootNotifications answered
        # Pending first, messages refused with a CALLERROR, answers that come late.
        self.pending_boots = 0
        self.refuse_next: dict[str, int] = {}  # action → how many to refuse
        self.refused: list[tuple[str, str, str]] = []
        self.answer_delay_s = 0.0
        self.log: list[tuple[str, str, str, dict[str, Any]]] = []
        self.next_tx = 1000
        self.centrals: dict[str, _Central] = {}
        self.refused_auth = 0
        self._server: Server | None = None

    async def start(self) -> None:
        self._server = await serve(self._handle, self.host, self.port,
                                   subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                                   process_request=self._check, ssl=self.tls)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
        self._server = None
        self.centrals.clear()

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        cp_id = request.path.rstrip("/").split("/")[-1]
        tls = connection.transport.get_extra_info("ssl_object")
        cert = tls.getpeercert() if tls is not None else None
        if cert:
            self.client_names += [v for rdn in cert["subject"] for k, v in rdn
                                  if k == "commonName"]
            return None  # profile 3: the certificate is the charge point's proof
        if self.password is None:
            return None
        expected = base64.b64encode(f"{cp_id}:{self.password}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            self.refused_auth += 1
            return connection.respond(HTTPStatus.UNAUTHORIZED, "who are you?\n")
        return None

    async def _handle(self, ws: ServerConnection) -> None:
        cp_id = (ws.request.path if ws.request else "").rstrip("/").split("/")[-1]
        central = _Central(cp_id, ws, self)
        self.centrals[cp_id] = central
        with contextlib.suppress(Exception):
            await central.start()

    def of(self, cp_id: str, action: str | None = None) -> list[dict[str, Any]]:
        return [p for c, a, _, p in self.log if c == cp_id and (action is None or a == action)]

    def actions(self, cp_id: str) -> list[str]:
        return [a for c, a, _, _ in self.log if c == cp_id]
