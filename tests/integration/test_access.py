"""Access control over real websockets against a whole hub: every idTagInfo status,
credit exhaustion mid-session (limit to 0 A, or stop), local lists (full, split by the
charge point's maximum length, differential, ClearCache on a block), the offline policy
set at boot, CSV import (all or nothing) and export."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests
from ocpp.routing import on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from hub_engine.clock import iso_utc
from tests.integration.api_fixtures import Hub, site
from tests.ocpp_client import (
    DEFAULT_CONFIG,
    ObedientChargePoint,
    boot_until_accepted,
    connected,
)

# CP1 has two connectors here: the same badge on both.
SITE = site(accept_all=False, ems="cycle_s: 0.5, ", more="access: {check_s: 0.5}\n").replace(
    "{id: CP1}", "{id: CP1, connectors: 2}")


class BadgeReader(ObedientChargePoint):
    """A charge point with a badge reader and a local list (two entries per message)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, config={**DEFAULT_CONFIG, "SendLocalListMaxLength": "2",
                                        "LocalAuthListEnabled": "true"}, **kwargs)
        self.list_version = 0
        self.local_list: dict[str, dict[str, Any]] = {}
        self.lists: list[tuple[int, str, list[Any]]] = []
        self.stops: list[int] = []
        for action, handler in (("SendLocalList", self.on_list),
                                ("GetLocalListVersion", self.on_version),
                                ("ClearCache", self.on_clear),
                                ("RemoteStopTransaction", self.on_remote_stop)):
            self.route_map[action] = {"_on_action": handler, "_skip_schema_validation": False}

    @on(Action.get_local_list_version)
    def on_version(self) -> Any:
        return call_result.GetLocalListVersion(list_version=self.list_version)

    @on(Action.send_local_list)
    def on_list(self, list_version: int, update_type: str,
                local_authorization_list: list[Any] | None = None) -> Any:
        items = local_authorization_list or []
        self.lists.append((list_version, update_type, items))
        if update_type == "Full":
            self.local_list = {}
        for item in items:
            if item.get("id_tag_info") is None:
                self.local_list.pop(item["id_tag"], None)
            else:
                self.local_list[item["id_tag"]] = item["id_tag_info"]
        self.list_version = list_version
        return call_result.SendLocalList(status="Accepted")

    @on(Action.clear_cache)
    def on_clear(self) -> Any:
        self.received.append(("ClearCache", {}))
        return call_result.ClearCache(status="Accepted")

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> Any:
        self.stops.append(transaction_id)
        return call_result.RemoteStopTransaction(status="Accepted")

    async def authorize(self, tag: str) -> dict[str, Any]:
        resp = await self.call(call.Authorize(id_tag=tag))
        return dict(resp.id_tag_info)

    async def start_tx(self, tag: str, connector: int = 1, meter_wh: int = 1000
                    ) -> tuple[int, dict[str, Any]]:
        resp = await self.call(call.StartTransaction(
            connector_id=connector, id_tag=tag, meter_start=meter_wh,
            timestamp=iso_utc(datetime.now(UTC))))
        return resp.transaction_id, dict(resp.id_tag_info)

    async def energy(self, tx: int, wh: int, connector: int = 1) -> None:
        await self.call(call.MeterValues(connector_id=connector, transaction_id=tx, meter_value=[
            {"timestamp": iso_utc(datetime.now(UTC)), "sampledValue": [
                {"value": str(wh), "measurand": "Energy.Active.Import.Register",
                 "unit": "Wh"}]}]))

    async def stop(self, tx: int, wh: int) -> None:
        await self.call(call.StopTransaction(meter_stop=wh, transaction_id=tx,
                                             timestamp=iso_utc(datetime.now(UTC))))


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    hub = Hub(tmp_path, site=SITE)
    try:
        yield hub
    finally:
        hub.stop()


def _ws(hub: Hub) -> str:
    return f"ws://127.0.0.1:{hub.app.ocpp.ports['ws']}"


def _member(hub: Hub, name: str, **body: Any) -> None:
    resp = hub.send("PUT", f"/members/{name}", json=body)
    assert resp.status_code == 200, resp.text


def _badge(hub: Hub, tag: str, **body: Any) -> None:
    resp = hub.send("PUT", f"/badges/{tag}", json=body)
    assert resp.status_code == 200, resp.text


async def _until(check: Any, timeout_s: float = 15) -> Any:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = check()
        if value:
            return value
        await asyncio.sleep(0.2)
    return check()


