"""Configuration keys across charge points, over real websockets: compared side by side
for a model, one key changed on all with mixed answers (Accepted, Rejected, RebootRequired,
NotSupported, offline), each kept in the history, a key the hub owns refused unsent."""

from __future__ import annotations

import time
from typing import Any

from tests.integration.api_fixtures import Hub, hub_fixture

hub = hub_fixture()


def _change(hub: Hub, key: str, value: str, role: str = "admin", **which: Any) -> Any:
    return hub.send("POST", "/configuration/change", role=role,
                    json={"key": key, "value": value, **(which or {"model": "SIM-1"})})


def _results(resp: Any) -> dict[str, str]:
    assert resp.status_code == 200, resp.text
    return {r["charge_point_id"]: r["result"] for r in resp.json()}


def test_one_key_on_a_model_with_mixed_answers_compared_and_kept(hub: Hub) -> None:
    hub.charge_point("CP1")
    cp2 = hub.charge_point("CP2")
    assert cp2.cp is not None
    cp2.cp.config_rejects.add("ConnectionTimeOut")
    before = hub.get("/configuration/compare", params={"model": "SIM-1"}).json()
    assert before["charge_points"] == ["CP1", "CP2"] and before["read"] == ["CP1", "CP2"]
    timeout = next(k for k in before["keys"] if k["key"] == "ConnectionTimeOut")
    assert timeout == {"key": "ConnectionTimeOut", "values": {"CP1": "60", "CP2": "60"},
                       "same": True}

    assert _results(_change(hub, "ConnectionTimeOut", "90")) == {
        "CP1": "Accepted", "CP2": "Rejected"}
    assert _results(_change(hub, "LightIntensity", "50")) == {
        "CP1": "RebootRequired", "CP2": "RebootRequired"}
    assert _results(_change(hub, "NoSuchKey", "1", node="parking")) == {
        "CP1": "NotSupported", "CP2": "NotSupported"}
    assert _results(_change(hub, "ConnectionTimeOut", "soon",
                            charge_points=["CP1"])) == {"CP1": "Rejected"}
    owned = _change(hub, "HeartbeatInterval", "10")
    assert owned.status_code == 400 and "set by the hub itself" in owned.text

    after = hub.get("/configuration/compare", params={"charge_points": "CP1,CP2"}).json()
    timeout = next(k for k in after["keys"] if k["key"] == "ConnectionTimeOut")
    assert timeout["values"] == {"CP1": "90", "CP2": "60"} and not timeout["same"]
    # Read back from the charge points themselves: the same.
    assert hub.send("POST", "/configuration/read", json={"node": "parking"}).json() == {
        "CP1": "accepted", "CP2": "accepted"}
    again = hub.get("/configuration/compare", params={"node": "parking"}).json()
    assert next(k for k in again["keys"] if k["key"] == "ConnectionTimeOut") == timeout
    assert next(k for k in again["keys"] if k["key"] == "LightIntensity")["same"]

    history = hub.get("/configuration/changes", role="operator").json()
    assert [(h["charge_point_id"], h["key"], h["result"]) for h in history[:3]] == [
        ("CP1", "ConnectionTimeOut", "Rejected"), ("CP2", "NoSuchKey", "NotSupported"),
        ("CP1", "NoSuchKey", "NotSupported")]
    assert not any(h["key"] == "HeartbeatInterval" for h in history)  # never sent
    assert history[0]["by"] == "admin" and history[0]["value"] == "soon"
    assert _change(hub, "ConnectionTimeOut", "30", role="operator").status_code == 403


def test_an_offline_charge_point_answers_offline_and_secrets_are_masked(hub: Hub) -> None:
    runner = next(r for r in hub.runners if r.config.id == "CP2")
    hub.call(runner.drop_link(600))  # its network is gone
    end = time.monotonic() + 20
    while "CP2" in hub.app.ocpp.stations and time.monotonic() < end:
        time.sleep(0.1)
    assert _results(_change(hub, "WifiPassword", "hunter22", node="parking")) == {
        "CP1": "NotSupported", "CP2": "offline"}
    history = hub.get("/configuration/changes", params={"charge_point_id": "CP2"}).json()
    assert history[0]["result"] == "offline" and history[0]["value"] == "***"
    bad = hub.get("/configuration/compare", params={"model": "NOPE"})
    assert bad.status_code == 422 and "NOPE" in bad.text
