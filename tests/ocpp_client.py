"""A scriptable OCPP 1.6J charge point for tests, on the ``ocpp`` library, over real websockets."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import websockets
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

DEFAULT_CONFIG = {
    "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger,LocalAuthListManagement",
    "ChargeProfileMaxStackLevel": "8",
    "ChargingScheduleAllowedChargingRateUnit": "Current",
    "NumberOfConnectors": "1",
    "HeartbeatInterval": "3600",
    "MeterValueSampleInterval": "60",
    "MeterValuesSampledData": "Energy.Active.Import.Register",
    "AuthorizationKey": "should-never-be-stored",
}


class TestChargePoint(ChargePoint):  # type: ignore[misc]
    """Answers what a well-behaved charge point answers and records what it was asked."""

    __test__ = False

    def __init__(self, cp_id: str, connection: Any, config: dict[str, str] | None = None,
                 refuse: tuple[str, ...] = ()) -> None:
        super().__init__(cp_id, connection, response_timeout=10)
        self.config = dict(DEFAULT_CONFIG if config is None else config)
        self.refuse = refuse  # configuration keys answered Rejected
        self.received: list[tuple[str, dict[str, Any]]] = []
        self.boots: list[str] = []
        self.booted = asyncio.Event()

    async def boot(self) -> Any:
        resp = await self.call(call.BootNotification(charge_point_vendor="TestVendor",
                                                     charge_point_model="TM-1"))
        self.boots.append(resp.status)
        if resp.status == "Accepted":
            self.booted.set()
        return resp

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        self.received.append(("GetConfiguration", {"key": key}))
        keys = key or list(self.config)
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": False, "value": self.config[k]}
                               for k in keys if k in self.config],
            unknown_key=[k for k in keys if k not in self.config] or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        self.received.append(("ChangeConfiguration", {"key": key, "value": value}))
        if key in self.refuse:
            return call_result.ChangeConfiguration(status="Rejected")
        self.config[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, connector_id: int | None = None) -> Any:
        self.received.append(("TriggerMessage", {"requested_message": requested_message}))
        return call_result.TriggerMessage(status="Accepted")

    @after(Action.trigger_message)
    async def after_trigger(self, requested_message: str, **_: Any) -> None:
        if requested_message == "BootNotification":
            await self.boot()


@contextlib.asynccontextmanager
async def connected(url: str, cp_id: str, cls: type[TestChargePoint] | None = None,
                    **kwargs: Any) -> AsyncIterator[Any]:
    subprotocols = kwargs.pop("subprotocols", ["ocpp1.6"])
    headers = kwargs.pop("headers", None)
    async with websockets.connect(f"{url}/{cp_id}", subprotocols=subprotocols,
                                  additional_headers=headers,
                                  **kwargs) as ws:
        cp = (cls or TestChargePoint)(cp_id, ws)
        task = asyncio.create_task(cp.start())
        try:
            yield cp
        finally:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task


async def boot_until_accepted(cp: TestChargePoint, timeout_s: float = 10) -> None:
    """Boot, and keep booting as a real charge point does after Pending, until Accepted."""
    resp = await cp.boot()
    if resp.status != "Accepted":
        await asyncio.wait_for(cp.booted.wait(), timeout_s)


async def raw_exchange(ws: Any, frame: Any, timeout_s: float = 5) -> Any:
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout_s))


# Central-system action → its answer when nothing else is asked (a status, or a payload).
OBEDIENT_ANSWERS: dict[str, dict[str, Any]] = {
    "RemoteStartTransaction": {"status": "Accepted"},
    "RemoteStopTransaction": {"status": "Accepted"},
    "Reset": {"status": "Accepted"},
    "UnlockConnector": {"status": "Unlocked"},
    "ChangeAvailability": {"status": "Accepted"},
    "ClearCache": {"status": "Accepted"},
    "DataTransfer": {"status": "Accepted"},
    "GetCompositeSchedule": {"status": "Accepted"},
    "SendLocalList": {"status": "Accepted"},
    "GetLocalListVersion": {"list_version": 7},
    "ReserveNow": {"status": "Accepted"},
    "CancelReservation": {"status": "Accepted"},
    "UpdateFirmware": {},
    "GetDiagnostics": {"file_name": "diag.zip"},
    "SetChargingProfile": {"status": "Accepted"},
    "ClearChargingProfile": {"status": "Accepted"},
}


class ObedientChargePoint(TestChargePoint):
    """Answers every central-system message; ``answers`` overrides a status per action."""

    __test__ = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: dict[str, str] = {}
        self.delay_s: dict[str, float] = {}
        for action, default in OBEDIENT_ANSWERS.items():
            self.route_map[action] = {"_on_action": self._answerer(action, default),
                                      "_skip_schema_validation": False}

    def _answerer(self, action: str, default: dict[str, Any]) -> Any:
        result_cls = getattr(call_result, action)

        async def answer(**kw: Any) -> Any:
            self.received.append((action, kw))
            await asyncio.sleep(self.delay_s.get(action, 0))
            payload = dict(default)
            if action in self.answers:
                payload["status"] = self.answers[action]
            return result_cls(**payload)
        return answer


def obedient(url: str, cp_id: str) -> contextlib.AbstractAsyncContextManager[
        ObedientChargePoint]:
    return connected(url, cp_id, cls=ObedientChargePoint)