async def test_every_status_case(hub: Hub) -> None:
    soon = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    _member(hub, "alice")
    _member(hub, "bob", blocked=True)
    _member(hub, "carol", charge_points=["CP2"])
    _member(hub, "night", windows=[{"days": [0, 1, 2, 3, 4, 5, 6], "start": "03:00",
                                    "end": "03:01"}])
    _member(hub, "dry", credit_wh=0)
    _badge(hub, "ALICE1", member="alice", expiry=soon, parent_id_tag="FLEET")
    _badge(hub, "BOB1", member="bob")
    _badge(hub, "OLD1", member="alice", expiry="2020-01-01T00:00:00Z")
    _badge(hub, "CAROL1", member="carol")
    _badge(hub, "NIGHT1", member="night")
    _badge(hub, "DRY1", member="dry")
    async with connected(_ws(hub), "CP1", BadgeReader) as cp:
        await boot_until_accepted(cp)
        ok = await cp.authorize("alice1")  # idTags compare case-insensitively
        assert ok["status"] == "Accepted" and ok["parent_id_tag"] == "FLEET"
        assert ok["expiry_date"].startswith(soon[:10])
        for tag, status in [("BOB1", "Blocked"), ("OLD1", "Expired"), ("CAROL1", "Invalid"),
                            ("NIGHT1", "Blocked"), ("DRY1", "Blocked"),
                            ("STRANGER", "Invalid")]:
            assert (await cp.authorize(tag))["status"] == status, tag
        tx, info = await cp.start_tx("ALICE1", connector=1)
        assert info["status"] == "Accepted"
        _, again = await cp.start_tx("Alice1", connector=2)  # the same badge, still charging
        assert again["status"] == "ConcurrentTx"
        await cp.stop(tx, 1500)
    unknown = hub.get("/unknown-badges", "operator").json()
    assert [(u["id_tag"], u["charge_point"]) for u in unknown] == [("STRANGER", "CP1")]
    _badge(hub, "STRANGER", member="alice")  # enrolled in one call
    assert hub.get("/unknown-badges", "operator").json() == []


async def test_credit_runs_out_mid_session_limit_then_stop(hub: Hub) -> None:
    _member(hub, "limited", credit_wh=500, on_exhausted="limit")
    _member(hub, "stopped", credit_wh=500, on_exhausted="stop")
    _badge(hub, "LIM1", member="limited")
    _badge(hub, "STOP1", member="stopped")
    async with connected(_ws(hub), "CP1", BadgeReader) as cp:
        await boot_until_accepted(cp)
        tx, info = await cp.start_tx("LIM1", meter_wh=10_000)
        assert info["status"] == "Accepted"
        await cp.energy(tx, 10_300)
        await asyncio.sleep(1.5)
        assert not any(x["target"] == "CP1/1" for x in hub.get("/ems/limits").json())
        await cp.energy(tx, 10_600)  # 600 Wh used of 500
        limit = await _until(lambda: [x for x in hub.get("/ems/limits").json()
                                      if x["target"] == "CP1/1"])
        assert limit[0]["limit_a"] == 0 and limit[0]["source"] == "access control"
        await cp.stop(tx, 10_650)
        ledger = await _until(lambda: hub.get("/members/limited/ledger").json()
                              if len(hub.get("/members/limited/ledger").json()) > 1 else None)
        assert (ledger[0]["delta_wh"], ledger[0]["balance_wh"], ledger[0]["reason"]) == (
            -650, -150, "session")
        await _until(lambda: not hub.get("/ems/limits").json())
        assert (await cp.authorize("LIM1"))["status"] == "Blocked"  # nothing left

        tx2, _ = await cp.start_tx("STOP1", connector=2, meter_wh=0)
        await cp.energy(tx2, 800, connector=2)
        assert await _until(lambda: cp.stops == [tx2])  # RemoteStopTransaction sent


