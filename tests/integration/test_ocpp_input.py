"""Bad input gets the right CALLERROR and the connection lives on; access and connections."""

from __future__ import annotations

import asyncio
import base64
import json
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import connected, raw_exchange

HEARTBEAT = [2, "hb", "Heartbeat", {}]

BAD_FRAMES = [
    ("missing payload", [2, "a1", "Heartbeat"], "FormationViolation"),
    ("payload not an object", [2, "a2", "Heartbeat", [1]], "FormationViolation"),
    ("unknown action", [2, "a3", "MakeCoffee", {}], "NotImplemented"),
    ("wrong message type", [7, "a4", "Heartbeat", {}], "ProtocolError"),
    ("schema: wrong type", [2, "a5", "StatusNotification",
                            {"connectorId": "one", "errorCode": "NoError",
                             "status": "Available"}], "TypeConstraintViolation"),
    ("schema: missing field", [2, "a6", "StatusNotification", {"connectorId": 1}],
     "ProtocolError"),
    ("schema: bad enum", [2, "a7", "StatusNotification",
                          {"connectorId": 1, "errorCode": "NoError", "status": "Dancing"}],
     "PropertyConstraintViolation"),
    ("central-system action sent by a charge point", [2, "a8", "Reset", {"type": "Hard"}],
     "NotSupported"),
]


@pytest.mark.parametrize(("case", "frame", "code"), BAD_FRAMES, ids=[b[0] for b in BAD_FRAMES])
async def test_bad_frame_gets_callerror_and_connection_lives(tmp_path: Path, case: str,
                                                             frame: Any, code: str) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"]) as ws:
        answer = await raw_exchange(ws, frame)
        assert answer[0] == 4 and answer[1] == frame[1] and answer[2] == code, answer
        assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]
        await hub.store.journal.flush()
        logged = hub.rows("SELECT message FROM ocpp_log WHERE direction='in'", db="samples")
        assert json.dumps(frame) in [m for (m,) in logged]


async def test_unreadable_frames_are_logged_and_survived(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"]) as ws:
        for junk in ("not json", "{}", "[]", "[2]", '"text"'):
            await ws.send(junk)
        assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]


async def test_oversized_frame_refused_connection_kept(tmp_path: Path) -> None:
    config = make_config(tmp_path, max_frame_bytes=2000)
    async with running_hub(config) as hub, \
            websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"]) as ws:
        big = [2, "big", "DataTransfer", {"vendorId": "x", "data": "y" * 3000}]
        answer = await raw_exchange(ws, big)
        assert answer[:3] == [4, "big", "FormationViolation"] and "exceeds" in answer[3]
        assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]
        # Past four times the limit the websocket layer closes the connection (1009).
        with pytest.raises(ConnectionClosed):
            await raw_exchange(ws, [2, "huge", "DataTransfer",
                                    {"vendorId": "x", "data": "y" * 9000}])


def _basic(user: str, password: str) -> dict[str, str]:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


@pytest.mark.parametrize(("headers", "ok"), [
    (None, False),
    (_basic("SECURE", "wrong-password-000000"), False),
    (_basic("OTHER", "0123456789abcdef0123"), False),
    (_basic("SECURE", "0123456789abcdef0123"), True),
])
async def test_basic_auth(tmp_path: Path, headers: dict[str, str] | None, ok: bool) -> None:
    async with running_hub(make_config(tmp_path)) as hub:
        if ok:
            async with connected(hub.url, "SECURE", headers=headers) as cp:
                assert (await cp.boot()).status == "Pending"
        else:
            with pytest.raises(InvalidStatus) as info:
                async with connected(hub.url, "SECURE", headers=headers):
                    pass
            assert info.value.response.status_code == 401


async def test_auth_key_never_logged(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                     ) -> None:
    import logging

    from hub_engine.logs import configure_logging
    configure_logging("debug")
    logging.getLogger("websockets").setLevel(logging.DEBUG)  # logs handshake headers
    headers = _basic("SECURE", "0123456789abcdef0123")
    try:
        async with running_hub(make_config(tmp_path)) as hub, \
                connected(hub.url, "SECURE", headers=headers) as cp:
            await cp.boot()
    finally:
        logging.getLogger().handlers.clear()
    err = capsys.readouterr().err
    assert "SECURE" in err  # the log did run at debug level
    assert "0123456789abcdef0123" not in err
    assert headers["Authorization"].split()[1] not in err


async def test_path_prefix_and_missing_subprotocol_accepted(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub:
        async with websockets.connect(f"{hub.url}/ocpp/v16/CP2") as ws:  # no subprotocol
            assert ws.subprotocol is None
            assert (await raw_exchange(ws, HEARTBEAT))[:2] == [3, "hb"]
        with pytest.raises(InvalidStatus):
            async with websockets.connect(f"{hub.url}/CP2", subprotocols=["ocpp2.0.1"]):
                pass


async def test_second_connection_replaces_the_first(tmp_path: Path) -> None:
    async with running_hub(make_config(tmp_path)) as hub:
        first = await websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"])
        await raw_exchange(first, HEARTBEAT)
        second = await websockets.connect(f"{hub.url}/CP1", subprotocols=["ocpp1.6"])
        assert (await raw_exchange(second, HEARTBEAT))[:2] == [3, "hb"]
        with pytest.raises(ConnectionClosed):
            await asyncio.wait_for(first.recv(), 5)
        assert first.close_code == 1000
        station = hub.server.stations["CP1"]
        assert station._connection.remote_address == second.local_address
        await second.close()
