"""An OCPP connector as the EMS sees it: :class:`hub_engine.ems.interfaces.ConnectorPort`.

Limits go out in the profile layout of :mod:`hub_engine.ocpp.profiles`: the dynamic
limit valid for ``valid_s`` (the charge point falls back by itself if the hub goes
silent), the fallback underneath with no expiry. A unit the charge point does not take
is converted on the safe side: watts to amps per phase over all its phases, amps to the
watts of one phase (a W-only charge point then gets a third for a 3-phase car).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from ocpp.exceptions import OCPPError
from ocpp.v16 import call
from websockets.exceptions import ConnectionClosed

from hub_engine.clock import Clock
from hub_engine.config import ChargePointConfig, HubConfig
from hub_engine.ems.interfaces import ConnectorState, Dip, LimitOutcome, MeterSource
from hub_engine.ems.loop import EmsLoop
from hub_engine.ocpp.commissioning import Commissioner
from hub_engine.ocpp.measured import Measured, Offered
from hub_engine.ocpp.profiles import dip_steps, dynamic, fallback
from hub_engine.ocpp.server import OcppServer
from hub_engine.ocpp.station import Station
from hub_engine.store.ems_samples import EmsRecorder

__all__ = ["OcppConnectorPort", "attach_ems", "ocpp_ports"]

log = logging.getLogger(__name__)


class OcppConnectorPort:
    def __init__(self, server: OcppServer, cp: ChargePointConfig, connector_id: int,
                 voltage_v: float = 230.0) -> None:
        self.server = server
        self.cp, self.cp_id, self.connector_id = cp, cp.id, connector_id
        self.voltage_v = voltage_v
        self._last: tuple[ConnectorState, Measured | None, Offered | None] | None = None

    def state(self) -> ConnectorState:
        station = self.server.stations.get(self.cp_id)
        now = self.server.ctx.clock.monotonic()
        if station is None:
            # Offline: what it was doing goes on (only a boot changes it). Never seen
            # since the hub started: nothing known at all.
            if self._last is None:
                return ConnectorState(False, None, None, None, None)
            last, measured, offered = self._last
            # Its last measurement ages on: the EMS stops believing it when stale.
            return dataclasses.replace(
                last, online=False,
                measured_age_s=None if measured is None else now - measured.at_s,
                offered_age_s=None if offered is None else now - offered.at_s)
        measured = station.measured.get(self.connector_id)
        offered = station.offered.get(self.connector_id)
        if self._last is not None:  # reconnected: nothing measured on this link yet
            measured = measured or self._last[1]
            offered = offered or self._last[2]
        state = self._state(station, measured, offered)
        self._last = (state, measured, offered)
        return state

    def _state(self, station: Station, measured: Measured | None,
               offered: Offered | None) -> ConnectorState:
        now = self.server.ctx.clock.monotonic()
        age = (now - measured.at_s) if measured else None
        tx = station.open_transactions.get(self.connector_id)
        epoch = str(self.server.ctx.epochs.get(self.cp_id, 0))
        if station.layout.per_transaction:
            epoch += f"/{tx}"  # a new transaction starts without its TxProfile
        return ConnectorState(
            online=station.boot_state == "accepted",
            status=station.connector_status.get(self.connector_id),
            transaction_id=tx, measured_a=measured.current_a if measured else None,
            measured_age_s=age,
            phases_labelled=measured.phases_labelled if measured else False, epoch=epoch,
            fallback_installed=station.base_profiles_ok,
            failsafe_verified=station.failsafe == "verified", units=station.layout.units,
            offered_a=offered.current_a if offered else None,
            offered_w=offered.power_w if offered else None,
            offered_age_s=(now - offered.at_s) if offered else None,
            energy_wh=_energy(station, self.connector_id) if tx is not None else None,
            phase_switching=self._switches(station))

    def _switches(self, station: Station) -> bool:
        """Whether it may be told one phase or three: as configured, else as it says."""
        if self.cp.dc or self.cp.phases != 3 or self.cp.control != "A":
            return False
        if self.cp.phase_switching is not None:
            return self.cp.phase_switching
        said = station.capabilities.get("ConnectorSwitch3to1PhaseSupported")
        return str(said).strip().lower() == "true"

    def _convert(self, limit: float, unit: Literal["A", "W"]) -> tuple[float, str]:
        """A limit in a unit the charge point does not take. The EMS manages a W-only
        charge point in W (the unit reaches the allocation through the state), so this
        is the last resort (a fallback before the boot told the units): A per phase as
        the watts one phase carries, safe whatever the car's phases."""
        station = self.server.stations.get(self.cp_id)
        units = station.layout.units if station is not None else ("A", "W")
        if unit in units:
            return limit, unit
        if unit == "A":
            return limit * self.voltage_v, "W"
        return limit / (self.voltage_v * self.cp.phases), "A"

    async def _send(self, profile: dict[str, object]) -> LimitOutcome:
        """Straight to the charge point: the hub built this profile itself (the tests
        check its schema), so the command layer's input checks are not needed here."""
        station = self.server.stations.get(self.cp_id)
        if station is None:
            return "offline"
        try:
            resp = await station.request(call.SetChargingProfile(
                connector_id=self.connector_id, cs_charging_profiles=profile),
                timeout_s=self.server.config.ems.send_timeout_s, trusted=True)
        except TimeoutError:
            return "timed_out"
        except OCPPError:
            return "rejected"
        except (ConnectionError, ConnectionClosed):
            return "lost"
        return "accepted" if getattr(resp, "status", None) == "Accepted" else "rejected"

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float,
                        phases: int | None = None) -> LimitOutcome:
        station = self.server.stations.get(self.cp_id)
        if station is None:
            return "offline"
        tx = station.open_transactions.get(self.connector_id)
        if station.layout.per_transaction and tx is None:
            # A TxProfile needs a transaction; without one the car draws nothing above
            # the fallback, and the next transaction changes the epoch (sent again then).
            return "accepted"
        value, sent_unit = self._convert(limit, unit)
        return await self._send(dynamic(station.layout, self.connector_id, value, sent_unit,
                                        valid_s, self.server.ctx.clock.now(), tx, phases))

    async def set_fallback(self, limit: float, unit: Literal["A", "W"],
                           dips: tuple[Dip, ...] = ()) -> LimitOutcome:
        value, sent_unit = self._convert(limit, unit)
        station = self.server.stations.get(self.cp_id)
        steps: tuple[tuple[datetime, float], ...] = ()
        if dips:
            cp = self.cp
            rated = (cp.max_current_a if sent_unit == "A" else
                     cp.max_power_w or cp.max_current_a * self.voltage_v * cp.phases)
            most = station.capabilities.get("ChargingScheduleMaxPeriods") if station else None
            steps = dip_steps(value, rated * dips[0].share, dips,
                              self.server.ctx.clock.now(), _periods(most))
        # Kept first: a charge point booting now gets it before it is accepted.
        self.server.ctx.fallbacks[f"{self.cp_id}/{self.connector_id}"] = (value, sent_unit,
                                                                          steps)
        if station is None:
            return "offline"
        return await self._send(fallback(self.connector_id, value, sent_unit, steps))