async def test_local_lists_full_split_differential_and_clear_cache(hub: Hub) -> None:
    _member(hub, "alice")
    _member(hub, "carol", charge_points=["CP2"])
    for tag in ("A1", "A2", "A3"):
        _badge(hub, tag, member="alice")
    _badge(hub, "C1", member="carol")  # not allowed on CP1: not in its list
    async with connected(_ws(hub), "CP1", BadgeReader) as cp:
        await boot_until_accepted(cp)
        await _until(lambda: cp.list_version == 2)
        assert [(v, u, len(items)) for v, u, items in cp.lists] == [
            (1, "Full", 2), (2, "Differential", 1)]  # SendLocalListMaxLength 2
        assert set(cp.local_list) == {"A1", "A2", "A3"}
        assert all(i["status"] == "Accepted" for i in cp.local_list.values())
        policy = {k: v for n, k_v in cp.received if n == "ChangeConfiguration"
                  for k, v in [(k_v["key"], k_v["value"])]}
        assert policy["AuthorizationCacheEnabled"] == "false"
        assert policy["LocalAuthorizeOffline"] == "true"
        assert policy["AllowOfflineTxForUnknownId"] == "false"
        _badge(hub, "A2", member="alice", status="Blocked")
        await _until(lambda: cp.list_version == 3)
        assert cp.lists[-1][1:] == ("Differential", [
            {"id_tag": "A2", "id_tag_info": {"status": "Blocked"}}])
        assert ("ClearCache", {}) in cp.received
        assert hub.send("DELETE", "/badges/A3").status_code == 204
        await _until(lambda: cp.list_version == 4)
        assert cp.lists[-1][2] == [{"id_tag": "A3"}] and "A3" not in cp.local_list
    async with connected(_ws(hub), "CP1", BadgeReader) as fresh:  # a replaced unit: v0
        await boot_until_accepted(fresh)
        await _until(lambda: fresh.list_version >= 5)
        assert fresh.lists[0][1] == "Full" and set(fresh.local_list) == {"A1", "A2"}


def test_csv_import_is_all_or_nothing_and_exports_back(hub: Hub) -> None:
    url = f"{hub.url}/access/import"
    bad = ("member,id_tag,windows,credit_wh,charge_points\n"
           "alice,AAA1,Mon-Fri 07:00-19:00,5000,parking\n"
           "bob,BBB1,lun-ven 7h-25h,,\n"
           "carol,CCC1,,,CP7\n")
    resp = requests.post(url, data=bad, headers={**hub.auth("admin"),
                                                 "Content-Type": "text/csv"}, timeout=10)
    assert resp.status_code == 422
    assert [x["line"] for x in resp.json()["error"]["detail"]["lines"]] == [3, 4]
    assert hub.get("/members").json() == [] and hub.get("/badges").json() == []
    # Said in the caller's language (the French UI sends Accept-Language: fr).
    resp = requests.post(url, data=bad, headers={**hub.auth("admin"), "Content-Type": "text/csv",
                                                 "Accept-Language": "fr-FR,fr;q=0.9"}, timeout=10)
    assert resp.json()["error"]["message"] == (
        "rien n'est importé : ligne 3 : plage 'lun-ven 7h-25h' : '25h' n'est pas une heure "
        "(07:00 ou 7h30); ligne 4 : charge_points : aucune borne ni aucun nœud 'CP7'")
    good = bad.replace("7h-25h", "7h-19h30").replace("CP7", "CP2")
    resp = requests.post(url, data=good, headers={**hub.auth("admin"),
                                                  "Content-Type": "text/csv"}, timeout=10)
    assert resp.status_code == 200 and resp.json() == {"badges": 3, "members": 3}
    members = {m["name"]: m for m in hub.get("/members").json()}
    assert members["alice"]["credit_wh"] == 5000 and members["alice"]["badges"] == ["AAA1"]
    assert members["alice"]["windows"][0]["days"] == [0, 1, 2, 3, 4]
    # French day names and hours as people write them (lun-ven 7h-19h30)
    assert members["bob"]["windows"] == [{"days": [0, 1, 2, 3, 4], "start": "07:00",
                                          "end": "19:30"}]
    exported = hub.get("/access/export").text
    assert exported.splitlines()[0].startswith("member,group,id_tag")
    assert "alice,,AAA1,,Accepted,,parking,Mon,Tue,Wed,Thu,Fri 07:00-19:00" not in exported
    assert '"Mon,Tue,Wed,Thu,Fri 07:00-19:00"' in exported
    again = requests.post(url, data=exported, headers={**hub.auth("admin"),
                                                       "Content-Type": "text/csv"}, timeout=10)
    assert again.status_code == 200  # what is exported imports back
    assert hub.send("POST", "/access/import", "reader").status_code == 403


