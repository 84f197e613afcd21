"""Who gets at least the minimum when not everyone can (DESIGN "The EMS", 4c).

Within a tier, sessions are taken in this order, each if its minimum still fits under
every node above it: first those that must stay on (on for less than ``min_on_s``, or
whose EV did not resume after a pause, or paused too often already), then the others by
least served first (time on in this session), earliest declared departure first; cars not
asking for power come last. Sessions off for less than ``min_off_s`` stay off.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from hub_engine.ems.fill import Floats
from hub_engine.ems.model import Params, Rotation
from hub_engine.ems.prepare import Item

__all__ = ["next_rotation", "select_minimum"]

_EPS = 1e-9


def _group(item: Item, params: Params, now_s: float) -> int:
    rot = item.rotation or Rotation()
    locked_on = rot.on and (now_s - rot.since_s < params.min_on_s or rot.no_pause
                            or rot.pauses >= params.max_pauses_per_session)
    if locked_on:
        return 0
    if not rot.on and now_s - rot.since_s < params.min_off_s:
        return 3  # must stay off
    return 2 if item.reason == "car not asking" else 1


def select_minimum(items: list[Item], entries: dict[int, list[tuple[int, float]]],
                   room: Floats, params: Params, now_s: float) -> set[int]:
    """Return the indices given their minimum; ``room`` is reduced by what they take."""
    ranked = []
    for item in items:
        group = _group(item, params, now_s)
        if group == 3:
            continue
        s = item.conn.session
        rot = item.rotation or Rotation()
        deadline = s.departure_s if s is not None and s.departure_s is not None else np.inf
        ranked.append(((group, deadline, rot.on_time_s, item.conn.id), item))
    ranked.sort(key=lambda r: r[0])
    chosen: set[int] = set()
    for _, item in ranked:
        rows = entries[item.index]
        if all(room[row] - coef * item.lo >= -_EPS for row, coef in rows):
            for row, coef in rows:
                room[row] -= coef * item.lo
            chosen.add(item.index)
    return chosen


def next_rotation(item: Item, on: bool, params: Params, now_s: float) -> Rotation:
    rot = item.rotation or Rotation()
    on_time = rot.on_time_s
    if rot.on and rot.updated_s is not None:
        on_time += max(0.0, now_s - rot.updated_s)
    if on == rot.on:
        return dataclasses.replace(rot, on_time_s=on_time, updated_s=now_s)
    pauses = rot.pauses + (1 if rot.on and not on else 0)
    return dataclasses.replace(rot, on=on, since_s=now_s, on_time_s=on_time, updated_s=now_s,
                               pauses=pauses)
