"""Reservations over real websockets: a connector held for one badge, enforced by the hub
even against firmware that lets anyone start on it and does not stop a refused start,
used up by its holder's session, refused where a car is, cancelled; and, held, it counts
as taken in the fallback budget."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from hub_engine.access.reservations import Held, Reservations
from hub_engine.clock import FakeClock
from hub_engine.ems.fallback_sync import is_plugged
from hub_engine.ems.interfaces import ConnectorState
from hub_engine.sim.ev import EV
from tests.integration.api_fixtures import Hub, hub_fixture

hub = hub_fixture()


def _until(check: Any, timeout_s: float = 15) -> None:
    end = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.1)


def _session(hub: Hub, tx: int) -> dict[str, Any]:
    return hub.get(f"/sessions/{tx}").json()  # type: ignore[no-any-return]


def test_a_held_connector_starts_only_for_its_badge(hub: Hub) -> None:
    runner = hub.charge_point("CP1")
    cp = runner.cp
    assert cp is not None
    made = hub.send("POST", "/charge-points/CP1/reservations", role="operator",
                    json={"connector_id": 1, "id_tag": "R1", "minutes": 30})
    assert made.status_code == 201, made.text
    r = made.json()
    assert r["status"] == "Accepted" and r["active"] and r["created_by"] == "operator"
    _until(lambda: cp.connectors[1].status == "Reserved")
    assert [x["id"] for x in hub.get("/reservations", params={"active": "true"}).json()] == [
        r["id"]]
    # This firmware lets another badge start on its reserved connector, and goes on
    # charging when the hub refuses it (StopTransactionOnInvalidId false): the hub stops
    # it itself.
    tx = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="OTHER"))
    _until(lambda: cp.connectors[1].transaction_id is None)
    _until(lambda: _session(hub, tx)["stop_reason"] == "Remote")
    assert hub.get("/reservations", params={"active": "true"}).json()[0]["id"] == r["id"]
    # Its holder: charges, and the reservation is used up.
    tx = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="r1"))  # any case
    assert cp.connectors[1].transaction_id == tx
    _until(lambda: hub.get("/reservations").json()[0]["status"] == "used")
    assert hub.get("/reservations").json()[0]["transaction_id"] == tx


def test_refused_where_a_car_is_and_cancelled_frees_it(hub: Hub) -> None:
    runner = hub.charge_point("CP2")
    cp = runner.cp
    assert cp is not None
    hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="PARKED"))
    busy = hub.send("POST", "/charge-points/CP2/reservations", json={
        "connector_id": 1, "id_tag": "R2"}).json()
    assert busy["status"] == "Occupied" and not busy["active"]
    hub.call(cp.unplug(1))
    held = hub.send("POST", "/charge-points/CP2/reservations", json={
        "connector_id": 1, "id_tag": "R2"}).json()
    assert held["status"] == "Accepted"
    again = hub.send("POST", "/charge-points/CP2/reservations", json={
        "connector_id": 1, "id_tag": "R3"})
    assert again.status_code == 400 and "reserved already" in again.text
    gone = hub.send("DELETE", f"/reservations/{held['id']}", role="operator").json()
    assert gone["answer"] == "Accepted" and gone["status"] == "cancelled"
    assert not gone["active"]
    tx = hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="ANYONE"))
    assert cp.connectors[1].transaction_id == tx  # free again
    assert hub.send("DELETE", "/reservations/999").status_code == 404
    assert hub.send("POST", "/charge-points/NOPE/reservations", json={
        "connector_id": 1, "id_tag": "X"}).status_code == 404
    assert hub.send("POST", "/charge-points/CP2/reservations", role="reader", json={
        "connector_id": 1, "id_tag": "X"}).status_code == 403


def test_a_reservation_ends_at_its_expiry_and_counts_in_the_fallback() -> None:
    clock = FakeClock()
    held = Reservations(None, None, clock)  # type: ignore[arg-type]
    held.held[7] = Held(7, "CP1", 0, "R1", clock.now() + timedelta(minutes=10))
    assert held.refuses("CP1", 2, "OTHER") is not None  # connector 0: all of them
    assert held.refuses("CP1", 2, "CHILD", parent_id_tag="r1") is None  # its group
    assert held.refuses("CP2", 1, "OTHER") is None
    clock.advance(601)
    assert held.refuses("CP1", 2, "OTHER") is None  # expired
    assert is_plugged(ConnectorState(True, "Reserved", None, None, None))
