"""Serving the API: cheroot (a production WSGI server) on a bounded thread pool in the
engine process, HTTP on ``http.port`` and HTTPS on ``http.https_port`` with the
operator's certificate or the hub's local CA; the first administrator made on first run.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

from cheroot import wsgi
from cheroot.ssl.builtin import BuiltinSSLAdapter

from hub_engine.api.accounts import Accounts
from hub_engine.api.app import MAX_BODY, create_app
from hub_engine.api.context import ApiContext, CommandJobs
from hub_engine.api.guard import ReadGuard, connection_class
from hub_engine.api.ratelimit import LoginLimiter
from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.ocpp.tls import LocalCa, hub_addresses
from hub_engine.store import Store

__all__ = ["ApiServer"]

log = logging.getLogger(__name__)


class ApiServer:
    name = "api"

    def __init__(self, config: HubConfig, store: Store, clock: Clock) -> None:
        self.config = config
        self.ctx = ApiContext(config=config, store=store, clock=clock,
                              accounts=Accounts(store, clock), started_at=clock.now(),
                              limiter=LoginLimiter(clock), jobs=CommandJobs(clock))
        self.ports: dict[str, int] = {}
        self._servers: list[tuple[wsgi.Server, threading.Thread]] = []
        http = config.http
        self._guard = ReadGuard.build(http.header_timeout_s, http.body_min_rate_bytes_per_s,
                                      http.max_reading_per_client, http.trusted_proxies)

    def _tls(self) -> BuiltinSSLAdapter:
        http = self.config.http
        if http.tls_cert_file and http.tls_key_file:
            return BuiltinSSLAdapter(http.tls_cert_file, http.tls_key_file)
        ca = LocalCa(Path(self.config.hub.data_dir) / "tls")
        ca.ensure(hub_addresses(self.config.ocpp.host))
        return BuiltinSSLAdapter(str(ca.cert), str(ca.key))

    def _serve(self, scheme: str, port: int, app: Any, tls: BuiltinSSLAdapter | None) -> None:
        http = self.config.http
        server = wsgi.Server((http.host, port), app, numthreads=http.threads,
                             max=http.threads * 4, server_name="charge-hub",
                             request_queue_size=64, timeout=30)
        # Beyond Flask's (it answers 413 itself); firmware files go up to their own limit.
        server.max_request_body_size = max(
            2 * MAX_BODY, int(self.config.maintenance.max_firmware_mb * 1024 * 1024) + MAX_BODY)
        server.ConnectionClass = connection_class(self._guard)
        if tls is not None:
            server.ssl_adapter = tls
        server.prepare()  # binds now: a port in use fails the start, not a thread
        self.ports[scheme] = int(server.bind_addr[1])
        thread = threading.Thread(target=server.serve, name=f"api-{scheme}", daemon=True)
        thread.start()
        self._servers.append((server, thread))
        log.info("API and docs on %s://%s:%d/api/docs", scheme, http.host, self.ports[scheme])

    async def start(self) -> None:
        self.ctx.loop = asyncio.get_running_loop()
        data_dir = Path(self.config.hub.data_dir)
        await asyncio.to_thread(self.ctx.accounts.ensure_first_admin, data_dir)
        app = create_app(self.ctx)
        self._serve("http", self.config.http.port, app, None)
        if self.config.http.https_port is not None:
            self._serve("https", self.config.http.https_port, app, self._tls())

    async def stop(self) -> None:
        self.ctx.stopping.set()
        for server, thread in self._servers:
            await asyncio.to_thread(server.stop)
            await asyncio.to_thread(thread.join, 5)
        self._servers.clear()
