"""Trust boundaries of the OCPP server: hostile frames and strangers (issue "Trust
boundaries"). Every class gets the CALLERROR OCPP-J 1.6 names, no traceback, the
connection lives on, and an honest charge point beside it is still served."""

from __future__ import annotations

import asyncio
import json
import logging
import random
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import InvalidStatus

from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import raw_exchange

HEARTBEAT = [2, "hb", "Heartbeat", {}]
NOW = "2026-12-03T10:00:00Z"
BIG = 10**30


def start(connector: Any = 1, meter: Any = 0) -> dict[str, Any]:
    return {"connectorId": connector, "idTag": "TAG-OK", "meterStart": meter,
            "timestamp": NOW}


# (class, payload or raw text, expected CALLERROR code)
HOSTILE: list[tuple[str, Any, str]] = [
    ("huge connectorId", ["StatusNotification", {"connectorId": BIG, "errorCode": "NoError",
                                                 "status": "Available"}],
     "PropertyConstraintViolation"),
    ("huge meterStart", ["StartTransaction", start(meter=BIG)], "PropertyConstraintViolation"),
    ("negative meterStart", ["StartTransaction", start(meter=-5)],
     "PropertyConstraintViolation"),
    ("huge transactionId", ["StopTransaction", {"meterStop": 5, "timestamp": NOW,
                                                "transactionId": BIG}],
     "PropertyConstraintViolation"),
    ("huge meterStop", ["StopTransaction", {"meterStop": BIG, "timestamp": NOW,
                                            "transactionId": 1}],
     "PropertyConstraintViolation"),
    ("StopTransaction without transactionId", ["StopTransaction",
                                               {"meterStop": 5, "timestamp": NOW}],
     "OccurenceConstraintViolation"),
    ("MeterValues without meterValue", ["MeterValues", {"connectorId": 1}],
     "OccurenceConstraintViolation"),
    ("MeterValues connectorId a string", ["MeterValues", {"connectorId": "x",
                                                          "meterValue": []}],
     "TypeConstraintViolation"),
    ("MeterValues meterValue not a list", ["MeterValues", {"connectorId": 1,
                                                           "meterValue": "x"}],
     "TypeConstraintViolation"),
    ("StartTransaction on connector 0", ["StartTransaction", start(0)],
     "PropertyConstraintViolation"),
    ("StartTransaction on connector 99", ["StartTransaction", start(99)],
     "PropertyConstraintViolation"),
    ("StartTransaction on connector -1", ["StartTransaction", start(-1)],
     "PropertyConstraintViolation"),
    ("MeterValues on connector 99", ["MeterValues", {"connectorId": 99, "meterValue": []}],
     "PropertyConstraintViolation"),
    # The library says FormatViolation (an OCPP 2.0 code) for both of these.
    ("status out of its enumeration", ["StatusNotification", {
        "connectorId": 1, "errorCode": "NoError", "status": "Exploded"}],
     "PropertyConstraintViolation"),
    ("unknown field", ["Heartbeat", {"surprise": 1}], "FormationViolation"),
    ("deep payload", ["Heartbeat", json.loads("[" * 200 + "]" * 200)], "FormationViolation"),
    ("5000-deep JSON", '[2, "deep", "Heartbeat", ' + "[" * 5000 + "]" * 5000 + "]",
     "FormationViolation"),
    ("deep inside a field", ["DataTransfer", {"vendorId": "x", "data": "y", "messageId":
                                              json.loads('{"a":' * 100 + "1" + "}" * 100)}],
     "FormationViolation"),
]


def _frame(uid: str, body: Any) -> Any:
    return body.replace('"deep"', json.dumps(uid)) if isinstance(body, str) else [
        2, uid, *body]


def mutated(rng: random.Random) -> tuple[str, Any]:
    """One of the classes above, half the time with one field set to a hostile value."""
    case, body, _ = rng.choice(HOSTILE)
    if not isinstance(body, str) and isinstance(body[1], dict) and rng.random() < 0.5:
        action, payload = body
        key = rng.choice(sorted(payload) or ["x"])
        payload = {**payload, key: rng.choice(
            [None, -1, 2**63, 1e308, "", "é" * 500, [], {}, True])}
        body = [action, payload]
    return case, body


async def test_every_hostile_class_gets_its_code_and_the_connection_lives(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"],
                               max_size=None) as ws, \
            websockets.connect(f"{hub.url}/CP2", subprotocols=["ocpp1.6"]) as honest:
        got = {}
        for n, (case, body, _) in enumerate(HOSTILE):
            answer = await raw_exchange(ws, _frame(f"h{n}", body))
            assert answer[0] == 4 and answer[1] == f"h{n}", (case, answer)
            got[case] = answer[2]
            assert "Traceback" not in json.dumps(answer)
            # The honest neighbour is served all along, and so is the hostile one.
            assert (await raw_exchange(honest, HEARTBEAT))[:2] == [3, "hb"]
        assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]
        assert got == {case: code for case, _, code in HOSTILE}
        assert hub.rows("SELECT count(*) FROM transactions") == [(0,)]  # no junk session
    assert "Traceback" not in caplog.text