async def test_credit_refills_by_the_calendar_with_a_fake_clock(tmp_path: Path) -> None:
    """Daily refills at each local midnight, across the autumn DST night, booked in the
    ledger; the service runs on a fake clock advanced by hand."""
    from hub_engine.access import AccessService, repo
    from hub_engine.clock import FakeClock
    from hub_engine.config import parse_config
    from hub_engine.store import Store

    clock = FakeClock(datetime(2026, 10, 24, 10, 0, tzinfo=UTC))  # noon in Paris
    config = parse_config(SITE % (tmp_path, "null"))
    store = Store(config.store, tmp_path, clock)
    await store.start()
    try:
        await store.core.write(repo.save_member(
            {"name": "resident", "credit_wh": 3000, "refill_period": "daily",
             "refill_wh": 5000, "ceiling_wh": 12000}, clock.now()))
        access = AccessService(config, store, clock)
        access.reload()
        await access.check()
        assert access.members[1].credit_wh == 3000  # no midnight passed yet
        clock.advance(timedelta(hours=45).total_seconds())  # Monday 26th, 08:00 CET
        await access.check()
        rows = store.rows("SELECT ts, delta_wh, balance_wh, reason FROM member_ledger"
                          " ORDER BY id")
        assert rows == [
            ("2026-10-24T10:00:00.000Z", 3000, 3000, "opening"),
            ("2026-10-24T22:00:00.000Z", 5000, 8000, "refill"),  # 25th 00:00 CEST
            ("2026-10-25T23:00:00.000Z", 4000, 12000, "refill")]  # 26th 00:00 CET, capped
        assert access.members[1].credit_wh == 12000
        await access.check()  # nothing twice
        assert len(store.rows("SELECT 1 FROM member_ledger")) == 3
    finally:
        await store.stop()


async def test_a_badge_passes_its_rights_to_the_ems(hub: Hub) -> None:
    _member(hub, "fleet", priority=3, min_current_a=10, solar_mode="surplus")
    _member(hub, "legacy", pv_only=True)  # a client written before solar modes
    modes = {m["name"]: m["solar_mode"] for m in hub.get("/members").json()}
    assert modes == {"fleet": "surplus", "legacy": "surplus"}
    bad = hub.send("PUT", "/members/odd", json={"solar_mode": "sunny"})
    assert bad.status_code == 422 and "solar_mode" in bad.text
    _badge(hub, "VAN1", member="fleet")
    async with connected(_ws(hub), "CP1", BadgeReader) as cp:
        await boot_until_accepted(cp)
        tx, info = await cp.start_tx("VAN1")
        assert info["status"] == "Accepted"
        rights = await _until(lambda: hub.app.access.rights().get("CP1/1"))
        assert (rights.tier, rights.min_current_a, rights.solar) == (3, 10.0, "surplus")
        # This site has no grid meter: no export can be seen, so the van gets nothing.
        record = await _until(lambda: [x for x in hub.get("/ems").json()["record"]["inputs"]
                                       ["device_limits"] if x["source"] == "solar"])
        assert record == [{"target": "CP1/1", "source": "solar", "limit_a": 0.0}]
        await cp.stop(tx, 1000)
        assert await _until(lambda: not hub.app.access.rights())


async def test_a_member_made_a_pseudonym_leaves_the_charge_points_lists(tmp_path: Path) -> None:
    """GDPR: after store.pseudonymise_after_years without a session, a member's badges
    are blocked pseudonyms; the charge points' local lists drop the real badge at once."""
    hub = Hub(tmp_path, site=SITE + "store: {pseudonymise_after_years: 2}\n")
    try:
        _member(hub, "old")
        _member(hub, "active")
        _badge(hub, "OLD1", member="old")
        _badge(hub, "NEW1", member="active")
        three_years = iso_utc(datetime.now(UTC) - timedelta(days=3 * 365))

        def age(db: Any) -> None:  # "old" was made, and last charged, three years ago
            db.execute("UPDATE members SET created_at = ?", [three_years])
            db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                       " meter_start_wh, started_at, stopped_at, energy_wh)"
                       " VALUES ('CP1', 1, 'OLD1', 0, ?, ?, 5000)", [three_years, three_years])
            db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                       " meter_start_wh, started_at, stopped_at, energy_wh) VALUES"
                       " ('CP1', 1, 'NEW1', 0, ?, ?, 1000)", [iso_utc(datetime.now(UTC))] * 2)
        hub.app.store.core.submit(age).result(30)
        async with connected(_ws(hub), "CP1", BadgeReader) as cp:
            await boot_until_accepted(cp)
            await _until(lambda: set(cp.local_list) == {"OLD1", "NEW1"})
            version = cp.list_version
            report = await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(
                hub.app.retention.run_once(), hub.loop))
            assert report["pseudonymised_members"] == 1
            await _until(lambda: cp.list_version > version and "OLD1" not in cp.local_list)
            assert "NEW1" in cp.local_list
            auth = await cp.call(call.Authorize(id_tag="OLD1"))
            assert auth.id_tag_info["status"] == "Invalid"
    finally:
        hub.stop()
