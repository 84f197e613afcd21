"""Central-system-initiated OCPP calls as engine commands, each with its permission.

Defined once here; REST, UI and bus reach charge points only through
:meth:`CommandService.run`. A command's parameters are the OCPP call's fields in
snake_case (``{"id_tag": "ABC", "connector_id": 1}`` for ``remote_start``), checked like
any other input (errors name the key). Every run ends in one clear outcome.

Raw charging profiles and the configuration keys the hub owns are ``engine``-only: an
integrator asks the EMS for a limit, which keeps every safety rule (DESIGN.md "The bus").
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.exceptions import ConnectionClosed

from hub_engine.errors import CommandError, ConfigError
from hub_engine.i18n import Text
from hub_engine.typed import build

__all__ = ["COMMANDS", "HUB_OWNED_KEYS", "CommandResult", "CommandService", "CommandSpec",
           "Role"]

log = logging.getLogger(__name__)

Role = Literal["reader", "operator", "admin", "engine"]
_RANK = {"reader": 0, "operator": 1, "admin": 2, "engine": 3}
Outcome = Literal["accepted", "rejected", "not_supported", "offline", "timed_out", "error"]


@dataclass(frozen=True)
class CommandSpec:
    name: str
    payload: type
    role: Role
    timeout_s: float = 30.0
    description: str = ""


COMMANDS: dict[str, CommandSpec] = {spec.name: spec for spec in (
    CommandSpec("remote_start", call.RemoteStartTransaction, "operator",
                description="start a session for an idTag"),
    CommandSpec("remote_stop", call.RemoteStopTransaction, "operator",
                description="stop a session by transaction id"),
    CommandSpec("reset", call.Reset, "operator", description="Soft or Hard reboot"),
    CommandSpec("unlock_connector", call.UnlockConnector, "operator"),
    CommandSpec("change_availability", call.ChangeAvailability, "operator"),
    CommandSpec("get_configuration", call.GetConfiguration, "operator"),
    CommandSpec("change_configuration", call.ChangeConfiguration, "admin",
                description="keys the hub owns are refused"),
    CommandSpec("clear_cache", call.ClearCache, "admin"),
    CommandSpec("trigger_message", call.TriggerMessage, "operator"),
    CommandSpec("data_transfer", call.DataTransfer, "admin"),
    CommandSpec("get_composite_schedule", call.GetCompositeSchedule, "operator"),
    CommandSpec("send_local_list", call.SendLocalList, "admin", timeout_s=60),
    CommandSpec("get_local_list_version", call.GetLocalListVersion, "operator"),
    CommandSpec("reserve_now", call.ReserveNow, "operator"),
    CommandSpec("cancel_reservation", call.CancelReservation, "operator"),
    CommandSpec("update_firmware", call.UpdateFirmware, "admin"),
    CommandSpec("get_diagnostics", call.GetDiagnostics, "admin", timeout_s=60),
    # The EMS's own: never reachable from REST or the bus.
    CommandSpec("set_charging_profile", call.SetChargingProfile, "engine", timeout_s=10),
    CommandSpec("clear_charging_profile", call.ClearChargingProfile, "engine", timeout_s=10),
)}

# Configuration keys whose value the hub sets and relies on (security, metering, EMS).
HUB_OWNED_KEYS = frozenset({
    "AuthorizationKey", "SecurityProfile", "HeartbeatInterval", "MeterValueSampleInterval",
    "MeterValuesSampledData", "ClockAlignedDataInterval", "MeterValuesAlignedData",
    "StopTxnSampledData", "StopTxnAlignedData", "WebSocketPingInterval",
    "LocalAuthListEnabled", "LocalAuthorizeOffline", "LocalPreAuthorize",
    "AuthorizationCacheEnabled", "AllowOfflineTxForUnknownId", "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit", "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled", "ConnectorPhaseRotation",
})

_ACCEPTED = {"Accepted", "Unlocked", "Scheduled", "RebootRequired"}
_NOT_SUPPORTED = {"NotSupported", "NotImplemented", "UnknownVendorId", "UnknownMessageId"}


@dataclass(frozen=True)
class CommandResult:
    outcome: Outcome
    status: str | None = None  # the charge point's own word (Accepted, Unlocked, Occupied…)
    payload: dict[str, Any] = field(default_factory=dict)
    error: str | None = None


class _Stations(Protocol):  # the part of OcppServer the commands need
    @property
    def stations(self) -> Mapping[str, Any]: ...


class CommandService:
    def __init__(self, server: _Stations) -> None:
        self.server = server

    def check(self, name: str, params: dict[str, Any], role: Role) -> Any:
        """Validate a command before sending: name, permission, parameters."""
        spec = COMMANDS.get(name)
        if spec is None:
            raise CommandError(Text("unknown command {name!r}; known: {known}", name=name,
                                    known=", ".join(sorted(COMMANDS))))
        if _RANK[role] < _RANK[spec.role]:
            raise CommandError(Text("{name} needs the {role} role", name=name, role=spec.role))
        try:
            payload: Any = build(spec.payload, params)
        except ConfigError as exc:
            raise CommandError(Text("{name}: {why}", name=name, why=str(exc))) from None
        if (name == "change_configuration" and payload.key in HUB_OWNED_KEYS
                and role != "engine"):
            raise CommandError(Text("{key} is set by the hub itself; ask the EMS instead",
                                    key=payload.key))
        return payload

    async def run(self, cp_id: str, name: str, params: dict[str, Any], role: Role,
                  timeout_s: float | None = None) -> CommandResult:
        payload = self.check(name, params, role)
        station = self.server.stations.get(cp_id)
        if station is None:
            return CommandResult("offline", error=f"{cp_id} is not connected")
        timeout = timeout_s or COMMANDS[name].timeout_s
        try:
            resp = await station.request(payload, timeout_s=timeout)
        except TimeoutError:
            return CommandResult("timed_out", error=f"no answer within {timeout:g} s")
        except OCPPError as exc:
            outcome: Outcome = "not_supported" if exc.code in _NOT_SUPPORTED else "error"
            return CommandResult(outcome, status=exc.code, error=str(exc.description))
        except (ConnectionError, ConnectionClosed) as exc:
            return CommandResult("offline", error=str(exc))
        data = dataclasses.asdict(resp)
        status = data.get("status")
        status = getattr(status, "value", status)
        if status is None or status in _ACCEPTED:
            outcome = "accepted"
        elif status in _NOT_SUPPORTED:
            outcome = "not_supported"
        else:
            outcome = "rejected"
        # The engine's own calls (a limit a second per charge point) would drown the log.
        log.log(logging.DEBUG if role == "engine" else logging.INFO, "%s: %s → %s", cp_id,
                name, status or outcome)
        return CommandResult(outcome, status=status, payload=data)


