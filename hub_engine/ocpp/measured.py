"""What a connector's MeterValues say it draws, and which of them the hub may believe.

Two field truths (reference/OCPP-INTEROP.md §7) decide what the EMS sees:

* **Phase labels.** Much firmware sends one ``Current.Import`` with no ``phase`` (an
  overall value), or only ``L1``. That says nothing about which phases the car uses: the
  value counts on all three, and the car's phases are detected only from currents
  labelled on at least two phases. Reading an unlabelled value as L1 made two 3-phase
  cars count as single-phase and overloaded the other phases.
* **Plausibility.** A unit mix-up (mA or W sent as A) or a broken meter reports thousands
  of amps; subtracted from the grid meter that makes the building's load hugely negative
  and hands its capacity to the cars. A value outside what the connector can physically
  draw, a negative current, an energy register that is negative or absurd, is rejected
  (with its reason) and never reaches the EMS or the samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hub_engine.config import ChargePointConfig
from hub_engine.store.samples import Sample

__all__ = ["Measured", "Offered", "PlausibilityLimits", "check_samples", "connector_current",
           "connector_offered"]

Phases3 = tuple[float, float, float]
_LABELS = ("L1", "L2", "L3")
# A connector's ratings may be set below what its hardware lets through (the hub then
# flags it as ignoring its limit): up to this factor above it a value is believed.
_OVER_RATING = 1.5
_NOISE_A = 1.0  # a small negative current is sensor noise: read as 0
_MAX_REGISTER_WH = 1e11  # 100 GWh: 500 years of a 22 kW charge point at full power
# A sample older than this when received was buffered (an offline replay): it says
# nothing of the limit in force now.
_REPLAY_S = 30.0


@dataclass(frozen=True)
class Measured:
    """Currents on the charge point's own L1..L3, and when they were received."""

    current_a: Phases3
    at_s: float  # monotonic
    # True when labelled on at least two phases: the car's phases can be told from them.
    phases_labelled: bool


@dataclass(frozen=True)
class Offered:
    """What the charge point says it offers the car (``Current.Offered`` in A,
    ``Power.Offered`` in W): the limit in force there, read back; when received."""

    current_a: float | None
    power_w: float | None
    at_s: float  # monotonic


@dataclass(frozen=True)
class PlausibilityLimits:
    max_current_a: float
    max_power_w: float

    @classmethod
    def of(cls, cp: ChargePointConfig | None, voltage_v: float = 230.0) -> PlausibilityLimits:
        if cp is None:  # not configured: the largest AC connector there is (80 A, 3 phases)
            return cls(80.0 * _OVER_RATING, 80.0 * voltage_v * 3 * _OVER_RATING)
        max_w = cp.max_power_w or cp.max_current_a * voltage_v * cp.phases
        max_a = cp.max_current_a
        if cp.dc:  # DC current on the car's side: down to 150 V at full power
            max_a = max(max_a, max_w / 150.0)
        return cls(max_a * _OVER_RATING, max_w * _OVER_RATING)


def _reason(s: Sample, limits: PlausibilityLimits) -> str | None:
    if s.measurand in ("Current.Import", "Current.Offered") and s.unit == "A":
        if s.value < -_NOISE_A or s.value > limits.max_current_a:
            return f"{s.measurand} {s.phase or 'overall'} = {s.value:g} A"
    elif s.measurand.startswith("Energy.Active") and s.unit == "Wh":
        if s.value < 0 or s.value > _MAX_REGISTER_WH:
            return f"{s.measurand} = {s.value:g} Wh"
    elif s.measurand in ("Power.Active.Import", "Power.Offered") and s.unit == "W" and (
            abs(s.value) > limits.max_power_w):
        return f"Power.Active.Import {s.phase or 'overall'} = {s.value:g} W"
    return None


def check_samples(samples: list[Sample], limits: PlausibilityLimits
                  ) -> tuple[list[Sample], list[str]]:
    """Split samples into those the hub believes and the reasons of those it rejects.

    One implausible current discards every current of the same reading: the others were
    produced by the same (broken, or mis-scaled) meter.
    """
    judged = [(s, _reason(s, limits)) for s in samples]
    bad_currents = any(r and s.measurand == "Current.Import" for s, r in judged)
    kept = [s for s, r in judged if r is None
            and not (bad_currents and s.measurand == "Current.Import")]
    return kept, [r for _, r in judged if r is not None]


def connector_current(samples: list[Sample], at_s: float) -> Measured | None:
    """The connector's current per phase from believed samples (None: no current in them).

    Labelled on two or three of L1..L3: those values (a missing phase is 0). Otherwise the
    largest value, unlabelled or L1, stands for each of the three phases.
    """
    values = {s.phase: max(0.0, s.value) for s in samples
              if s.measurand == "Current.Import" and s.unit == "A"}
    if not values:
        return None
    labelled = [p for p in _LABELS if p in values]
    if len(labelled) >= 2:
        a = tuple(values.get(p, 0.0) for p in _LABELS)
        return Measured((a[0], a[1], a[2]), at_s, True)
    overall = max((values[p] for p in ("", *_LABELS) if p in values), default=None)
    if overall is None:  # only N or line-to-line values
        return None
    return Measured((overall, overall, overall), at_s, False)


def connector_offered(samples: list[Sample], at_s: float, received: datetime
                      ) -> Offered | None:
    """The limit the charge point says it offers, from believed samples (None: none).

    Per-phase values give the highest phase current and the sum of the phase powers. A
    sample buffered while offline and sent later is not a read-back of the limit now.
    """
    current: dict[str, float] = {}
    power: dict[str, float] = {}
    for s in samples:
        if (received - s.ts).total_seconds() > _REPLAY_S:
            continue
        if s.measurand == "Current.Offered" and s.unit == "A":
            current[s.phase] = max(0.0, s.value)
        elif s.measurand == "Power.Offered" and s.unit == "W":
            power[s.phase] = max(0.0, s.value)
    if not current and not power:
        return None
    power_w = power[""] if "" in power else (
        sum(v for p, v in power.items() if p in _LABELS) if power else None)
    return Offered(max(current.values()) if current else None, power_w, at_s)
