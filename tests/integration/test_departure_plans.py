"""Departure plans over the real API: two cars on a 40 A board, one given the time it
leaves and the energy it needs; the EMS gives it that first, the board still wins, the
plan outlives a restart and goes with its session."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub_engine.sim.ev import EV
from tests.integration.api_fixtures import Hub


def _limits(hub: Hub) -> dict[str, tuple[float, str]]:
    record = hub.get("/ems", "reader").json()["record"]
    return {c["id"]: (c["limit_a"], c["reason"]) for c in record["connectors"]}


def _until(check: Any, timeout_s: float = 20) -> Any:
    end = time.monotonic() + timeout_s
    while True:
        got = check()
        if got or time.monotonic() > end:
            return got
        time.sleep(0.25)


def test_a_departure_plan_is_served_first_within_the_board(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    try:
        cps = {k: hub.charge_point(k) for k in ("CP1", "CP2")}
        tx = {k: hub.call(r.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag=k))
              for k, r in cps.items() if r.cp is not None}
        assert _until(lambda: _limits(hub)["CP1/1"][0] == _limits(hub)["CP2/1"][0] == 20.0)
        leaves = datetime.now(UTC) + timedelta(hours=1)
        # 17 kWh in an hour on three phases: 24.6 A, and a tenth more for the taper.
        put = hub.send("PUT", f"/sessions/{tx['CP1']}/plan", "operator",
                       json={"departure": leaves.isoformat(), "energy_wh": 17_000})
        assert put.status_code == 200, put.text
        assert put.json()["source"] == "api:operator" and put.json()["energy_wh"] == 17_000
        got = _until(lambda: (lambda x: x if x["CP1/1"][0] >= 26.5 else None)(_limits(hub)))
        assert got and got["CP1/1"][1] == "departure plan", got
        assert got["CP1/1"][0] <= 27.2 and got["CP1/1"][0] + got["CP2/1"][0] <= 40.0, got
        session = hub.get(f"/sessions/{tx['CP1']}", "reader").json()
        assert session["plan"]["energy_wh"] == 17_000
        record = hub.get("/ems", "reader").json()["record"]["connectors"]
        assert record[0]["session"]["energy_need_wh"] == 17_000
        assert record[0]["session"]["departure"][:16] == leaves.isoformat()[:16]
        # What it took so far counts against its need (its register less its meterStart).
        assert _until(lambda: hub.get("/ems", "reader").json()["record"]["connectors"][0][
            "session"]["energy_wh"] > 0)

        bad = [({"departure": "2020-01-01T00:00:00Z", "energy_wh": 1}, 422, "departure"),
               ({"departure": leaves.isoformat(), "energy_wh": 0}, 422, "energy_wh"),
               ({"departure": leaves.replace(tzinfo=None).isoformat(), "energy_wh": 1}, 422,
                "departure")]
        for body, status, field in bad:
            resp = hub.send("PUT", f"/sessions/{tx['CP1']}/plan", "operator", json=body)
            assert resp.status_code == status and field in resp.text, resp.text
        assert hub.send("PUT", "/sessions/999999/plan", "operator",
                        json={"departure": leaves.isoformat(), "energy_wh": 1}
                        ).status_code == 404
        assert hub.send("PUT", f"/sessions/{tx['CP1']}/plan", "reader",
                        json={"departure": leaves.isoformat(), "energy_wh": 1}
                        ).status_code == 403
        hub.call(cps["CP2"].cp.unplug(1))  # type: ignore[union-attr]
        assert _until(lambda: not hub.get(f"/sessions/{tx['CP2']}", "reader").json()["active"])
        ended = hub.send("PUT", f"/sessions/{tx['CP2']}/plan", "operator",
                         json={"departure": leaves.isoformat(), "energy_wh": 1})
        assert ended.status_code == 409 and "ended" in ended.text
    finally:
        hub.stop()
    hub = Hub(tmp_path)  # the same data: the open session's plan is back in the EMS
    try:
        plan = hub.call(_on_loop(lambda: hub.app.ems.plans.get("CP1/1", tx["CP1"])))
        assert plan is not None and plan.energy_wh == 17_000 and plan.source == "api:operator"
        assert hub.send("DELETE", f"/sessions/{tx['CP1']}/plan", "operator").status_code == 204
        assert hub.get(f"/sessions/{tx['CP1']}", "reader").json()["plan"] is None
        assert hub.call(_on_loop(lambda: hub.app.ems.plans.get("CP1/1", tx["CP1"]))) is None
    finally:
        hub.stop()


async def _on_loop(fn: Any) -> Any:
    return fn()


def test_a_flow_sets_and_withdraws_a_plan_over_the_bus(tmp_path: Path) -> None:
    """What a Node-RED flow does (the hub-command node, msg.payload = {command, args})."""
    from tests.integration.test_bus import Client

    hub = Hub(tmp_path)
    client = Client(hub)
    try:
        operator = hub.send("POST", "/tokens", json={"name": "node-red", "role": "operator"}
                            ).json()["token"]
        reader = hub.send("POST", "/tokens", json={"name": "viewer", "role": "reader"}
                          ).json()["token"]
        runner = hub.charge_point("CP1")
        assert runner.cp is not None
        tx = hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5)))
        leaves = (datetime.now(UTC) + timedelta(hours=8)).isoformat()
        args = {"session": tx, "departure": leaves, "energy_wh": 30_000}
        assert client.command(reader, "ems.plan.set", args)["data"]["code"] == "forbidden"
        for bad, field in [({**args, "departure": "tomorrow"}, "departure"),
                           ({**args, "energy_wh": "lots"}, "energy_wh"),
                           ({**args, "energy_wh": -1}, "energy_wh"),
                           ({**args, "session": "x"}, "session")]:
            got = client.command(operator, "ems.plan.set", bad)["data"]
            assert got["code"] == "bad_args" and field in got["message"], got
        missing = client.command(operator, "ems.plan.set", {**args, "session": 10**6})
        assert missing["data"]["code"] == "refused"
        done = client.command(operator, "ems.plan.set", args)
        assert done["type"] == "reply", done
        assert done["data"]["source"] == "bus:token:node-red"
        assert hub.get(f"/sessions/{tx}", "reader").json()["plan"]["energy_wh"] == 30_000
        cleared = client.command(operator, "ems.plan.clear", {"session": tx})
        assert cleared["data"] == {"session": tx, "cleared": True}
        assert hub.get(f"/sessions/{tx}", "reader").json()["plan"] is None
    finally:
        client.close()
        hub.stop()


def test_a_member_s_usual_departure_plans_each_of_its_sessions(tmp_path: Path) -> None:
    """The depot's vans leave at 06:30 needing 40 kWh: every session of their badges gets
    that plan at its start (the next 06:30, Paris time); a flow may still replace it."""
    from zoneinfo import ZoneInfo

    from hub_engine.plans import next_local

    hub = Hub(tmp_path)
    try:
        bad = hub.send("PUT", "/members/vans", "operator", json={"departure_time": "6h30"})
        assert bad.status_code == 422 and "departure_time" in bad.text
        put = hub.send("PUT", "/members/vans", "operator",
                       json={"departure_time": "06:30", "energy_need_wh": 40_000})
        assert put.status_code == 200, put.text
        assert (put.json()["departure_time"], put.json()["energy_need_wh"]) == ("06:30", 40_000)
        assert hub.send("PUT", "/badges/VAN7", "operator",
                        json={"member": "vans"}).status_code == 200
        runner = hub.charge_point("CP1")
        assert runner.cp is not None
        tx = hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="VAN7"))
        started = datetime.now(UTC)
        plan = _until(lambda: hub.get(f"/sessions/{tx}", "reader").json()["plan"])
        assert plan and plan["source"] == "member" and plan["energy_wh"] == 40_000, plan
        expect = next_local(started, "06:30", ZoneInfo("Europe/Paris"))
        assert datetime.fromisoformat(plan["departure"].replace("Z", "+00:00")) == expect
        export = hub.get("/access/export").text.splitlines()
        header = export[0].split(",")
        van = dict(zip(header, next(x for x in export if "VAN7" in x).split(","), strict=True))
        assert (van["departure_time"], van["energy_need_wh"]) == ("06:30", "40000")
    finally:
        hub.stop()
