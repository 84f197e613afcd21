"""The CPO's calls to a relayed charge point: relayed, but for what the hub owns.

- any call the site refuses (``refuse_commands``) is answered Rejected, not relayed;
- ChangeConfiguration of a key the hub owns (its AuthorizationKey, security profile,
  intervals, local-list policy: :data:`hub_engine.ocpp.commands.HUB_OWNED_KEYS`) is
  answered Rejected;
- SetChargingProfile and ClearChargingProfile are kept by the hub (:mod:`.profiles`):
  the charge point only ever gets the EMS's limits, never lower than safe nor above the
  CPO's; a RemoteStartTransaction's profile is kept the same way and the start relayed
  without it. GetCompositeSchedule is relayed: the charge point's answer is what it
  really applies;
- SendLocalList is kept for the hub's own offline decisions (the hub owns the charge
  point's local list); GetLocalListVersion answers the version the CPO last sent;
- a transaction id is the CPO's on its side and the hub's on the charge point's.

Every call is first checked against the OCPP 1.6 schema: the CPO's mistakes get their
CALLERROR, never a half-applied change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.charge_point import (
    camel_to_snake_case,
    remove_nones,
    serialize_as_dict,
    snake_to_camel_case,
)
from ocpp.exceptions import OCPPError
from ocpp.messages import Call, validate_payload
from ocpp.v16 import call
from websockets.exceptions import ConnectionClosed

from hub_engine.config.cpo import CPO_ACTIONS
from hub_engine.ocpp.commands import HUB_OWNED_KEYS
from hub_engine.ocpp.cpo.link import CpoCallError

if TYPE_CHECKING:
    from hub_engine.ocpp.cpo.relay import CpoRelay

__all__ = ["CpoCommands"]

# Answers of the calls refused by policy (their status field, or what stands for it).
_REFUSED: dict[str, dict[str, Any]] = {
    "GetConfiguration": {"configurationKey": [], "unknownKey": []},
    "GetDiagnostics": {},
    "GetLocalListVersion": {"listVersion": -1},
    "SendLocalList": {"status": "Failed"},
    "ClearChargingProfile": {"status": "Unknown"},
    "GetCompositeSchedule": {"status": "Rejected"},
}


class CpoCommands:
    def __init__(self, relay: CpoRelay) -> None:
        self.relay = relay
        self.refused = 0
        relay.on_call = self.handle

    async def handle(self, cp_id: str, action: str, payload: dict[str, Any],
                     unique_id: str) -> dict[str, Any]:
        if action not in CPO_ACTIONS:
            raise CpoCallError("NotImplemented", f"{action} is not a call to a charge point")
        try:
            await validate_payload(Call("check", action, payload), "1.6")
        except OCPPError as exc:
            why = str(exc.description)[:200]
            code = exc.code
            if code == "FormatViolation":  # the library's OCPP 2.0 name; 1.6 has two
                code = ("FormationViolation" if "Additional properties" in why
                        else "PropertyConstraintViolation")
            raise CpoCallError(code, why) from None
        cfg = self.relay.config_of(cp_id)
        if action in cfg.refuse_commands:
            self.refused += 1
            return _REFUSED.get(action, {"status": "Rejected"})
        local = await self._local(cp_id, action, payload)
        if local is not None:
            return local
        return await self._forward(cp_id, action, payload, unique_id)

    async def _local(self, cp_id: str, action: str, payload: dict[str, Any]
                     ) -> dict[str, Any] | None:
        """Answered by the hub itself (None: relay it)."""
        relay = self.relay
        station = relay.server.stations.get(cp_id)
        open_tx = dict(station.open_transactions) if station is not None else {}
        if action == "ChangeConfiguration" and payload["key"] in HUB_OWNED_KEYS:
            self.refused += 1
            return {"status": "Rejected"}
        if action == "SetChargingProfile":
            profile = payload["csChargingProfiles"]
            cpo_tx = profile.get("transactionId")
            local_tx = relay.outbox.local_tx(cp_id, cpo_tx) if cpo_tx is not None else None
            status = await relay.profiles.set(cp_id, payload["connectorId"], profile,
                                              open_tx, local_tx)
            return {"status": status}
        if action == "ClearChargingProfile":
            return {"status": await relay.profiles.clear(cp_id, payload)}
        if action == "SendLocalList":
            site_id = relay.sites[cp_id][0]
            entries = [(e["idTag"], e.get("idTagInfo") or {})
                       for e in payload.get("localAuthorizationList") or []]
            await relay.outbox.replace_list(site_id, entries, payload["updateType"] == "Full",
                                            relay.clock.now())
            await relay.outbox.set_state(cp_id, list_version=payload["listVersion"])
            if relay.on_list is not None:  # the charge points' own lists follow it
                relay.on_list()
            return {"status": "Accepted"}
        if action == "GetLocalListVersion":
            return {"listVersion": relay.outbox.state(cp_id)[1]}
        if action == "RemoteStartTransaction" and "chargingProfile" in payload:
            profile = payload.pop("chargingProfile")
            if profile.get("chargingProfilePurpose") != "TxProfile":
                return {"status": "Rejected"}  # §5.11: only a TxProfile goes with a start
            await relay.profiles.pending_tx(cp_id, payload.get("connectorId") or 1, profile)
        if action == "RemoteStopTransaction":
            local_tx = relay.outbox.local_tx(cp_id, payload["transactionId"])
            if local_tx is None:
                return {"status": "Rejected"}  # no transaction of the CPO's runs here
            payload["transactionId"] = local_tx
        return None

    async def _forward(self, cp_id: str, action: str, payload: dict[str, Any],
                       unique_id: str) -> dict[str, Any]:
        """To the charge point under the CPO's own message id."""
        station = self.relay.server.stations.get(cp_id)
        if station is None:
            raise CpoCallError("GenericError", "the charge point is not connected to the hub")
        request = getattr(call, action)(**camel_to_snake_case(payload))
        try:
            result = await station.request(
                request, timeout_s=self.relay.config_of(cp_id).call_timeout_s,
                unique_id=unique_id)
        except OCPPError as exc:
            raise CpoCallError(exc.code, str(exc.description)[:200]) from None
        except (TimeoutError, ConnectionClosed):
            raise CpoCallError("GenericError", "the charge point did not answer") from None
        answer: dict[str, Any] = remove_nones(snake_to_camel_case(serialize_as_dict(result)))
        return answer
