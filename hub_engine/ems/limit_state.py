"""What the :class:`~hub_engine.ems.apply.Applier` keeps per connector (its limit state)
and how it paces increases."""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = ["UNSURE", "LimitState", "Pace"]


@dataclass
class LimitState:
    confirmed: float | None = None  # known applied (A or W); None: unknown = its maximum
    accepted: float | None = None  # answered Accepted, settling
    accepted_at: float = 0.0
    sent_value: float | None = None  # last value sent successfully
    sent_at: float = -math.inf
    raised_at: float = -math.inf  # when an increase last went out (the car may ramp from then)
    paced_at: float = -math.inf  # when an increase last went out past the pace
    # Until when the last dynamic limit that may be applied stays valid on the charge
    # point (monotonic); past it, the fallback takes over there.
    valid_until: float = math.inf
    # Read back (Current.Offered) above every limit it had: it counts at least at this.
    floor: float | None = None
    # After an unsure increase: what was in force for sure before, and when it ended.
    sure: float | None = None
    unsure_at: float = -math.inf
    # The phases of the last limit accepted (numberPhases; None: not said or not known)
    # and when they last changed.
    phases: int | None = None
    phases_at: float = -math.inf


@dataclass(frozen=True)
class Pace:
    step_a: float = 0.0  # an increase smaller than this (× 230 for W) waits 5 intervals
    interval_s: float = 0.0  # at most one increase per connector per interval

    def holds(self, value: float, last: float, unit: str, since_s: float,
              still_rising_a: float = 0.0) -> bool:
        """Whether an increase from ``last`` waits: any within the interval; a small one
        for five intervals, unless the connector is still rising towards its target
        (``still_rising_a`` beyond this step, in A)."""
        if since_s < self.interval_s:
            return True
        step = self.step_a * 230.0 if unit == "W" else self.step_a
        small = 0 < value - last < step - 1e-9 and still_rising_a < self.step_a
        return small and since_s < 5 * self.interval_s


# Outcomes after which the charge point may or may not apply the limit sent.
UNSURE = frozenset({"timed_out", "lost", "error"})
