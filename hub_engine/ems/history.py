"""The non-charging load estimates each node keeps for its conservative maximum.

A node's non-charging load is its meter minus what its cars are measured to draw (DESIGN
"The EMS", 2). A car's reading may be up to ``measurement_timeout_s`` old: when the car
draws less than it last reported (ramping down, or stopped by a power cut while its
charge point is offline), the estimate drops by the difference and the building looks
lighter than it is. The allocation therefore uses the largest estimate of a window that
reaches back to ``non_ev_window_s`` *and* to the oldest reading still subtracted, so
the estimate made while that reading was fresh is always in it. The window is counted in
time: cycles also run at once on triggers, and a window of N cycles shrank to a second
under a burst of them (40 charge points reconnecting after a blackout: 398 A on a 300 A
site).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping

from hub_engine.clock import Clock
from hub_engine.ems.model import Connector, Phases3

__all__ = ["NonEvHistory"]

_NOTHING_A = 1.0


class NonEvHistory:
    def __init__(self, clock: Clock, window_s: float, cycle_s: float, timeout_s: float,
                 parents: Mapping[str, str | None]) -> None:
        self.clock = clock
        self.window_s = window_s
        self.cycle_s = cycle_s
        self.timeout_s = timeout_s  # a car's reading older than this is not subtracted
        self.parents = parents
        self.seen: dict[str, deque[tuple[float, Phases3]]] = {}

    def oldest_readings(self, connectors: Iterable[Connector]) -> dict[str, float]:
        """Per node: when the oldest car reading subtracted under it was taken (one near
        0 A subtracts nothing: it cannot make the building look lighter)."""
        now = self.clock.monotonic()
        out: dict[str, float] = {}
        for conn in connectors:
            s = conn.session
            if s is None or s.measured_a is None or max(s.measured_a) < _NOTHING_A or (
                    s.measured_age_s or 0.0) > self.timeout_s:
                continue
            taken = now - (s.measured_age_s or 0.0)
            node: str | None = conn.node
            while node is not None:
                out[node] = min(out.get(node, taken), taken)
                node = self.parents.get(node)
        return out

    def window(self, node_id: str, oldest_reading: float | None = None
               ) -> tuple[Phases3, ...]:
        """The estimates since ``non_ev_window_s`` ago or the oldest reading, if older."""
        seen = self.seen.get(node_id)
        if not seen:
            return ()
        now = self.clock.monotonic()
        start = now - max(self.window_s, self.timeout_s)  # never kept longer
        while seen and seen[0][0] < start:
            seen.popleft()
        since = now - self.window_s
        if oldest_reading is not None:
            since = min(since, oldest_reading - self.cycle_s)  # the cycle that read it
        return tuple(v for t, v in seen if t >= since)

    def remember(self, node_id: str, est: Phases3) -> None:
        seen = self.seen.setdefault(node_id, deque())
        now = self.clock.monotonic()
        if seen and now - seen[-1][0] < self.cycle_s / 4:
            # A burst of triggered cycles: one entry, the worst of them (bounded memory).
            t, old = seen[-1]
            seen[-1] = (t, (max(old[0], est[0]), max(old[1], est[1]), max(old[2], est[2])))
        else:
            seen.append((now, est))