async def test_a_random_fuzz_keeps_every_connection(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A bounded random mix of the classes above, mutated: never an InternalError, never a
    dropped connection (seeded, so a failure replays); and the log is not flooded (one
    line per refused call let a hostile peer fill the disk)."""
    for refused_filter in logging.getLogger("hub_engine.ocpp.calls").filters:
        refused_filter.budget.reset()  # type: ignore[attr-defined]
    rng = random.Random(25)
    codes: dict[str, int] = {}
    async with running_hub(make_config(tmp_path)) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"],
                               max_size=None) as ws:
        for n in range(400):
            case, body = mutated(rng)
            answer = await raw_exchange(ws, _frame(f"f{n}", body))
            assert answer[1] == f"f{n}" and answer[0] in (3, 4), (case, answer)
            if answer[0] == 4:
                codes[answer[2]] = codes.get(answer[2], 0) + 1
                assert answer[2] != "InternalError", (case, body, answer)
        assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]
    assert sum(codes.values()) > 300, codes
    refused = [r.getMessage() for r in caplog.records if "call refused" in r.getMessage()]
    assert 1 <= len(refused) <= 20, len(refused)
    assert all(line.startswith("CP1: call refused (") for line in refused), refused[:3]
    assert sum("bad frame" in r.getMessage() for r in caplog.records) <= 20


@pytest.mark.parametrize("policy", ["pending", "reject"])
async def test_an_unknown_charge_point_does_nothing_before_it_is_accepted(
        tmp_path: Path, policy: str) -> None:
    async with running_hub(make_config(tmp_path, unknown_charge_points=policy)) as hub, \
            websockets.connect(f"{hub.url}/STRANGER", subprotocols=["ocpp1.6"]) as ws:
        boot = await raw_exchange(ws, [2, "b", "BootNotification",
                                       {"chargePointVendor": "X", "chargePointModel": "Y"}])
        assert boot[2]["status"] == policy.replace("reject", "rejected").capitalize()
        for n, (action, payload) in enumerate([
                ("StartTransaction", start()), ("Authorize", {"idTag": "TAG-OK"}),
                ("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                        "status": "Charging"}),
                ("MeterValues", {"connectorId": 1, "meterValue": [{"timestamp": NOW,
                 "sampledValue": [{"value": "9000"}]}]}),
                ("StopTransaction", {"meterStop": 9000, "timestamp": NOW,
                                     "transactionId": 1}),
                ("Heartbeat", {})]):
            answer = await raw_exchange(ws, [2, f"s{n}", action, payload])
            assert answer[0] == 4 and answer[2] == "SecurityError", (action, answer)
        assert hub.rows("SELECT count(*) FROM transactions") == [(0,)]
        assert hub.rows("SELECT count(*) FROM samples", db="samples") == [(0,)]
        assert hub.server.ctx.refused["StartTransaction"] == 1
        stored = hub.rows("SELECT registration FROM charge_points WHERE id = 'STRANGER'")
        assert stored == ([("pending",)] if policy == "pending" else [])


@pytest.mark.parametrize("path", ["/CP%0A1", "/CP%0D%0AX", "/" + "A" * 65, "/%20CP",
                                  "/CP%1B[2J", "/CP%00"])
async def test_invalid_charge_point_ids_are_refused_before_anything_is_stored(
        tmp_path: Path, path: str) -> None:
    async with running_hub(make_config(tmp_path)) as hub:
        with pytest.raises(InvalidStatus) as info:
            async with websockets.connect(f"{hub.url}{path}", subprotocols=["ocpp1.6"]):
                pass
        assert info.value.response.status_code == 400
        assert hub.server.refused_ids == 1
        await asyncio.sleep(0.1)
        assert hub.rows("SELECT count(*) FROM charge_points") == [(0,)]


async def test_idle_strangers_are_bounded_and_dropped(tmp_path: Path) -> None:
    """2,000 idle unknown connections were all kept (RSS 105 → 280 MB): at most
    max_unaccepted_connections wait at once, and one that does not boot is closed."""
    config = make_config(tmp_path, max_unaccepted_connections=2, unaccepted_idle_s=1)
    async with running_hub(config) as hub:
        first = await websockets.connect(f"{hub.url}/X1", subprotocols=["ocpp1.6"])
        second = await websockets.connect(f"{hub.url}/X2", subprotocols=["ocpp1.6"])
        await asyncio.sleep(0.2)
        with pytest.raises(InvalidStatus) as info:
            await websockets.connect(f"{hub.url}/X3", subprotocols=["ocpp1.6"])
        assert info.value.response.status_code == 503
        async with websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"]) as known:
            assert (await raw_exchange(known, HEARTBEAT))[:2] == [3, "hb"]  # still served
        await asyncio.wait_for(first.wait_closed(), 5)  # no BootNotification within 1 s
        await asyncio.wait_for(second.wait_closed(), 5)
        assert first.close_code == 1008
        async with websockets.connect(f"{hub.url}/X3", subprotocols=["ocpp1.6"]) as third:
            boot = await raw_exchange(third, [2, "b", "BootNotification", {
                "chargePointVendor": "X", "chargePointModel": "Y"}])
            assert boot[2]["status"] == "Pending"
            await asyncio.sleep(1.5)
            assert (await raw_exchange(third, [2, "b2", "BootNotification", {
                "chargePointVendor": "X", "chargePointModel": "Y"}]))[0] == 3  # booted: kept
