"""The OCPP 1.6J central system: websocket servers (ws and wss), access, the registry.

``ws://host:9000/<id>`` and ``wss://host:9043/<id>``; anything before the id in the path is
accepted (``/ocpp/CP01``), and so is a client that offers no subprotocol (a quirk of
several firmwares). A charge point with an ``auth_key`` must present it with HTTP Basic
Auth (security profiles 1 and 2). A second connection with the same id replaces the first.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import re
import ssl
from collections.abc import Sequence
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed, NegotiationError
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.logs import register_secret
from hub_engine.ocpp.station import OcppContext, Station
from hub_engine.ocpp.tls import LocalCa, hub_addresses, server_context
from hub_engine.store import Store

__all__ = ["OcppServer", "charge_point_id"]

log = logging.getLogger(__name__)
OCPP16 = Subprotocol("ocpp1.6")


# A charge point identity (OCPP-J §3.1.1: the last path segment): printable, no control
# characters, no slash, at most 64 characters (SteVe and most backends take up to 255;
# real charge points use serial numbers far shorter).
_ID = re.compile(r"^[\w.:\-+@#*=() ]{1,64}$", re.ASCII)


def charge_point_id(path: str) -> str | None:
    """The last non-empty path segment, URL-decoded (``/ocpp/CP%2001`` → ``CP 01``);
    None when there is none or it is no valid identity."""
    segments = [s for s in path.split("?")[0].split("/") if s]
    if not segments:
        return None
    cp_id = unquote(segments[-1])
    return cp_id if _ID.match(cp_id) and cp_id.strip() == cp_id else None


def _select_subprotocol(_: ServerConnection, offered: Sequence[Subprotocol]
                        ) -> Subprotocol | None:
    if OCPP16 in offered:
        return OCPP16
    if not offered:
        return None  # quirk: no subprotocol offered; we speak 1.6 anyway
    raise NegotiationError(f"this central system speaks ocpp1.6, not {', '.join(offered)}")


def _basic_password(headers: Headers, cp_id: str) -> str | None:
    value = headers.get("Authorization", "")
    if not value.lower().startswith("basic "):
        return None
    try:
        user, _, password = base64.b64decode(value[6:]).decode().partition(":")
    except (ValueError, UnicodeDecodeError):
        return None
    return password if user == cp_id else None


class OcppServer:
    """Component of the engine: starts and stops the ws/wss listeners."""

    name = "ocpp"

    def __init__(self, config: HubConfig, store: Store, clock: Clock) -> None:
        self.config = config
        self.ssl_context: ssl.SSLContext | None = None
        cps = {cp.id: cp for cp in config.charge_points()}
        for cp in cps.values():
            if cp.auth_key:
                register_secret(cp.auth_key)
        self.ctx = OcppContext(config.ocpp, cps, store, clock)
        self.stations: dict[str, Station] = {}
        self._servers: list[Server] = []
        self.ports: dict[str, int] = {}
        self.refused_ids = 0  # connections refused for an invalid charge point id

    def _tls(self) -> ssl.SSLContext | None:
        cfg = self.config.ocpp
        if cfg.tls == "off":
            return None
        if cfg.tls == "operator":
            assert cfg.tls_cert_file and cfg.tls_key_file
            return server_context(Path(cfg.tls_cert_file), Path(cfg.tls_key_file))
        ca = LocalCa(Path(self.config.hub.data_dir) / "tls")
        ca.ensure(hub_addresses(cfg.host))
        log.info("wss uses the hub's local CA: install %s on the charge points", ca.ca_cert)
        return server_context(ca.cert, ca.key)

    async def start(self) -> None:
        cfg = self.config.ocpp
        self.ssl_context = self._tls()
        common: dict[str, Any] = {
            "select_subprotocol": _select_subprotocol,
            "process_request": self._check_access,
            "max_size": cfg.max_frame_bytes * 4,
            # Heartbeats may be minutes apart and some firmware never answers pings: the
            # server pings but does not drop a charge point for a missing pong.
            "ping_interval": 30,
            "ping_timeout": None,
        }
        ws = await serve(self._handle, cfg.host, cfg.ws_port, **common)
        self._servers.append(ws)
        self.ports["ws"] = ws.sockets[0].getsockname()[1]
        if self.ssl_context is not None:
            wss = await serve(self._handle, cfg.host, cfg.wss_port, ssl=self.ssl_context,
                              **common)
            self._servers.append(wss)
            self.ports["wss"] = wss.sockets[0].getsockname()[1]
        log.info("OCPP listening on %s", ", ".join(f"{k}://{cfg.host}:{p}"
                                                    for k, p in self.ports.items()))

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for server in self._servers:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)
        self._servers.clear()

    def _check_access(self, connection: ServerConnection, request: Request) -> Response | None:
        cp_id = charge_point_id(request.path)
        if cp_id is None:
            self.refused_ids += 1
            return connection.respond(HTTPStatus.BAD_REQUEST,
                                      "no valid charge point id at the end of the path "
                                      "(1-64 letters, digits, spaces and ._:-+@#*=())\n")
        cp = self.ctx.charge_points.get(cp_id)
        strangers = sum(1 for st in self.stations.values() if st.registration != "accepted")
        if cp is None and strangers >= self.config.ocpp.max_unaccepted_connections:
            self.refused_ids += 1
            return connection.respond(HTTPStatus.SERVICE_UNAVAILABLE,
                                      "too many charge points waiting for acceptance\n")
        if cp is not None and cp.auth_key:
            given = _basic_password(request.headers, cp_id)
            if given is None or not hmac.compare_digest(given.encode(), cp.auth_key.encode()):
                log.warning("%s: refused, wrong or missing Basic Auth", cp_id)
                response = connection.respond(HTTPStatus.UNAUTHORIZED, "authentication needed\n")
                response.headers["WWW-Authenticate"] = 'Basic realm="ocpp"'
                return response
        return None

    async def _handle(self, connection: ServerConnection) -> None:
        cp_id = charge_point_id(connection.request.path if connection.request else "")
        assert cp_id is not None  # checked in _check_access
        old = self.stations.get(cp_id)
        if old is not None:
            log.info("%s: new connection replaces the previous one", cp_id)
            with contextlib.suppress(Exception):
                await old._connection.close(code=1000, reason="replaced by a new connection")
        station = Station(cp_id, connection, self.ctx)
        self.stations[cp_id] = station
        log.info("%s: connected from %s (%s)", cp_id, connection.remote_address,
                 connection.subprotocol or "no subprotocol")
        try:
            await station.start()
        except ConnectionClosed:
            pass
        finally:
            if self.stations.get(cp_id) is station:
                del self.stations[cp_id]
                station.disconnected()  # not when a new connection replaced it
            log.info("%s: disconnected", cp_id)
