"""Every central-system-initiated message as a command, with its outcome and permission."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import websockets

from hub_engine.errors import CommandError
from hub_engine.ocpp import COMMANDS, CommandService
from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import obedient, raw_exchange

PROFILE = {"chargingProfileId": 1, "stackLevel": 1, "chargingProfilePurpose": "TxDefaultProfile",
           "chargingProfileKind": "Absolute",
           "chargingSchedule": {"chargingRateUnit": "A",
                                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": 16.1}]}}

# command → (parameters, role, what the charge point saw)
EVERY = {
    "remote_start": ({"id_tag": "TAG-OK", "connector_id": 1}, "operator",
                     "RemoteStartTransaction"),
    "remote_stop": ({"transaction_id": 12}, "operator", "RemoteStopTransaction"),
    "reset": ({"type": "Soft"}, "operator", "Reset"),
    "unlock_connector": ({"connector_id": 1}, "operator", "UnlockConnector"),
    "change_availability": ({"connector_id": 0, "type": "Inoperative"}, "operator",
                            "ChangeAvailability"),
    "get_configuration": ({"key": ["NumberOfConnectors"]}, "operator", "GetConfiguration"),
    "change_configuration": ({"key": "LightIntensity", "value": "50"}, "admin",
                             "ChangeConfiguration"),
    "clear_cache": ({}, "admin", "ClearCache"),
    "trigger_message": ({"requested_message": "StatusNotification", "connector_id": 1},
                        "operator", "TriggerMessage"),
    "data_transfer": ({"vendor_id": "com.example", "data": "hello"}, "admin", "DataTransfer"),
    "get_composite_schedule": ({"connector_id": 1, "duration": 3600}, "operator",
                               "GetCompositeSchedule"),
    "send_local_list": ({"list_version": 3, "update_type": "Full",
                         "local_authorization_list": [{"idTag": "A"}]}, "admin",
                        "SendLocalList"),
    "get_local_list_version": ({}, "operator", "GetLocalListVersion"),
    "reserve_now": ({"connector_id": 1, "expiry_date": "2026-12-01T00:00:00Z",
                     "id_tag": "TAG-OK", "reservation_id": 5}, "operator", "ReserveNow"),
    "cancel_reservation": ({"reservation_id": 5}, "operator", "CancelReservation"),
    "update_firmware": ({"location": "ftp://10.0.0.1/fw.bin",
                         "retrieve_date": "2026-12-01T00:00:00Z"}, "admin", "UpdateFirmware"),
    "get_diagnostics": ({"location": "ftp://10.0.0.1/"}, "admin", "GetDiagnostics"),
    "set_charging_profile": ({"connector_id": 1, "cs_charging_profiles": PROFILE}, "engine",
                             "SetChargingProfile"),
    "clear_charging_profile": ({"id": 1}, "engine", "ClearChargingProfile"),
}


def test_every_central_system_message_is_a_command() -> None:
    assert set(EVERY) == set(COMMANDS)


@pytest.mark.parametrize("name", sorted(EVERY))
async def test_command_accepted(tmp_path: Path, name: str) -> None:
    params, role, action = EVERY[name]
    async with running_hub(make_config(tmp_path)) as hub, obedient(hub.url, "CP1") as cp:
        await asyncio.sleep(0.05)
        result = await CommandService(hub.server).run("CP1", name, params, role)  # type: ignore[arg-type]
        assert result.outcome == "accepted", result
        assert cp.received[-1][0] == action


@pytest.mark.parametrize(("name", "params", "action", "answer", "outcome"), [
    ("reset", {"type": "Hard"}, "Reset", "Rejected", "rejected"),
    ("unlock_connector", {"connector_id": 1}, "UnlockConnector", "UnlockFailed", "rejected"),
    ("trigger_message", {"requested_message": "MeterValues"}, "TriggerMessage",
     "NotImplemented", "not_supported"),
    ("data_transfer", {"vendor_id": "x"}, "DataTransfer", "UnknownVendorId", "not_supported"),
])
async def test_command_refused_by_charge_point(tmp_path: Path, name: str,
                                               params: dict[str, Any], action: str,
                                               answer: str, outcome: str) -> None:
    async with running_hub(make_config(tmp_path)) as hub, obedient(hub.url, "CP1") as cp:
        await asyncio.sleep(0.05)
        cp.answers[action] = answer
        if action == "TriggerMessage":
            from ocpp.v16 import call_result

            def refuse(**_: Any) -> Any:
                return call_result.TriggerMessage(status=answer)
            cp.route_map["TriggerMessage"]["_on_action"] = refuse
        result = await CommandService(hub.server).run("CP1", name, params, "admin")
        assert (result.outcome, result.status) == (outcome, answer)


async def test_command_the_charge_point_does_not_implement(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, obedient(hub.url, "CP1") as cp:
        await asyncio.sleep(0.05)
        del cp.route_map["ReserveNow"]
        result = await CommandService(hub.server).run("CP1", "reserve_now", EVERY[
            "reserve_now"][0], "operator")
        assert result.outcome == "not_supported" and result.status == "NotImplemented"


async def test_offline_and_timeout(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, obedient(hub.url, "CP1") as cp:
        await asyncio.sleep(0.05)
        service = CommandService(hub.server)
        assert (await service.run("CP9", "reset", {"type": "Soft"}, "admin")).outcome == \
            "offline"
        cp.delay_s["Reset"] = 2
        result = await service.run("CP1", "reset", {"type": "Soft"}, "admin", timeout_s=0.3)
        assert result.outcome == "timed_out"


async def test_slow_call_does_not_block_the_charge_points_own_messages(tmp_path: Path) -> None:
    """While the hub waits for an answer, the charge point's own calls are still served."""
    async with running_hub(make_config(tmp_path)) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"]) as ws:
        await asyncio.sleep(0.05)
        slow = asyncio.create_task(CommandService(hub.server).run("CP1", "reset",
                                                                  {"type": "Soft"}, "admin"))
        reset = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert reset[2] == "Reset"
        t0 = asyncio.get_running_loop().time()
        answer = await raw_exchange(ws, [2, "hb", "Heartbeat", {}])
        assert answer[:2] == [3, "hb"]
        assert asyncio.get_running_loop().time() - t0 < 0.5
        await ws.send(json.dumps([3, reset[1], {"status": "Accepted"}]))
        assert (await slow).outcome == "accepted"


@pytest.mark.parametrize(("name", "params", "role", "message"), [
    ("reset", {"type": "Soft"}, "reader", "needs the operator role"),
    ("change_configuration", {"key": "X", "value": "1"}, "operator", "needs the admin role"),
    ("set_charging_profile", {"connector_id": 1, "cs_charging_profiles": PROFILE}, "admin",
     "needs the engine role"),
    ("change_configuration", {"key": "AuthorizationKey", "value": "x" * 16}, "admin",
     "set by the hub itself"),
    ("reset", {"type": "Gentle"}, "admin", "reset: type: got 'Gentle'"),
    ("remote_start", {"connector_id": 1}, "admin", "id_tag: missing"),
    ("brew_coffee", {}, "admin", "unknown command"),
])
def test_refused_before_sending(name: str, params: dict[str, Any], role: str,
                                message: str) -> None:
    with pytest.raises(CommandError, match=message):
        CommandService(None).check(name, params, role)  # type: ignore[arg-type]
