"""Who gets at least the minimum when not everyone can (DESIGN "The EMS", 4c).

Within a tier, sessions are taken in this order, each if its minimum still fits under
every node above it: first those that must stay on (on for less than ``min_on_s``, or
whose EV did not resume after a pause, or paused too often already), then the others by
least served first (time on in this session), earliest declared departure first; cars not
asking for power come last. Sessions off for less than ``min_off_s`` stay off. A session
never given power yet, or cut because its minimum does not fit even alone (the site is
short: a load step, charge points counted at their maximum after a reboot), waits: no
minimum off-time, no pause counted; it starts again as soon as there is room.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np

from hub_engine.ems.fill import Constraints, Floats, Ints
from hub_engine.ems.model import Params, Rotation, Session
from hub_engine.ems.prepare import Item

__all__ = ["Entries", "locked_off", "next_rotation", "select_minimum", "waiting"]

_EPS = 1e-9
# A row holding every minimum with this much to spare is never the one that refuses.
_TIGHT = 1e-6


class Entries:
    """Constraint rows of each item (item i: ``bounds[i]:bounds[i+1]`` of the triplets).

    Kept as arrays; the plain lists that per-item loops read are made on first use only
    (most cycles never ask: they are for reserved, rising and overloaded connectors).
    """

    def __init__(self, row: Ints, coef: Floats, bounds: Ints) -> None:
        self.row, self.coef, self.bounds = row, coef, bounds
        self.count = len(bounds) - 1

    @cached_property
    def _lists(self) -> tuple[list[int], list[float], list[int]]:
        return self.row.tolist(), self.coef.tolist(), self.bounds.tolist()

    def of(self, item: int) -> list[tuple[int, float]]:
        row, coef, bounds = self._lists
        a, b = bounds[item], bounds[item + 1]
        return list(zip(row[a:b], coef[a:b], strict=True))


_NEW = Rotation()  # the state of a session that has none yet


def locked_off(item: Item, params: Params, now_s: float) -> bool:
    """Paused less than ``min_off_s`` ago: stays off this cycle, whatever the room."""
    rot = item.rotation or _NEW
    return not rot.on and now_s - rot.since_s < params.min_off_s


def select_minimum(items: list[Item], entries: Entries, cons: Constraints, room: Floats,
                   params: Params, now_s: float, forced: set[int] | None = None) -> set[int]:
    """Return the indices given their minimum; ``room`` is reduced by what they take.

    Indices whose minimum does not fit even before anyone else's are added to ``forced``:
    they are cut by the site, not paused by the rotation (no minimum off-time).
    """
    ranked = []
    min_on, min_off, max_pauses = params.min_on_s, params.min_off_s, params.max_pauses_per_session
    for item in items:
        rot = item.rotation or _NEW
        since = now_s - rot.since_s
        if rot.on:
            group = 0 if (since < min_on or rot.no_pause or rot.pauses >= max_pauses) else 1
        elif since < min_off:
            continue  # must stay off
        else:
            group = 1
        if group == 1 and item.reason == "car not asking":
            group = 2
        s = item.conn.session
        deadline = s.departure_s if s is not None and s.departure_s is not None else np.inf
        ranked.append(((group, deadline, on_time(rot, s, now_s), item.conn.id), item))
    ranked.sort(key=lambda r: r[0])
    lo = np.zeros(entries.count)
    lo[[item.index for _, item in ranked]] = [item.lo for _, item in ranked]
    # Only a row that cannot hold every ranked minimum at once can refuse anyone: the
    # greedy walk below looks at those rows alone (on a big site, a few of the many).
    tight = cons.load(lo) > room - _TIGHT
    keep = tight[cons.row]
    t_item = cons.item[keep]
    rows, coefs = cons.row[keep].tolist(), cons.coef[keep].tolist()
    bounds = np.searchsorted(t_item, np.arange(len(lo) + 1)).tolist()
    free = room.tolist()  # plain floats: this loop is per connector and per row
    initial = list(free)
    chosen: set[int] = set()
    for _, item in ranked:
        span = range(bounds[item.index], bounds[item.index + 1])
        need = item.lo
        for j in span:
            if free[rows[j]] - coefs[j] * need < -_EPS:
                if forced is not None and any(initial[rows[k]] - coefs[k] * need < -_EPS
                                              for k in span):
                    forced.add(item.index)
                break
        else:
            for j in span:
                free[rows[j]] -= coefs[j] * need
            chosen.add(item.index)
    taken = np.zeros(len(lo))
    taken[list(chosen)] = lo[list(chosen)]
    room -= cons.load(taken)
    return chosen


def on_time(rot: Rotation, session: Session | None, now_s: float) -> float:
    """Time on so far in this session, the current on-period included."""
    if not rot.on:
        return rot.on_time_s
    start = max(rot.since_s, session.started_s if session is not None else rot.since_s)
    return rot.on_time_s + max(0.0, now_s - start)


def next_rotation(item: Item, on: bool, params: Params, now_s: float) -> Rotation:
    rot = item.rotation or _NEW
    if on == rot.on:
        return rot
    return Rotation(
        on=on,
        since_s=now_s,
        on_time_s=on_time(rot, item.conn.session, now_s),
        pauses=rot.pauses + (0 if on else 1),
        no_pause=rot.no_pause,
        probe_started_s=rot.probe_started_s,
    )


def waiting(rot: Rotation | None, session: Session | None, now_s: float) -> Rotation:
    """Cut by the site, not by the rotation: off, with no minimum off-time to serve."""
    rot = rot or _NEW
    return Rotation(on=False, since_s=_NEW.since_s, on_time_s=on_time(rot, session, now_s),
                    pauses=rot.pauses, no_pause=rot.no_pause,
                    probe_started_s=rot.probe_started_s)
