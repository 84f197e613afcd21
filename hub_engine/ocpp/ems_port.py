"""An OCPP connector as the EMS sees it: :class:`hub_engine.ems.interfaces.ConnectorPort`.

Limits go out as the dynamic profile of the layout in DESIGN.md: a TxDefaultProfile at
stack level 1 on the connector, Absolute, starting a minute in the past, valid for
``valid_s`` (the charge point falls back by itself if the hub goes silent).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from hub_engine.clock import iso_utc
from hub_engine.ems.interfaces import ConnectorState, LimitOutcome
from hub_engine.ocpp.commands import CommandService
from hub_engine.ocpp.server import OcppServer

__all__ = ["OcppConnectorPort", "ocpp_ports"]

DYNAMIC_STACK_LEVEL = 1
TIMEOUT_S = 10.0


class OcppConnectorPort:
    def __init__(self, server: OcppServer, commands: CommandService, cp_id: str,
                 connector_id: int) -> None:
        self.server, self.commands = server, commands
        self.cp_id, self.connector_id = cp_id, connector_id

    def state(self) -> ConnectorState:
        station = self.server.stations.get(self.cp_id)
        if station is None:
            return ConnectorState(False, None, None, None, None)
        measured = station.measured_a.get(self.connector_id)
        age = (self.server.ctx.clock.monotonic() - measured[1]) if measured else None
        return ConnectorState(
            online=station.boot_state == "accepted",
            status=station.connector_status.get(self.connector_id),
            transaction_id=station.open_transactions.get(self.connector_id),
            measured_a=measured[0] if measured else None, measured_age_s=age)

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float
                        ) -> LimitOutcome:
        now = self.server.ctx.clock.now()
        profile = {
            "chargingProfileId": 1000 + self.connector_id,
            "stackLevel": DYNAMIC_STACK_LEVEL,
            "chargingProfilePurpose": "TxDefaultProfile",
            "chargingProfileKind": "Absolute",
            "validTo": iso_utc(now + timedelta(seconds=valid_s)),
            "chargingSchedule": {
                "chargingRateUnit": unit,
                "startSchedule": iso_utc(now - timedelta(minutes=1)),
                "chargingSchedulePeriod": [{"startPeriod": 0, "limit": round(limit, 1)}]}}
        result = await self.commands.run(
            self.cp_id, "set_charging_profile",
            {"connector_id": self.connector_id, "cs_charging_profiles": profile}, "engine",
            timeout_s=TIMEOUT_S)
        outcome = result.outcome
        return outcome if outcome != "not_supported" else "rejected"


def ocpp_ports(server: OcppServer, commands: CommandService,
               charge_points: list[tuple[str, int]]) -> dict[str, OcppConnectorPort]:
    return {f"{cp_id}/{n}": OcppConnectorPort(server, commands, cp_id, n)
            for cp_id, count in charge_points for n in range(1, count + 1)}