def ocpp_ports(server: OcppServer, charge_points: list[tuple[ChargePointConfig, float]]
               ) -> dict[str, OcppConnectorPort]:
    """One port per connector of each (charge point, site voltage)."""
    return {f"{cp.id}/{n}": OcppConnectorPort(server, cp, n, volt)
            for cp, volt in charge_points for n in range(1, cp.connectors + 1)}


_TRIGGERS = frozenset({"session.started", "session.stopped", "status", "boot"})


def attach_ems(server: OcppServer, config: HubConfig, meters: dict[str, MeterSource],
               clock: Clock) -> EmsLoop:
    """The EMS loop managing this server's charge points: the boot installs the profile
    layout from now on, and a session or status change runs the next cycle at once."""
    ports = ocpp_ports(server, [(cp, site.voltage_v) for site in config.sites
                                          for cp in site.charge_points()])
    loop = EmsLoop(config, lambda: ports, meters, clock)
    loop.listeners.append(EmsRecorder(server.ctx.store, clock))
    if config.ems.commissioning == "auto":
        commissioner = Commissioner(server, loop.applier, config.ems.commissioning_test_s)
        loop.listeners.append(commissioner)
        loop.companions.append(commissioner)
    server.ctx.managed = True
    ems = config.ems
    # What is left of the reaction window once a cycle and a decrease's settle time are
    # counted: the longest another call may keep a charging point's channel.
    server.ctx.channel_hold_s = max(1.0, ems.reaction_window_s - ems.cycle_s
                                    - ems.confirm_settle_s)

    def on_event(cp_id: str, topic: str, data: dict[str, Any]) -> None:
        if topic in _TRIGGERS:
            loop.wake()

    server.ctx.listeners.append(on_event)
    loop.alert_listeners.append(_adapt_layout(server, loop))
    return loop


def _adapt_layout(server: OcppServer, loop: EmsLoop
                  ) -> Callable[[str, str, dict[str, object]], None]:
    """A charge point read back not applying its TxDefaultProfile (above it, or nothing
    offered during a transaction) is the known firmware that freezes that profile at the
    transaction's start (reference/OCPP-INTEROP.md §2): its model gets per-transaction
    TxProfiles from then on, as if ``tx_default_ignored_in_tx`` had been declared."""
    def on_alert(kind: str, target: str, data: dict[str, object]) -> None:
        if kind != "limit_not_applied":
            return
        station = server.stations.get(target.split("/")[0])
        if station is None or station.layout.per_transaction:
            return
        server.ctx.learned_quirks.setdefault(station.identity, set()).add(
            "tx_default_ignored_in_tx")
        for other in server.stations.values():
            if other.identity == station.identity and not other.layout.per_transaction:
                other.layout = dataclasses.replace(other.layout, dynamic_purpose="TxProfile")
                log.warning("%s: does not apply its TxDefaultProfile during a transaction "
                            "(model %s): limited by TxProfile from now on; declare quirks: "
                            "[tx_default_ignored_in_tx] for it", other.id,
                            " ".join(p for p in other.identity if p))
        loop.wake()
    return on_alert


def _energy(station: Station, connector_id: int) -> float | None:
    """The energy of the open transaction so far (None: no register since it started)."""
    start = station.meter_start_wh.get(connector_id)
    register = station.register_wh.get(connector_id)
    if start is None or register is None:
        return None
    return max(0.0, register - start)


def _periods(value: object) -> int:
    """ChargingScheduleMaxPeriods as the charge point says (24 when it does not)."""
    try:
        return max(2, int(str(value)))
    except (TypeError, ValueError):
        return 24
