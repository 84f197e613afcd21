"""MeterValues from real firmware, normalised to W, Wh, A, V and phases L1, L2, L3.

Seen in the field (reference/OCPP-INTEROP.md §7): ``kW``/``kWh`` units, phase labels
``L1-N`` on currents, an ``N`` phase, a phase on the energy register, only L1 reported,
empty ``value`` strings, Alfen's ``Current.Import.L1`` measurand syntax. A value that
cannot be read is dropped and counted, never turned into 0.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from hub_engine.clock import parse_iso
from hub_engine.store.samples import Sample

__all__ = ["Sample", "meter_summary", "normalise_meter_values"]

# unit → (normalised unit, factor)
_UNITS = {
    "W": ("W", 1.0), "kW": ("W", 1000.0),
    "Wh": ("Wh", 1.0), "kWh": ("Wh", 1000.0),
    "varh": ("varh", 1.0), "kvarh": ("varh", 1000.0),
    "var": ("var", 1.0), "kvar": ("var", 1000.0),
    "VA": ("VA", 1.0), "kVA": ("VA", 1000.0),
    "A": ("A", 1.0), "V": ("V", 1.0), "Celsius": ("Celsius", 1.0),
    "Fahrenheit": ("Fahrenheit", 1.0), "K": ("K", 1.0), "Percent": ("Percent", 1.0),
}
_DEFAULT_UNIT = {"Current": "A", "Voltage": "V", "Power": "W", "Energy": "Wh",
                 "SoC": "Percent", "Temperature": "Celsius", "Frequency": ""}
_PHASES = {"L1": "L1", "L2": "L2", "L3": "L3", "N": "N", "L1-N": "L1", "L2-N": "L2",
           "L3-N": "L3", "L1-L2": "L1-L2", "L2-L3": "L2-L3", "L3-L1": "L3-L1"}
_SUFFIX = re.compile(r"^(?P<base>.+?)\.(?P<phase>L[123](?:-N)?|N)$")


def normalise_meter_values(meter_value: list[dict[str, Any]],
                           received_at: datetime) -> tuple[list[Sample], int]:
    """Return the readable samples and how many values were dropped as unreadable."""
    out: list[Sample] = []
    dropped = 0
    for mv in meter_value:
        ts = parse_iso(mv.get("timestamp")) or received_at
        for sv in mv.get("sampledValue") or mv.get("sampled_value") or []:
            measurand = sv.get("measurand") or "Energy.Active.Import.Register"
            phase = sv.get("phase") or ""
            match = _SUFFIX.match(measurand)
            if match and not phase:
                measurand, phase = match["base"], match["phase"]
            phase = _PHASES.get(phase, phase)
            if measurand.startswith("Energy") and phase in ("L1", "L2", "L3", "N"):
                # Some firmware puts a phase on the total energy register: it is the total.
                phase = ""
            raw_unit = sv.get("unit") or _DEFAULT_UNIT.get(measurand.split(".")[0], "")
            unit, factor = _UNITS.get(raw_unit, (raw_unit, 1.0))
            try:
                value = float(sv.get("value", "")) * factor
            except (TypeError, ValueError):
                dropped += 1
                continue
            if value != value or value in (float("inf"), float("-inf")):
                dropped += 1
                continue
            out.append(Sample(ts, measurand, phase, unit, value,
                              sv.get("context") or "Sample.Periodic"))
    return out, dropped


def meter_summary(samples: list[Sample]) -> dict[str, Any]:
    """The latest energy register, power and phase currents of normalised samples, for
    the bus's ``meter`` event (each key only when the charge point sent it)."""
    out: dict[str, Any] = {}
    currents: dict[str, float] = {}
    for s in sorted(samples, key=lambda s: s.ts):
        if s.measurand == "Energy.Active.Import.Register" and s.unit == "Wh":
            out["energy_wh"] = s.value
        elif s.measurand == "Power.Active.Import" and s.unit == "W" and not s.phase:
            out["power_w"] = s.value
        elif s.measurand == "Current.Import" and s.unit == "A":
            currents[s.phase or "L1"] = s.value
    if currents:
        out["current_a"] = [currents.get(p) for p in ("L1", "L2", "L3")]
    return out
