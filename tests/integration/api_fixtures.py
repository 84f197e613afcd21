"""A whole hub (App) on its own loop in a thread, for API tests spoken over real HTTP."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import requests

from hub_engine.app import App
from hub_engine.config import parse_config
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.runner import SimRunner

__all__ = ["SITE", "Hub", "hub_api", "site"]

T = TypeVar("T")


def site(accept_all: bool = True, ems: str = "", more: str = "") -> str:
    """The test site (``%s`` for the data folder and the HTTPS port, filled by Hub)."""
    return f"""
hub: {{data_dir: %s, timezone: Europe/Paris}}
ocpp: {{host: 127.0.0.1, ws_port: 0, wss_port: 0, tls: "off", boot_spread_s: 0,
       accept_all_id_tags: {str(accept_all).lower()}, call_timeout_s: 5}}
http: {{host: 127.0.0.1, port: 0, https_port: %s}}
ems: {{{ems}commissioning: "off", unverified_models: trust}}
ops: {{clock: trust}}
{more}""" + _TREE


_TREE = """sites:
  - id: s1
    grid:
      id: grid
      limit_a: 63
      children:
        - {id: parking, limit_a: 40, charge_points: [{id: CP1}, {id: CP2}]}
"""
SITE = site()


class Hub:
    """The hub under test; ``call`` runs a coroutine on its loop."""

    def __init__(self, data_dir: Path, https: bool = False, site: str = SITE) -> None:
        self.data_dir = data_dir
        self.config_file = data_dir / "hub.yaml"
        if not self.config_file.exists():
            self.config_file.write_text(site % (data_dir, "0" if https else "null"))
        self.config = parse_config(self.config_file.read_text(),
                                   base_dir=self.config_file.parent)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.app = App(self.config)
        self.app.api.ctx.config_path = str(self.config_file)  # as `hub run --config` does
        self.call(self.app.start())
        self.url = f"http://127.0.0.1:{self.app.api.ports['http']}/api/v1"
        self.runners: list[SimRunner] = []
        self._tokens: dict[str, str] = {}

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 60) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout_s)

    def stop(self) -> None:
        for runner in self.runners:
            self.loop.call_soon_threadsafe(runner.stop)
        self.call(self.app.stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    @property
    def admin_password(self) -> str:
        return (self.data_dir / "initial-admin-password").read_text().strip()

    def login(self, login: str, password: str) -> requests.Response:
        return requests.post(f"{self.url}/auth/login",
                             json={"login": login, "password": password}, timeout=10)

    def token(self, role: str) -> str:
        """A session token for a user of that role (made on first use)."""
        if role not in self._tokens:
            if role == "admin":
                resp = self.login("admin", self.admin_password)
            else:
                password = f"{role}-password-long"
                made = requests.post(f"{self.url}/users", timeout=10,
                                     headers=self.auth("admin"),
                                     json={"login": role, "password": password, "role": role})
                assert made.status_code == 201 or "exists" in made.text, made.text
                resp = self.login(role, password)
            assert resp.status_code == 200, resp.text
            self._tokens[role] = resp.json()["token"]
        return self._tokens[role]

    def auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role)}"}

    def get(self, path: str, role: str = "admin", **kw: Any) -> requests.Response:
        return requests.get(self.url + path, headers=self.auth(role), timeout=30, **kw)

    def send(self, method: str, path: str, role: str = "admin", **kw: Any
             ) -> requests.Response:
        return requests.request(method, self.url + path, headers=self.auth(role), timeout=30,
                                **kw)

    def charge_point(self, cp_id: str, **sim: Any) -> SimRunner:
        """A simulated charge point connected to the hub, booted (``sim``: more of its
        SimConfig, e.g. quirks)."""
        url = f"ws://127.0.0.1:{self.app.ocpp.ports['ws']}"
        runner = SimRunner(SimConfig(cp_id, meter_interval_s=1.0, **sim), url, tick_s=0.5)
        self.runners.append(runner)
        self.loop.call_soon_threadsafe(lambda: self.loop.create_task(runner.run()))

        async def booted() -> None:
            await asyncio.wait_for(runner.connected.wait(), 30)
        self.call(booted())
        return runner


def hub_fixture(site: str = SITE, name: str = "hub") -> Any:
    """A module-scoped fixture ``name``: one hub on ``site`` for the module's tests."""
    @pytest.fixture(scope="module", name=name)
    def fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
        hub = Hub(tmp_path_factory.mktemp("hub"), site=site)
        try:
            yield hub
        finally:
            hub.stop()
    return fixture


hub_api = hub_fixture(name="hub_api")
