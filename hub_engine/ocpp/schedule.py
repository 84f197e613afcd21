"""The composite charging schedule of a charge point, as OCPP 1.6 §3.13 defines it.

Used by the simulated charge points to decide what they let a car draw and to answer
GetCompositeSchedule, and by the CPO relay to read what a CPO's profiles allow
(:mod:`hub_engine.ocpp.cpo.profiles`). The rules, in the order they apply:

- a profile counts at time t only if t is within ``validFrom``/``validTo`` and its schedule
  has a period covering t: after ``duration`` (when given) or before the first period it
  says nothing, and the next lower stack level of the same purpose applies;
- the schedule starts at ``startSchedule`` (Absolute), at the transaction's start
  (Relative; before a transaction, now), or at ``startSchedule`` repeated every day or
  week (Recurring);
- within a purpose the highest ``stackLevel`` that says something wins; a
  TxDefaultProfile set on the connector replaces connector 0's for that connector;
- a TxProfile applies only during the transaction it names (or any, without an id) and
  then replaces the TxDefaultProfile; the ChargePointMaxProfile caps the result;
- no applicable profile: unconstrained (the hardware maximum);
- limits in W become amps per phase with the voltage and the phases in use
  (``numberPhases`` of the period, default 3, and the car's own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub_engine.clock import parse_iso

__all__ = ["Limit", "composite_periods", "field_of", "limit_at"]

_DAY, _WEEK = 86400.0, 7 * 86400.0


@dataclass(frozen=True)
class Limit:
    current_a: float  # per phase
    phases: int  # phases the car may use under this limit
    source: str  # which profile decided ("unconstrained" when none)


def field_of(d: dict[str, Any], camel: str) -> Any:
    """Profiles arrive camelCase on the wire and snake_case through the ocpp library."""
    if camel in d:
        return d[camel]
    snake = "".join("_" + c.lower() if c.isupper() else c for c in camel)
    return d.get(snake)


def _schedule_start(profile: dict[str, Any], t: datetime, tx_start: datetime | None
                    ) -> datetime | None:
    schedule = field_of(profile, "chargingSchedule")
    kind = field_of(profile, "chargingProfileKind")
    start = parse_iso(field_of(schedule, "startSchedule"))
    if kind == "Relative":
        return tx_start or t
    if kind == "Recurring":
        if start is None:
            return None
        length = _WEEK if field_of(profile, "recurrencyKind") == "Weekly" else _DAY
        cycles = math.floor((t - start).total_seconds() / length)
        return start + timedelta(seconds=cycles * length)
    return start or parse_iso(field_of(profile, "validFrom"))


def _period_at(profile: dict[str, Any], t: datetime, tx_start: datetime | None
               ) -> dict[str, Any] | None:
    valid_from = parse_iso(field_of(profile, "validFrom"))
    valid_to = parse_iso(field_of(profile, "validTo"))
    if (valid_from and t < valid_from) or (valid_to and t >= valid_to):
        return None
    start = _schedule_start(profile, t, tx_start)
    if start is None:
        return None
    offset = (t - start).total_seconds()
    schedule = field_of(profile, "chargingSchedule")
    duration = field_of(schedule, "duration")
    if offset < 0 or (duration is not None and offset >= duration):
        return None
    chosen = None
    for period in sorted(field_of(schedule, "chargingSchedulePeriod"),
                         key=lambda p: field_of(p, "startPeriod")):
        if field_of(period, "startPeriod") <= offset:
            chosen = period
    return chosen


def _to_limit(profile: dict[str, Any], period: dict[str, Any], ev_phases: int,
              voltage_v: float) -> Limit:
    schedule = field_of(profile, "chargingSchedule")
    phases = min(ev_phases, int(field_of(period, "numberPhases") or 3))
    value = float(field_of(period, "limit"))
    if field_of(schedule, "chargingRateUnit") == "W":
        value = value / (voltage_v * phases)
    name = f"{field_of(profile, 'chargingProfilePurpose')}#{field_of(profile, 'chargingProfileId')}"
    return Limit(value, phases, name)


def _best(profiles: list[tuple[dict[str, Any], bool]], t: datetime,
          tx_start: datetime | None) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """The highest stack level with something to say at t."""
    ranked = sorted(profiles, key=lambda pc: field_of(pc[0], "stackLevel"), reverse=True)
    for profile, _own in ranked:
        period = _period_at(profile, t, tx_start)
        if period is not None:
            return profile, period
    return None


def limit_at(installed: dict[int, list[dict[str, Any]]], connector_id: int, t: datetime,
             transaction_id: int | None, tx_start: datetime | None, max_current_a: float,
             ev_phases: int = 3, voltage_v: float = 230.0) -> Limit:
    """What the connector may deliver at ``t`` (amps per phase), and which profile says so.

    ``installed`` maps a connector id (0 = the whole charge point) to its profiles as
    received in SetChargingProfile.
    """
    def purpose(name: str, connectors: tuple[int, ...]) -> list[tuple[dict[str, Any], bool]]:
        return [(p, c == connector_id) for c in connectors for p in installed.get(c, [])
                if field_of(p, "chargingProfilePurpose") == name]

    result = Limit(max_current_a, ev_phases, "unconstrained")
    tx_profiles = [] if transaction_id is None else [
        (p, own) for p, own in purpose("TxProfile", (connector_id,))
        if field_of(p, "transactionId") in (None, transaction_id)]
    # A TxDefaultProfile set on the connector replaces connector 0's for that connector.
    chosen = (_best(tx_profiles, t, tx_start)
              or _best(purpose("TxDefaultProfile", (connector_id,)), t, tx_start)
              or _best(purpose("TxDefaultProfile", (0,)), t, tx_start))
    if chosen is not None:
        result = _to_limit(*chosen, ev_phases, voltage_v)
    cp_max = _best(purpose("ChargePointMaxProfile", (0,)), t, tx_start)
    if cp_max is not None:
        cap = _to_limit(*cp_max, ev_phases, voltage_v)
        if cap.current_a < result.current_a:
            result = Limit(cap.current_a, min(cap.phases, result.phases), cap.source)
    if result.current_a > max_current_a:
        result = Limit(max_current_a, result.phases, result.source)
    return result


def _change_times(installed: dict[int, list[dict[str, Any]]], start: datetime,
                  end: datetime, tx_start: datetime | None) -> list[datetime]:
    times = {start}
    for profiles in installed.values():
        for profile in profiles:
            for key in ("validFrom", "validTo"):
                value = parse_iso(field_of(profile, key))
                if value is not None and start < value < end:
                    times.add(value)
            schedule = field_of(profile, "chargingSchedule")
            base = _schedule_start(profile, start, tx_start)
            if base is None:
                continue
            length = _DAY if field_of(profile, "chargingProfileKind") == "Recurring" else None
            if length and field_of(profile, "recurrencyKind") == "Weekly":
                length = _WEEK
            offsets = [float(field_of(p, "startPeriod"))
                       for p in field_of(schedule, "chargingSchedulePeriod")]
            if field_of(schedule, "duration") is not None:
                offsets.append(float(field_of(schedule, "duration")))
            repeat = 0
            while True:
                cycle = base + timedelta(seconds=repeat * (length or 0))
                if cycle >= end:
                    break
                for off in offsets:
                    moment = cycle + timedelta(seconds=off)
                    if start < moment < end:
                        times.add(moment)
                if not length:
                    break
                repeat += 1
    return sorted(times)


def composite_periods(installed: dict[int, list[dict[str, Any]]], connector_id: int,
                      start: datetime, duration_s: int, transaction_id: int | None,
                      tx_start: datetime | None, max_current_a: float, ev_phases: int = 3,
                      voltage_v: float = 230.0) -> list[tuple[int, float, int]]:
    """GetCompositeSchedule's periods: (startPeriod s, limit A per phase, phases)."""
    end = start + timedelta(seconds=duration_s)
    out: list[tuple[int, float, int]] = []
    for moment in _change_times(installed, start, end, tx_start):
        lim = limit_at(installed, connector_id, moment, transaction_id, tx_start,
                       max_current_a, ev_phases, voltage_v)
        value = math.floor(lim.current_a * 10 + 1e-6) / 10
        if not out or (out[-1][1], out[-1][2]) != (value, lim.phases):
            out.append((int((moment - start).total_seconds()), value, lim.phases))
    return out
