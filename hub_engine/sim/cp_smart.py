"""Smart charging as a simulated charge point does it: profiles installed, replaced and
cleared as OCPP 1.6 §5.16 says (its quirks refusing some), the composite schedule
answered from them. A mixin of :class:`~hub_engine.sim.chargepoint.SimChargePoint`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hub_engine.clock import iso_utc
from hub_engine.ocpp.schedule import composite_periods, field_of
from hub_engine.sim.quirks import Quirk

if TYPE_CHECKING:
    from hub_engine.sim.chargepoint import Connector, SimConfig
    from hub_engine.sim.cp_clock import SimClock

__all__ = ["SmartCharging"]


class SmartCharging:
    if TYPE_CHECKING:  # what the charge point provides
        config: SimConfig
        clock: SimClock
        connectors: dict[int, Connector]
        profiles: dict[int, list[dict[str, Any]]]
        refuse_profiles: bool

        def has(self, quirk: Quirk) -> bool: ...
        def effective_profiles(self, conn: Connector) -> dict[int, list[dict[str, Any]]]: ...

    def _tx_of(self, connector_id: int) -> int | None:
        conn = self.connectors.get(connector_id)
        return conn.transaction_id if conn is not None else None

    @on(Action.set_charging_profile)
    def on_set_profile(self, connector_id: int, cs_charging_profiles: dict[str, Any]) -> Any:
        p = cs_charging_profiles
        unit = field_of(field_of(p, "chargingSchedule"), "chargingRateUnit")
        purpose = field_of(p, "chargingProfilePurpose")
        refuse = ((self.has(Quirk.STACK_LEVEL_ZERO_ONLY) and field_of(p, "stackLevel") != 0)
                  or (self.has(Quirk.W_ONLY) and unit == "A")
                  or (purpose == "ChargePointMaxProfile" and connector_id != 0)
                  or (purpose == "TxProfile"
                      and (connector_id == 0 or self._tx_of(connector_id) is None))
                  or (connector_id != 0 and connector_id not in self.connectors))
        if refuse or self.refuse_profiles:
            return call_result.SetChargingProfile(status="Rejected")
        # Same id, or same stack level and purpose on the connector: replaced (§5.16).
        pid, stack = field_of(p, "chargingProfileId"), field_of(p, "stackLevel")

        def replaced(q: dict[str, Any], conn_id: int) -> bool:
            return field_of(q, "chargingProfileId") == pid or (
                conn_id == connector_id and field_of(q, "stackLevel") == stack
                and field_of(q, "chargingProfilePurpose") == purpose)

        for conn_id, installed in self.profiles.items():
            self.profiles[conn_id] = [q for q in installed if not replaced(q, conn_id)]
        self.profiles.setdefault(connector_id, []).append(p)
        return call_result.SetChargingProfile(status="Accepted")

    @on(Action.clear_charging_profile)
    def on_clear_profile(self, id: int | None = None, connector_id: int | None = None,
                         charging_profile_purpose: str | None = None,
                         stack_level: int | None = None) -> Any:
        removed = 0
        for conn_id, installed in self.profiles.items():
            keep = []
            for q in installed:
                match = (field_of(q, "chargingProfileId") == id if id is not None else (
                    (connector_id is None or connector_id == conn_id)
                    and (charging_profile_purpose is None
                         or field_of(q, "chargingProfilePurpose") == charging_profile_purpose)
                    and (stack_level is None or field_of(q, "stackLevel") == stack_level)))
                if match:
                    removed += 1
                else:
                    keep.append(q)
            self.profiles[conn_id] = keep
        return call_result.ClearChargingProfile(status="Accepted" if removed else "Unknown")

    @on(Action.get_composite_schedule)
    def on_composite(self, connector_id: int, duration: int,
                     charging_rate_unit: str | None = None) -> Any:
        conn = self.connectors.get(connector_id)
        if conn is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        now = self.clock.now()
        periods = composite_periods(self.effective_profiles(conn), connector_id, now, duration,
                                    conn.transaction_id, conn.tx_start,
                                    self.config.max_current_a, self.config.phases,
                                    self.config.voltage_v)
        return call_result.GetCompositeSchedule(
            status="Accepted", connector_id=connector_id,
            schedule_start=iso_utc(now),
            charging_schedule={"chargingRateUnit": "A", "chargingSchedulePeriod": [
                {"startPeriod": s, "limit": v, "numberPhases": n} for s, v, n in periods]})
