"""What the EMS loop needs from the world, as small typed interfaces.

The loop never imports ``ocpp`` or ``pymodbus``: an OCPP connector is one implementation
of :class:`ConnectorPort`, a Modbus meter (or the simulated one) of :class:`MeterSource`.
A failed read raises :class:`hub_engine.errors.ReadError`; it is never a zero.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from hub_engine.ems.model import ExternalLimit, HardInputs, Reading, Snapshot

__all__ = ["BatteryPort", "BatteryReading", "ConnectorPort", "ConnectorState", "Dip",
           "LimitOutcome", "MeterSource", "SiteInputs"]

# offline: not sent; lost: the link dropped during the call (it may have been applied).
LimitOutcome = Literal["accepted", "rejected", "offline", "timed_out", "lost", "error"]


class MeterSource(Protocol):
    """Phase currents and signed per-phase power of one node, with their age."""

    def reading(self) -> Reading: ...


@dataclass(frozen=True)
class BatteryReading:
    power_w: float  # + charging, − discharging
    soc_pct: float
    age_s: float


class BatteryPort(Protocol):
    """A stationary battery the solar control charges, and discharges for the cars: its
    reading (ReadError when not read) and its power setpoint (+ charge, − discharge)."""

    id: str
    max_charge_w: float
    max_soc_pct: float
    max_discharge_w: float  # 0: never discharged by the hub
    min_soc_pct: float
    phases: int  # 3 (balanced) or 1 (on a phase not known)

    def reading(self) -> BatteryReading: ...

    async def set_power(self, power_w: float) -> None: ...


class SiteInputs(Protocol):
    """Dry contacts and device-given limits (shedding, generator, the Linky's cut-off),
    each already at its safe state when unknown; and the outputs the cycle drives."""

    def hard_inputs(self) -> HardInputs: ...

    def limits(self) -> tuple[ExternalLimit, ...]: ...

    def after_cycle(self, snapshot: Snapshot) -> None: ...


@dataclass(frozen=True)
class ConnectorState:
    online: bool
    status: str | None  # OCPP status (Charging, SuspendedEVSE, SuspendedEV, Available…)
    transaction_id: int | None
    measured_a: tuple[float, float, float] | None  # on the charge point's L1..L3
    measured_age_s: float | None
    # Changes when the connector may have lost its dynamic limit (a reboot, or for
    # per-transaction profiles a new transaction): it then counts at its hardware maximum
    # until a new limit is confirmed.
    epoch: str = ""
    # True once this epoch's fallback is installed: it then may draw at most the higher
    # of its fallback and the limit it had before (a dynamic profile may have survived).
    fallback_installed: bool = False
    # Its model passed the fail-safe commissioning test (its dynamic limits expire).
    failsafe_verified: bool = True
    # ``measured_a`` was labelled on at least two phases: the car's phases can be told
    # from it. Otherwise (no label, L1 only) it stands for all three phases.
    phases_labelled: bool = True
    # The units its profiles may be in, as the charge point told at boot
    # (ChargingScheduleAllowedChargingRateUnit): one that takes only W is managed in W.
    units: tuple[str, ...] = ("A", "W")
    # The limit in force as the charge point reads it back (``Current.Offered`` in A,
    # ``Power.Offered`` in W, when it sends them), and the reading's age.
    offered_a: float | None = None
    offered_w: float | None = None
    offered_age_s: float | None = None
    # Energy the session under way has taken so far (its register minus its start).
    energy_wh: float | None = None
    # It may be told to charge on one phase or three (numberPhases in its limits).
    phase_switching: bool = False


@dataclass(frozen=True)
class Dip:
    """A window in which a connector's fallback is lowered to ``share`` × its rated
    current: an EDF-SEI unfavourable run pushed ahead, so that a charge point follows the
    signal with the hub down. ``end`` None: until told otherwise (no slot known beyond)."""

    start: datetime
    end: datetime | None
    share: float


class ConnectorPort(Protocol):
    """One charge point connector as the EMS sees it: its state, and a current limiter."""

    def state(self) -> ConnectorState: ...

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float,
                        phases: int | None = None) -> LimitOutcome:
        """Its dynamic limit for ``valid_s``; ``phases`` (1 or 3) the phases it may
        charge on (None: not said, three)."""
        ...

    async def set_fallback(self, limit: float, unit: Literal["A", "W"],
                           dips: tuple[Dip, ...] = ()) -> LimitOutcome:
        """The limit it keeps if the hub goes silent, lowered in the ``dips``; the port
        keeps it across reboots."""
        ...
