"""A simulated OCPP 1.6J charge point: a real client on the ``ocpp`` library.

It keeps the charging profiles it is sent (replacement rules of §5.16), computes its
composite schedule on its own clock (set from the hub's answers, drifting), applies a new
limit after a delay, lets a simulated EV draw under it, sends MeterValues, and can
reproduce the firmware quirks of :mod:`hub_engine.sim.quirks`.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import random
import zlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import Action

from hub_engine.clock import iso_utc
from hub_engine.ocpp.schedule import field_of, limit_at
from hub_engine.sim.cp_clock import SimClock
from hub_engine.sim.cp_maintenance import Maintenance
from hub_engine.sim.cp_remote import RemoteOperations
from hub_engine.sim.cp_smart import SmartCharging
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk

__all__ = ["Connector", "SimChargePoint", "SimConfig"]

log = logging.getLogger(__name__)
# The library logs every frame at INFO: its own logger, quiet unless asked for.
frames_log = logging.getLogger("hub_engine.sim.frames")


@dataclass(frozen=True)
class SimConfig:
    id: str
    connectors: int = 1
    max_current_a: float = 32.0
    phases: int = 3
    voltage_v: float = 230.0
    apply_delay_s: float = 2.0  # 1–30 s by brand
    meter_interval_s: float = 10.0
    clock_drift_ppm: float = 0.0
    quirks: frozenset[Quirk] = frozenset()
    # Simulated time runs this many times faster than real time; above 1 the charge
    # point's clock runs fast and is not set from the hub's answers.
    speed: float = 1.0
    # Faults of the field: this share of its answers to the hub's calls is lost on the
    # way (the call was carried out, the CALLRESULT never arrives).
    lose_answers: float = 0.0
    # Switches its car between one phase and three as numberPhases says (and says so in
    # ConnectorSwitch3to1PhaseSupported); without it, numberPhases is ignored.
    phase_switching: bool = False


@dataclass
class Connector:
    id: int
    status: str = "Available"
    ev: EV | None = None
    id_tag: str | None = None
    transaction_id: int | None = None
    tx_start: datetime | None = None
    energy_wh: float = 0.0  # the register, never reset
    applied_a: float = 0.0  # the limit the electronics apply now
    target_a: float = 0.0  # the limit the schedule gives (applied after the delay)
    target_since: float = 0.0
    current_a: float = 0.0
    # The phases its contactors give the car (numberPhases, on a charge point that
    # switches), applied with the limit.
    target_phases: int = 3
    applied_phases: int = 3
    frozen_profiles: dict[int, list[dict[str, Any]]] | None = None  # quirk: tx default kept
    frozen_wh: float | None = None  # quirk: the register it reports, stuck


def _tx_default(profile: dict[str, Any]) -> bool:
    return bool(field_of(profile, "chargingProfilePurpose") == "TxDefaultProfile")


class SimChargePoint(SmartCharging, RemoteOperations, Maintenance,
                     ChargePoint):  # type: ignore[misc]
    def __init__(self, config: SimConfig, connection: Any) -> None:
        super().__init__(config.id, connection, response_timeout=30, logger=frames_log)
        self.config = config
        self.clock = SimClock(drift_ppm=config.clock_drift_ppm, speed=config.speed)
        self.power_cut = False  # a breaker upstream has tripped
        self.boot_interval_s = 15.0
        # Quirks are per model and firmware in the field: each quirk set is its own model.
        names = ",".join(sorted(q.value for q in config.quirks))
        self.model = f"SIM-Q{zlib.crc32(names.encode()) % 100000}" if names else "SIM-1"
        self.connectors = {i: Connector(i) for i in range(1, config.connectors + 1)}
        self.profiles: dict[int, list[dict[str, Any]]] = {}
        self.reservations = {}
        self.diagnostics_uploaded: list[str] = []
        self.firmware_installed: list[tuple[str, int]] = []
        self.settings: dict[str, str] = {
            "SupportedFeatureProfiles": "Core,SmartCharging,RemoteTrigger,Reservation",
            "ChargeProfileMaxStackLevel": "0" if self.has(Quirk.STACK_LEVEL_ZERO_ONLY)
            else "8",
            "ChargingScheduleAllowedChargingRateUnit": "Power" if self.has(Quirk.W_ONLY)
            else "Current,Power",
            "NumberOfConnectors": str(config.connectors),
            "HeartbeatInterval": "300", "MeterValueSampleInterval": str(
                int(config.meter_interval_s)),
            "MeterValuesSampledData": "Energy.Active.Import.Register",
            "MeterValuesSampledDataMaxLength": "6",
            "ConnectorSwitch3to1PhaseSupported": "true" if config.phase_switching
            or self.has(Quirk.NUMBER_PHASES_IGNORED) else "false",
            "ConnectionTimeOut": "60", "StopTransactionOnEVSideDisconnect": "true",
            "LightIntensity": "80",  # a vendor key that takes a reboot
            # False: a start the hub refuses goes on charging (as the reservation and
            # badge tests need firmware that does not stop by itself).
            "StopTransactionOnInvalidId": "false",
        }
        # Keys a test makes this charge point refuse (a value its firmware does not take).
        self.config_rejects: set[str] = set()
        self.accepted = asyncio.Event()
        self.booted_at: float | None = None
        # Faults a test or scenario switches on and off (see SimConfig.lose_answers).
        self.lose_answers = config.lose_answers
        self.refuse_profiles = False  # answers Rejected to every SetChargingProfile
        # Actions this firmware never answers (a GetDiagnostics or DataTransfer it
        # swallows): the hub's call waits out its timeout, holding the channel.
        self.unanswered: set[str] = set()
        self.answers_lost = 0
        self.rng = random.Random(zlib.crc32(config.id.encode()))

    def has(self, quirk: Quirk) -> bool:
        return quirk in self.config.quirks

    async def _send(self, message: str) -> None:
        if message.startswith("[3,") and self.lose_answers and (
                self.rng.random() < self.lose_answers):
            self.answers_lost += 1  # carried out, but the hub never hears of it
            return
        await super()._send(message)

    async def route_message(self, raw_msg: str) -> None:
        if self.unanswered and raw_msg.startswith("[2,"):
            with contextlib.suppress(ValueError, IndexError):
                if json.loads(raw_msg)[2] in self.unanswered:
                    return  # swallowed: no CALLRESULT, no CALLERROR
        await super().route_message(raw_msg)

    # -- the charge point's own messages ---------------------------------------------------
    async def boot(self) -> str:
        resp = await self.call(call.BootNotification(charge_point_vendor="Sim",
                                                     charge_point_model=self.model,
                                                     firmware_version=self.firmware_version))
        self.clock.set(resp.current_time)
        self.boot_interval_s = float(resp.interval or 15)
        if resp.status == "Accepted":
            self.accepted.set()
        return str(resp.status)

    async def boot_until_accepted(self) -> None:
        while await self.boot() != "Accepted":
            # Pending: wait the interval the hub asked for (or its trigger), then retry.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.accepted.wait(), self.boot_interval_s)
            if self.accepted.is_set():
                return

    async def status(self, conn: Connector, status: str) -> None:
        conn.status = status
        await self.call(call.StatusNotification(connector_id=conn.id, error_code="NoError",
                                                status=status))

    async def fault(self, connector_id: int, error_code: str, vendor_error_code: str = "",
                    info: str = "") -> None:
        """A fault as firmware reports it: OCPP's errorCode, its own code, free text."""
        conn = self.connectors[connector_id]
        conn.status = "Faulted"
        await self.call(call.StatusNotification(
            connector_id=connector_id, error_code=error_code, status="Faulted",
            vendor_error_code=vendor_error_code or None, info=info or None))

    async def arrive(self, connector_id: int, ev: EV) -> None:
        """An EV is plugged in and waits (no badge yet: a remote start may follow)."""
        conn = self.connectors[connector_id]
        conn.ev = ev
        if self.has(Quirk.NO_RESUME_AFTER_PAUSE):
            ev.resumes_after_pause = False
        await self.status(conn, "Preparing")

    async def plug(self, connector_id: int, ev: EV, id_tag: str = "SIM") -> int:
        """An EV arrives and its driver badges: a transaction starts; return its id."""
        await self.arrive(connector_id, ev)
        # As a real charge point: the badge is checked first (a barrier may open on it).
        await self.call(call.Authorize(id_tag=id_tag))
        return await self._start(self.connectors[connector_id], id_tag)

    async def present(self, connector_id: int, ev: EV, id_tag: str) -> int | None:
        """As a real charge point: the car is plugged in, the badge is checked, and only an
        accepted one starts a transaction (the car leaves otherwise); its id, or None."""
        await self.arrive(connector_id, ev)
        resp = await self.call(call.Authorize(id_tag=id_tag))
        conn = self.connectors[connector_id]
        if resp.id_tag_info.get("status") != "Accepted":
            conn.ev = None
            await self.status(conn, "Available")
            return None
        return await self._start(conn, id_tag)

    async def _start(self, conn: Connector, id_tag: str) -> int:
        connector_id = conn.id
        for rid, (cid, _, _) in list(self.reservations.items()):
            if cid == connector_id:  # the reservation is used (or given up) by this car
                del self.reservations[rid]
        now = self.clock.now()
        resp = await self.call(call.StartTransaction(
            connector_id=connector_id, id_tag=id_tag, meter_start=int(conn.energy_wh),
            timestamp=iso_utc(now)))
        conn.transaction_id, conn.tx_start, conn.id_tag = resp.transaction_id, now, id_tag
        if self.has(Quirk.TX_DEFAULT_IGNORED_IN_TX):
            conn.frozen_profiles = {k: list(v) for k, v in self.profiles.items()}
        if (resp.id_tag_info or {}).get("status") != "Accepted" and (
                self.settings["StopTransactionOnInvalidId"] == "true"):
            # Refused at the start (a badge the hub does not take there): stopped at once.
            await self.unplug(connector_id, reason="DeAuthorized")
            return int(resp.transaction_id)
        await self.status(conn, "Charging")
        return int(resp.transaction_id)

    async def unplug(self, connector_id: int, reason: str = "EVDisconnected") -> None:
        conn = self.connectors[connector_id]
        if conn.transaction_id is not None:
            await self.call(call.StopTransaction(
                meter_stop=int(conn.energy_wh), transaction_id=conn.transaction_id,
                timestamp=iso_utc(self.clock.now()), reason=reason))
        conn.ev, conn.transaction_id, conn.tx_start = None, None, None
        conn.frozen_profiles = None
        # TxProfiles end with their transaction (§3.13.2).
        self.profiles[connector_id] = [p for p in self.profiles.get(connector_id, [])
                                       if field_of(p, "chargingProfilePurpose") != "TxProfile"]
        await self.status(conn, "Available")

    async def send_meter_values(self, conn: Connector) -> None:
        odd = self.has(Quirk.ODD_METER_VALUES)
        phases = self.drawn_phases(conn)
        power_w = conn.current_a * self.config.voltage_v * phases
        energy_wh = conn.energy_wh
        if self.has(Quirk.FROZEN_ENERGY_REGISTER):
            if conn.frozen_wh is None:
                conn.frozen_wh = energy_wh
            energy_wh = conn.frozen_wh
        sampled: list[dict[str, Any]] = [
            {"value": f"{energy_wh / 1000:.3f}" if odd else f"{energy_wh:.0f}",
             "measurand": "Energy.Active.Import.Register", "unit": "kWh" if odd else "Wh"},
            {"value": f"{power_w / 1000:.3f}" if odd else f"{power_w:.0f}",
             "measurand": "Power.Active.Import", "unit": "kW" if odd else "W"}]
        scale = 1000 if self.has(Quirk.CURRENT_IN_MA) else 1
        # Each of the charge point's phases, 0 on those the car does not use.
        labelled = [conn.current_a * scale if n < phases else 0.0
                    for n in range(self.config.phases)]
        if self.has(Quirk.CURRENT_NO_PHASE):
            sampled.append({"value": f"{conn.current_a * scale:.1f}", "unit": "A",
                            "measurand": "Current.Import"})
            labelled = []
        elif self.has(Quirk.CURRENT_L1_ONLY):
            labelled = labelled[:1]
        if "Current.Offered" in self.settings["MeterValuesSampledData"].split(","):
            # What the electronics offer the car: the limit in force, read back.
            sampled.append({"value": f"{conn.applied_a:.1f}", "unit": "A",
                            "measurand": "Current.Offered"})
        for n, current in enumerate(labelled):
            label = f"L{n + 1}"
            if odd:
                sampled.append({"value": f"{current:.1f}", "unit": "A",
                                "measurand": f"Current.Import.{label}"})
            else:
                sampled.append({"value": f"{current:.1f}", "unit": "A",
                                "measurand": "Current.Import", "phase": label})
        await self.call(call.MeterValues(
            connector_id=conn.id, transaction_id=conn.transaction_id,
            meter_value=[{"timestamp": iso_utc(self.clock.now()),
                          "sampledValue": sampled}]), skip_schema_validation=odd)

    # -- physics -------------------------------------------------------------------------
    def effective_profiles(self, conn: Connector) -> dict[int, list[dict[str, Any]]]:
        """The profiles as this firmware applies them (its quirks included)."""
        profiles = self.profiles
        if conn.frozen_profiles is not None:
            # The quirk: TxDefault changes during the session are ignored; a TxProfile and
            # the ChargePointMax still apply (evcc's workaround relies on that).
            profiles = {k: [p for p in conn.frozen_profiles.get(k, []) if _tx_default(p)]
                        + [p for p in self.profiles.get(k, []) if not _tx_default(p)]
                        for k in set(self.profiles) | set(conn.frozen_profiles)}
        if self.has(Quirk.VALID_TO_IGNORED):
            profiles = {k: [{kk: vv for kk, vv in p.items() if kk not in ("validTo", "valid_to")}
                            for p in v] for k, v in profiles.items()}
        return profiles

    def drawn_phases(self, conn: Connector) -> int:
        """The phases its car draws on: the car's, within what the contactors give."""
        ev = conn.ev.phases if conn.ev else self.config.phases
        return min(ev, self.config.phases, conn.applied_phases)

    def schedule_limit(self, conn: Connector) -> float:
        if self.has(Quirk.IGNORES_LIMITS):
            conn.target_phases = self.config.phases
            return self.config.max_current_a
        profiles = self.effective_profiles(conn)
        ev_phases = conn.ev.phases if conn.ev else self.config.phases
        lim = limit_at(profiles, conn.id, self.clock.now(), conn.transaction_id,
                       conn.tx_start, self.config.max_current_a,
                       min(ev_phases, self.config.phases), self.config.voltage_v)
        # ``lim.phases`` is the period's numberPhases within the car's: the contactors
        # follow it only on a charge point that switches (and says so truthfully).
        conn.target_phases = (self.config.phases if not self.config.phase_switching
                              or self.has(Quirk.NUMBER_PHASES_IGNORED)
                              or lim.phases >= min(ev_phases, self.config.phases)
                              else lim.phases)
        return lim.current_a

    def tick(self, dt_s: float, mono_s: float) -> None:
        """Advance the electronics and the cars by ``dt_s`` (the limit changes after
        ``apply_delay_s``, as real electronics do)."""
        for conn in self.connectors.values():
            phases_before = conn.target_phases
            target = self.schedule_limit(conn)
            if target != conn.target_a or conn.target_phases != phases_before:
                conn.target_a, conn.target_since = target, mono_s
            if mono_s - conn.target_since >= self.config.apply_delay_s:
                conn.applied_a = conn.target_a
                if conn.applied_phases != conn.target_phases and conn.ev is not None:
                    conn.ev.state.current_a = 0.0  # contactors opened: the car restarts
                conn.applied_phases = conn.target_phases
            if conn.ev is None or conn.transaction_id is None:
                conn.current_a = 0.0
                continue
            pilot = 0.0 if self.power_cut else conn.applied_a
            conn.current_a = conn.ev.step(dt_s, pilot, self.drawn_phases(conn))
            conn.energy_wh += (conn.current_a * self.config.voltage_v * self.drawn_phases(conn)
                               * dt_s / 3600)

    # -- the hub's calls -----------------------------------------------------------------
    @on(Action.trigger_message)
    def on_trigger(self, requested_message: str, connector_id: int | None = None) -> Any:
        ok = requested_message in ("BootNotification", "Heartbeat", "StatusNotification",
                                   "MeterValues")
        return call_result.TriggerMessage(status="Accepted" if ok else "NotImplemented")

    @after(Action.trigger_message)
    async def after_trigger(self, requested_message: str, connector_id: int | None = None
                            ) -> None:
        if requested_message == "BootNotification":
            await self.boot()
        elif requested_message == "Heartbeat":
            resp = await self.call(call.Heartbeat())
            self.clock.set(resp.current_time)
        elif requested_message == "MeterValues":
            for conn in self.connectors.values():
                await self.send_meter_values(conn)
        elif requested_message == "StatusNotification":
            for conn in self.connectors.values():
                await self.status(conn, conn.status)

    def reboot(self) -> None:
        """What survives a reboot: the energy registers, and profiles unless the quirk."""
        if self.has(Quirk.PROFILES_LOST_ON_REBOOT):
            self.profiles = {}
        self.accepted.clear()
        for conn in self.connectors.values():
            conn.applied_a = conn.target_a = 0.0
            if self.has(Quirk.TRANSACTIONS_LOST_ON_REBOOT) and conn.transaction_id is not None:
                conn.transaction_id = conn.tx_start = None
                conn.status = "Preparing" if conn.ev is not None else "Available"

    def snapshot(self) -> dict[str, Any]:
        return {"id": self.id, "connectors": [dataclasses.asdict(
            dataclasses.replace(c, ev=None, frozen_profiles=None)) for c in
            self.connectors.values()]}


