"""Solar charging as a pure decision: who charges on the site's export, and how much.

One decision per site every ``interval_s`` (SolarConfig), over what the grid meter
showed since the last one. The **surplus** is what the site exports plus what the
solar cars already draw (their draw is hidden in the export). Cars in ``min_solar`` are
always on; cars in ``surplus`` start once the spare surplus covers their minimum power
(plus ``start_margin_w``) for ``start_delay_s``, one car's minimum reserved per start so
that two cars never start on the same spare; they stop, latest started first, once the
grid has fed their minimums beyond ``stop_import_w`` for ``stop_delay_s``. The cars on
share the surplus at equal amps per phase (water-filling, like the EMS's fairness),
each between its minimum and its maximum.

The result is a cap per car (watts): an external limit that only ever lowers what the
allocation gives, so no solar decision can load a board beyond its limits. Without a
signed grid reading the export is unknown: surplus cars get nothing, ``min_solar`` cars
their minimum (when in doubt, no grid energy beyond the minimum).

A site's battery comes last: it is given what the cars that are on leave of the
surplus (its own charging counted in the surplus like a car's draw, so a waiting car
still sees the export the battery takes and starts on it).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal

__all__ = ["SolarBattery", "SolarCar", "SolarDecision", "SolarRules", "SolarTrack", "decide",
           "share_w"]

_NEVER = -1e18


@dataclass(frozen=True)
class SolarRules:
    start_delay_s: float = 60.0
    stop_delay_s: float = 300.0
    start_margin_w: float = 0.0
    stop_import_w: float = 300.0


@dataclass(frozen=True)
class SolarCar:
    """One connector with a session under a solar mode, as this decision sees it."""

    id: str
    mode: Literal["surplus", "min_solar"]
    min_w: float  # its minimum current on its phases, in W
    max_w: float
    watts_per_a: float  # W per amp of its per-phase current
    draw_w: float  # what it draws now (measured, or its cap if not measured since)
    asking: bool = True  # False: the car does not ask (full, or its own timer)
    tier: int = 0
    # Measured since the last decision and below its cap: it takes only this.
    takes_w: float | None = None


@dataclass(frozen=True)
class SolarTrack:
    """Per connector, carried from one decision to the next."""

    on: bool = False
    cap_w: float = 0.0
    started_s: float = _NEVER
    ready_since_s: float | None = None  # spare surplus covers its minimum since
    short_since_s: float | None = None  # the grid feeds its minimum since


@dataclass(frozen=True)
class SolarBattery:
    max_w: float  # what it may take now (0: full)
    draw_w: float  # what it charges now (+), measured


@dataclass(frozen=True)
class SolarDecision:
    tracks: dict[str, SolarTrack]
    surplus_w: float | None  # None: no signed grid reading
    battery_w: float = 0.0  # the battery's charging setpoint


def share_w(cars: list[SolarCar], surplus_w: float) -> dict[str, float]:
    """Water-filling at equal amps per phase: each car between its minimum and its
    maximum (or what it takes), the sum as close to ``surplus_w`` as the bounds allow."""
    if not cars:
        return {}
    # A car that takes less than its cap keeps 2 A per phase above what it takes (the
    # EMS's demand margin); the rest of its share goes to the others.
    hi = {c.id: max(c.min_w, min(c.max_w, c.takes_w + 2.0 * c.watts_per_a)
                    if c.takes_w is not None else c.max_w) for c in cars}

    def total(level_a: float) -> float:
        return sum(min(hi[c.id], max(c.min_w, level_a * c.watts_per_a)) for c in cars)

    lo_a, hi_a = 0.0, max(hi[c.id] / c.watts_per_a for c in cars)
    for _ in range(50):
        mid = (lo_a + hi_a) / 2
        if total(mid) > surplus_w:
            hi_a = mid
        else:
            lo_a = mid
    return {c.id: min(hi[c.id], max(c.min_w, lo_a * c.watts_per_a)) for c in cars}


def _stops(on: list[SolarCar], tracks: dict[str, SolarTrack], deficit_w: float,
           rules: SolarRules, now_s: float) -> dict[str, SolarTrack]:
    """Start the stop timer of as many surplus cars as the grid import needs, latest
    started first; stop those whose timer ran out."""
    out: dict[str, SolarTrack] = {}
    covered = 0.0
    order = sorted((c for c in on if c.mode == "surplus"),
                   key=lambda c: (c.tier, -tracks[c.id].started_s, c.id))
    for car in order:
        t = tracks[car.id]
        short = deficit_w > rules.stop_import_w and covered < deficit_w - rules.stop_import_w
        if not short:
            out[car.id] = replace(t, short_since_s=None)
            continue
        covered += car.min_w
        since = t.short_since_s if t.short_since_s is not None else now_s
        if now_s - since >= rules.stop_delay_s:
            out[car.id] = SolarTrack(on=False, cap_w=0.0)
        else:
            out[car.id] = replace(t, short_since_s=since)
    return out


def decide(cars: list[SolarCar], tracks: dict[str, SolarTrack], grid_w: float | None,
           rules: SolarRules, now_s: float, battery: SolarBattery | None = None
           ) -> SolarDecision:
    """The next track of every car (its ``cap_w`` is the limit until the next decision).
    ``grid_w``: the grid connection's mean signed power since the last decision (import
    positive); ``tracks``: the previous decision's (cars without one are new)."""
    was = {c.id: tracks.get(c.id, SolarTrack()) for c in cars}
    if grid_w is None:
        return SolarDecision({c.id: SolarTrack(on=True, cap_w=c.min_w, started_s=now_s)
                              if c.mode == "min_solar" else SolarTrack() for c in cars}, None)
    stored = max(0.0, battery.draw_w) if battery is not None else 0.0
    surplus = -grid_w + sum(c.draw_w for c in cars) + stored
    was = {c.id: replace(was[c.id], on=True, started_s=min(was[c.id].started_s, now_s))
           if c.mode == "min_solar" and not was[c.id].on else was[c.id] for c in cars}
    on = [c for c in cars if was[c.id].on and c.asking]
    new = dict(was)
    new.update(_stops(on, was, sum(c.min_w for c in on) - surplus, rules, now_s))
    on = [c for c in on if new[c.id].on]
    spare = surplus - sum(c.min_w for c in on)
    waiting = sorted((c for c in cars if c.mode == "surplus" and not new[c.id].on and c.asking),
                     key=lambda c: (-c.tier, new[c.id].ready_since_s or now_s, c.id))
    for car in waiting:
        t = new[car.id]
        if spare < car.min_w + rules.start_margin_w:
            new[car.id] = SolarTrack()
            continue
        spare -= car.min_w  # reserved: the next car is not started on the same spare
        since = t.ready_since_s if t.ready_since_s is not None else now_s
        if now_s - since >= rules.start_delay_s:
            new[car.id] = SolarTrack(on=True, started_s=now_s)
            on.append(car)
        else:
            new[car.id] = SolarTrack(ready_since_s=since)
    caps = share_w(on, surplus)
    for c in cars:
        t = new[c.id]
        cap = caps.get(c.id, c.min_w if t.on else 0.0)  # on but not asking: its minimum
        new[c.id] = replace(t, cap_w=round(cap, 1))
    left = surplus - sum(caps.values())
    charge = min(battery.max_w, max(0.0, left)) if battery is not None else 0.0
    return SolarDecision(new, round(surplus, 1), round(charge, 1))
