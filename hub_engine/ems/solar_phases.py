"""Which phases a solar car charges on, for a charge point that switches them.

A three-phase car needs 6 A on three phases, about 4.1 kW, to charge at all; on one
phase it starts at 1.4 kW. A car that can be switched is put on one phase while the
sun cannot hold its three-phase minimum, and back on three once it can hold it for
``start_delay_s``; a waiting car is switched at once (it draws nothing), a charging one
after its share stayed short of the three-phase minimum for ``start_delay_s`` (before
its stop timer would stop it). A switch pauses the charge, so after one a car keeps its
phases for ``hold_s``. The choice is only a wish: the EMS counts the car on all its
phases until one phase is confirmed (DESIGN "The EMS", 5).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

__all__ = ["PhaseCar", "PhaseRules", "PhaseTrack", "choose_phases"]

_NEVER = -1e18


@dataclass(frozen=True)
class PhaseRules:
    start_delay_s: float = 60.0
    start_margin_w: float = 0.0
    hold_s: float = 300.0


@dataclass(frozen=True)
class PhaseCar:
    id: str
    on: bool  # charging on the sun (its track is on)
    asking: bool
    cap_w: float  # its share of the surplus, this decision
    min1_w: float  # its minimum on one phase
    min3_w: float  # its minimum on three


@dataclass(frozen=True)
class PhaseTrack:
    phases: int = 3
    since_s: float = _NEVER  # when it was last switched
    want_since_s: float | None = None  # the other count would fit since


def choose_phases(cars: list[PhaseCar], tracks: dict[str, PhaseTrack], free_w: float,
                  rules: PhaseRules, now_s: float) -> dict[str, PhaseTrack]:
    """The next phase track of each car. ``free_w``: the site's surplus less the minimum
    of every solar car that is on, those that do not switch included (below zero, the
    grid feeds them). What the sun could give a car is that plus its own minimum if it
    is on (the others brought down to theirs, as the solar shares allow); a waiting car
    switched or able to start reserves its minimum, so that the next one does not count
    on the same watts (one car on one phase takes the rest below a three-phase minimum,
    not every car in turn, all on their charge points' L1)."""
    out: dict[str, PhaseTrack] = {}
    reserved = 0.0
    for car in sorted(cars, key=lambda c: not c.on):  # cars on first, then the waiting
        t = tracks.get(car.id, PhaseTrack())
        mine = car.min1_w if t.phases == 1 else car.min3_w
        room = free_w + mine if car.on else free_w - reserved
        three = room >= car.min3_w + rules.start_margin_w
        if car.on:
            want = 3 if three else 1 if room < car.min3_w else t.phases
        else:
            # A waiting car draws nothing: switched to whatever would start it.
            want = 3 if three else 1 if room >= car.min1_w + rules.start_margin_w else t.phases
        if not car.asking or now_s - t.since_s < rules.hold_s:
            want = t.phases
        if not car.on and room >= (car.min1_w if want == 1 else car.min3_w):
            reserved += car.min1_w if want == 1 else car.min3_w
        if want == t.phases:
            out[car.id] = replace(t, want_since_s=None)
            continue
        since = t.want_since_s if t.want_since_s is not None else now_s
        if not car.on or now_s - since >= rules.start_delay_s:
            out[car.id] = PhaseTrack(phases=want, since_s=now_s)
        else:
            out[car.id] = replace(t, want_since_s=since)
    return out
