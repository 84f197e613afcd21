"""A running OCPP server on 127.0.0.1 with its store, for the integration tests."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from hub_engine.clock import SystemClock
from hub_engine.config import HubConfig, parse_config
from hub_engine.ocpp import OcppServer
from hub_engine.ocpp.cpo import CpoCommands, CpoRelay
from hub_engine.store import Store

SITE = """
sites:
  - id: s
    grid:
      id: g
      limit_a: 63
      charge_points:
        - {id: CP1}
        - {id: CP2}
        - {id: SECURE, auth_key: "0123456789abcdef0123"}
"""


def make_config(tmp_path: Path, **ocpp: Any) -> HubConfig:
    settings = {"host": "127.0.0.1", "ws_port": 0, "wss_port": 0, "boot_spread_s": 0,
                "tls": "off",
                "id_tags": ["TAG-OK"], **ocpp}
    import json
    return parse_config(f"hub: {{data_dir: {tmp_path}}}\nocpp: {json.dumps(settings)}\n"
                        f"http: {{port: 0}}\n" + SITE)


class Hub:
    def __init__(self, config: HubConfig) -> None:
        self.config = config
        self.store = Store(config.store, Path(config.hub.data_dir), SystemClock())
        self.server = OcppServer(config, self.store, SystemClock())
        # Charge points in mode cpo are relayed (docs/cpo.md), as by the App.
        self.cpo = CpoRelay(config, self.server, self.store, SystemClock())
        CpoCommands(self.cpo)
        self.server.ctx.cpo = self.cpo
        self.server.ctx.listeners.append(self.cpo.on_event)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self.server.ports['ws']}"

    def rows(self, sql: str, params: list[Any] | None = None, db: str = "core") -> list[Any]:
        return self.store.rows(sql, params, db)


@contextlib.asynccontextmanager
async def running_hub(config: HubConfig) -> AsyncIterator[Hub]:
    hub = Hub(config)
    await hub.store.start()
    await hub.server.start()
    await hub.cpo.start()
    try:
        yield hub
    finally:
        await hub.cpo.stop()
        await hub.server.stop()
        await hub.store.stop()
