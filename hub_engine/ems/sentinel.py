"""Between two cycles: run the next one at once when a meter jumps or an input changes.

DESIGN "The EMS": a cycle runs every ``cycle_s`` *and at once on a trigger*. Sessions and
external limits wake the loop where they happen; a meter and the site's contacts are
read by the cycle itself, so without this a building's load step or a fire alarm
waited for the next tick (up to ``cycle_s``, out of a reaction window that counts every
second). The readings are the latest each source holds: watching them costs no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hub_engine.ems.interfaces import MeterSource, SiteInputs
from hub_engine.ems.model import Phases3, Reading
from hub_engine.errors import ReadError

__all__ = ["Sentinel", "Watched", "look_at", "seen"]

_MIN_JUMP_A = 2.0
_JUMP_SHARE = 0.05  # of the node's rating


@dataclass(frozen=True)
class Watched:
    """What a cycle decided on: per node its signed meter current (None: no reading),
    and the site's inputs and device limits (compared whole)."""

    meters: Mapping[str, Phases3 | None]
    inputs: object = None


def seen(reading: Reading | None, timeout_s: float) -> Phases3 | None:
    """What is compared of a meter: its signed currents while fresh (None: none)."""
    if reading is None or reading.age_s > timeout_s:
        return None
    return reading.signed_a()


def look_at(meters: Mapping[str, MeterSource], site_inputs: SiteInputs | None,
            timeout_s: float) -> Watched:
    """The latest each source holds, quietly (the cycle logs what fails)."""
    now: dict[str, Phases3 | None] = {}
    for node_id, source in meters.items():
        try:
            now[node_id] = seen(source.reading(), timeout_s)
        except ReadError:
            now[node_id] = None
    inputs = None
    if site_inputs is not None:
        inputs = (site_inputs.hard_inputs(), site_inputs.limits())
    return Watched(now, inputs)


class Sentinel:
    def __init__(self, look: Callable[[], Watched], ratings_a: Mapping[str, float | None]
                 ) -> None:
        self.look = look
        # A rise of at least this on any phase wakes the loop (per node).
        self.jump_a = {node: max(_MIN_JUMP_A, _JUMP_SHARE * (rating or 0.0))
                       for node, rating in ratings_a.items()}
        self.last: Watched | None = None

    def remember(self, watched: Watched | None = None) -> None:
        """After a cycle: what it saw."""
        self.last = watched if watched is not None else self.look()

    def changed(self) -> str | None:
        """Why the loop must run now (None: nothing new since the last cycle)."""
        if self.last is None:
            return None
        now = self.look()
        if now.inputs != self.last.inputs:
            return "inputs changed"
        for node, phases in now.meters.items():
            before = self.last.meters.get(node)
            if phases is None or before is None:
                if (phases is None) != (before is None):
                    return f"meter of {node} {'lost' if phases is None else 'back'}"
                continue
            jump = self.jump_a.get(node, _MIN_JUMP_A)
            rise = max(a - b for a, b in zip(phases, before, strict=True))
            if rise >= jump:
                return f"meter of {node} rose {rise:.1f} A"
        return None
