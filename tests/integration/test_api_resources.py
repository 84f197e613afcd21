"""The API's resources over real HTTP against a whole hub with simulated charge points:
charge points, commands through the command layer, sessions, EMS limits (kept across a
restart), devices, system; bad input answered 4xx with a reason."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import requests

from hub_engine.sim.ev import EV
from tests.integration.api_fixtures import Hub, hub_api

__all__ = ["hub_api"]


def _until(check, timeout_s: float = 20):  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout_s
    while True:
        value = check()
        if value or time.monotonic() > end:
            return value
        time.sleep(0.2)


def test_charge_points_commands_and_sessions(hub_api: Hub) -> None:
    runner = hub_api.charge_point("CP1")
    cps = {cp["id"]: cp for cp in hub_api.get("/charge-points", "reader").json()}
    assert cps["CP1"]["online"] and not cps["CP2"]["online"] and cps["CP2"]["configured"]
    detail = hub_api.get("/charge-points/CP1", "reader").json()
    assert detail["vendor"] and "ChargeProfileMaxStackLevel" in detail["configuration"]
    assert "AuthorizationKey" not in detail["configuration"]
    assert hub_api.get("/charge-points/CP9", "reader").status_code == 404
    log = hub_api.get("/charge-points/CP1/log", "reader", params={"limit": 5}).json()
    assert len(log) == 5 and all(entry["direction"] in ("in", "out") for entry in log)

    assert runner.cp is not None
    tx = hub_api.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="BADGE1"))
    active = _until(lambda: hub_api.get("/sessions", "reader",
                                        params={"active": "true"}).json())
    assert [s["id"] for s in active] == [tx] and active[0]["id_tag"] == "BADGE1"
    assert hub_api.get("/sessions", "reader", params={"id_tag": "badge1"}).json()[0]["id"] == tx
    time.sleep(3)  # a few MeterValues (every second)

    # A command goes through the command layer: checked, sent, its outcome returned.
    bad = hub_api.send("POST", "/charge-points/CP1/commands/remote_stop", "operator",
                       json={"transaction_id": "twelve"})
    assert bad.status_code == 400 and "transaction_id" in bad.json()["error"]["message"]
    job = hub_api.send("POST", "/charge-points/CP1/commands/remote_stop", "operator",
                       json={"transaction_id": tx})
    # 202 with the command's id; a simulated charge point may have answered already.
    assert job.status_code == 202 and job.json()["state"] in ("pending", "done")
    done = _until(lambda: (hub_api.get(f"/commands/{job.json()['id']}", "operator").json()
                           if hub_api.get(f"/commands/{job.json()['id']}", "operator")
                           .json()["state"] == "done" else None))
    assert done["result"]["outcome"] == "accepted" and done["by"] == "operator"
    stopped = _until(lambda: hub_api.get(f"/sessions/{tx}", "reader").json()["stopped_at"])
    assert stopped
    curve = hub_api.get(f"/sessions/{tx}/meter-values", "reader").json()
    assert curve and {"ts", "measurand", "unit", "value"} <= set(curve[0])
    waited = hub_api.send("POST", "/charge-points/CP1/commands/trigger_message", "operator",
                          params={"wait_s": 10}, json={"requested_message": "Heartbeat"})
    assert waited.status_code == 200 and waited.json()["result"]["outcome"] == "accepted"
    offline = hub_api.send("POST", "/charge-points/CP2/commands/reset", "operator",
                           params={"wait_s": 5}, json={"type": "Soft"})
    assert offline.json()["result"]["outcome"] == "offline"


def test_raw_profiles_and_hub_owned_keys_are_out_of_reach(hub_api: Hub) -> None:
    for name in ("set_charging_profile", "clear_charging_profile"):
        resp = hub_api.send("POST", f"/charge-points/CP1/commands/{name}", json={})
        assert resp.status_code == 404, name  # not even for an administrator
    names = {c["name"] for c in hub_api.get("/command-types", "reader").json()}
    assert "remote_start" in names and not names & {"set_charging_profile",
                                                    "clear_charging_profile"}
    for key in ("AuthorizationKey", "HeartbeatInterval", "ChargeProfileMaxStackLevel"):
        resp = hub_api.send("POST", "/charge-points/CP1/commands/change_configuration",
                            json={"key": key, "value": "1"})
        assert resp.status_code == 400 and "set by the hub" in resp.json()["error"]["message"]
    operator = hub_api.send("POST", "/charge-points/CP1/commands/change_configuration",
                            "operator", json={"key": "MeterValuesSignatureContexts",
                                              "value": "x"})
    assert operator.status_code == 403  # an admin-only command


def test_external_limits_apply_and_survive_a_restart(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    expires = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    try:
        put = hub.send("PUT", "/ems/limits", "operator",
                       json={"target": "parking", "limit_a": 20, "expires_at": expires,
                             "on_expiry": "hold", "fallback_a": 25})
        assert put.status_code == 200, put.text
        assert put.json()["source"] == "api:operator" and put.json()["limit_a"] == 20
        for body, reason in [
            ({"target": "nowhere", "limit_a": 5, "expires_at": expires}, "nowhere"),
            ({"target": "grid", "limit_a": 5, "expires_at": "2020-01-01T00:00:00Z"},
             "future"),
            ({"target": "grid", "limit_a": 5, "expires_at": expires, "on_expiry": "hold"},
             "fallback"),
        ]:
            resp = hub.send("PUT", "/ems/limits", "operator", json=body)
            assert resp.status_code == 400 and reason in resp.json()["error"]["message"]
        naive = hub.send("PUT", "/ems/limits", "operator",
                         json={"target": "grid", "limit_a": 5,
                               "expires_at": "2099-01-01T00:00:00"})
        assert naive.status_code == 422 and "expires_at" in naive.json()["error"]["detail"]["json"]
        record = _until(lambda: hub.get("/ems", "reader").json()["record"]["external_limits"])
        assert record[0]["target"] == "parking"
    finally:
        hub.stop()
    hub = Hub(tmp_path)  # a new engine on the same data: the limit is still in force
    try:
        limits = hub.get("/ems/limits", "reader").json()
        assert [(x["target"], x["limit_a"], x["on_expiry"]) for x in limits] == [
            ("parking", 20, "hold")]
        assert hub.send("DELETE", "/ems/limits/parking", "operator",
                        params={"source": "api:someone"}).status_code == 404
        assert hub.send("DELETE", "/ems/limits/parking", "operator",
                        params={"source": "api:operator"}).status_code == 204
        assert hub.get("/ems/limits", "reader").json() == []
    finally:
        hub.stop()
    hub = Hub(tmp_path)  # and the withdrawal was stored too
    try:
        assert hub.get("/ems/limits", "reader").json() == []
    finally:
        hub.stop()


def test_system_devices_and_errors(hub_api: Hub) -> None:
    assert requests.get(f"{hub_api.url}/health", timeout=10).json()["status"] == "ok"
    system = hub_api.get("/system", "reader").json()
    assert system["charge_points_configured"] == 2 and system["sites"] == ["s1"]
    assert hub_api.get("/devices", "reader").json() == {"devices": {}, "inputs": {}}
    base = hub_api.url
    notfound = requests.get(f"{base}/nothing-here", timeout=10)
    assert notfound.status_code == 404 and notfound.json()["error"]["code"] == "not_found"
    method = requests.delete(f"{base}/health", timeout=10)
    assert method.status_code == 405 and "GET" in method.headers["Allow"]
    broken = requests.post(f"{base}/auth/login", data=b"{not json",
                           headers={"Content-Type": "application/json"}, timeout=10)
    assert broken.status_code == 400 and broken.json()["error"]["code"] == "bad_request"
    huge = requests.post(f"{base}/auth/login", data=b"x" * (9 << 20),
                         headers={"Content-Type": "application/json"}, timeout=10)
    assert huge.status_code == 413
    query = hub_api.get("/sessions", "reader", params={"limit": 0})
    assert query.status_code == 422 and "limit" in query.json()["error"]["detail"]["query"]
    far = hub_api.get("/sessions/99999999999999999999999", "reader")
    assert far.status_code == 404
    assert hub_api.get("/system/ca-certificate", "reader").status_code == 404  # no TLS at all


def test_the_live_stream_sends_events_and_is_capped(hub_api: Hub) -> None:
    streams = []
    try:
        # at most half of http.threads (16 by default) hold a thread each with a stream
        for _ in range(hub_api.config.http.threads // 2):
            resp = requests.get(f"{hub_api.url}/live/stream", headers=hub_api.auth("reader"),
                                stream=True, timeout=10)
            assert resp.status_code == 200
            assert resp.headers["Content-Type"].startswith("text/event-stream")
            streams.append(resp)
        lines = streams[0].iter_lines(decode_unicode=True)
        assert next(lines) == "event: live"
        data = next(lines)
        assert data.startswith("data: ") and '"connectors"' in data
        extra = requests.get(f"{hub_api.url}/live/stream", headers=hub_api.auth("reader"),
                             timeout=10)
        assert extra.status_code == 503 and extra.headers["Retry-After"] == "5"
        assert hub_api.get("/live", "reader").status_code == 200  # polling still works
    finally:
        for resp in streams:
            resp.close()
