"""Every kind of alert through its whole life on a real store, with a fake clock: raised
after its hold time, once; acknowledged by an operator; ended when its condition ends
(or by its clearing event); told to the listeners each time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub_engine.alerts import KINDS, AlertService
from hub_engine.alerts.kinds import LATCHED
from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.store import Store

SITE = ("alerts: {offline_after_s: 600, at_limit_after_s: 3600, stalled_after_s: 1800}\n"
        "sites: [{id: s1, grid: {id: g, limit_a: 63, charge_points: [{id: CP1}]}}]\n")


class Scripted(AlertService):
    """The service with the site's state scripted by the test instead of read."""

    live: dict[str, Any]
    device_state: dict[str, Any]
    disks: dict[str, float]

    def _compose(self, got: Any, now: Any) -> dict[str, Any]:
        return self.live

    def _disks(self) -> dict[str, float]:
        return self.disks


class Devices:
    def __init__(self, service: Scripted) -> None:
        self.service = service

    def describe(self) -> dict[str, Any]:
        return {"devices": self.service.device_state}


class Links:
    """The CPO relay's links, scripted: PUB1's up or down with messages owed."""

    down = False

    def describe(self) -> list[dict[str, Any]]:
        return [{"charge_point_id": "PUB1", "linked": True, "online": not self.down,
                 "queued": 3, "last_error": "refused" if self.down else ""}]


def connector(state: str = "charging", **kw: Any) -> dict[str, Any]:
    return {"id": "CP1/1", "charge_point": "CP1", "site": "s1", "online": True,
            "status": "Charging", "state": state, "reason": "fair share", "limit_a": 16.0,
            "max_current_a": 16.0, "fault": None, "session": {"energy_wh": 100.0}, **kw}


CALM = {"connectors": [connector()], "sites": [{"id": "s1", "limit_a": 63.0}]}
# kind → (the state that raises it, its target, seconds it must last)
STATES: dict[str, tuple[dict[str, Any], str, float]] = {
    "cp_faulted": ({"connectors": [connector("faulted", status="Faulted",
                                             fault={"error_code": "GroundFailure"})]},
                   "CP1/1", 0),
    "cp_offline": ({"connectors": [connector("offline", online=False)]}, "CP1", 600),
    "site_at_limit": ({"connectors": [connector(limit_a=8.0, status="SuspendedEVSE")]}, "s1",
                      3600),
    "session_stalled": ({"connectors": [connector()]}, "CP1/1", 1800),
}


async def _service(tmp_path: Path) -> tuple[Scripted, Store, FakeClock, list[Any]]:
    clock = FakeClock(datetime(2026, 12, 4, 8, 0, tzinfo=UTC))
    store = Store(parse_config(SITE).store, tmp_path, clock)
    await store.start()
    service = Scripted(parse_config(SITE), store, clock)
    service.live, service.device_state, service.disks = CALM, {"tgbt": {"online": True}}, {}
    service.devices = Devices(service)  # type: ignore[assignment]
    service.cpo = Links()
    heard: list[Any] = []
    service.listeners.append(lambda what, alert: heard.append((what, alert["kind"])))
    await service.start()
    return service, store, clock, heard


@pytest.mark.parametrize("kind", sorted(KINDS))
async def test_each_alert_is_raised_once_acknowledged_and_ended(kind: str,
                                                                 tmp_path: Path) -> None:
    service, store, clock, heard = await _service(tmp_path)
    try:
        await service.check()  # calm: nothing
        assert heard == []

        async def wrong() -> None:
            if kind in STATES:
                state, _, _ = STATES[kind]
                service.live = {**CALM, **state}
            elif kind == "device_silent":
                service.device_state = {"tgbt": {"online": False, "error": "timeout"}}
            elif kind == "disk_low":
                service.disks = {"/var/lib/hub": 3.0}
            elif kind == "cpo_unreachable":
                service.cpo.down = True
            else:
                service.on_event(kind, "CP1/1", {"error": "the key is full"})
                await asyncio.sleep(0.05)
            await service.check()

        async def right() -> None:
            service.live, service.disks = CALM, {}
            service.device_state = {"tgbt": {"online": True}}
            service.cpo.down = False
            if KINDS[kind].latched:
                clearing = next(event for event, (alert, raised) in LATCHED.items()
                                if alert == kind and not raised)
                service.on_event(clearing, "CP1/1", {})
                await asyncio.sleep(0.05)
            else:
                service.live = {**CALM, "connectors": [connector(session={"energy_wh": 500.0})]}
            await service.check()
        await wrong()
        hold = STATES.get(kind, ({}, "", 0))[2] or {"cpo_unreachable": 600}.get(kind, 0)
        if hold:
            assert heard == [], "raised before its hold time"
            clock.advance(hold)
            await wrong()
        assert heard == [("raised", kind)]
        await wrong()
        await wrong()
        assert heard == [("raised", kind)], "raised twice"
        [alert] = [a for a in store.rows("SELECT id, kind, cleared_at FROM alerts")]
        assert alert[1] == kind and alert[2] is None
        acked = await service.ack(alert[0], "operator")
        assert acked is not None and acked["acked_by"] == "operator"
        assert heard[-1] == ("acked", kind)
        await right()
        assert heard[-1] == ("cleared", kind)
        assert store.rows("SELECT count(*) FROM alerts WHERE cleared_at IS NULL") == [(0,)]
        # Wrong again later: a new alert, not the old one reopened.
        clock.advance(10)
        await wrong()
        if hold:
            clock.advance(hold)
            await wrong()
        assert heard[-1] == ("raised", kind)
        assert store.rows("SELECT count(*) FROM alerts") == [(2,)]
    finally:
        await service.stop()
        await store.stop()
