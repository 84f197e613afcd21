"""Electric vehicles as a charge point sees them: what they draw for a pilot current.

An EV follows its pilot signal with a ramp of about 5 s (IEC 61851-1 gives it 5 s to
reduce), draws nothing below the 6 A minimum (a pause), tapers near full, stops when
full or when its owner's energy is delivered, and is 1-, 2- or 3-phase. Some cars never
resume after a pause at 0 A (``resumes_after_pause=False``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EV", "EvState"]

MIN_CURRENT_A = 6.0
VOLTAGE_V = 230.0


@dataclass
class EvState:
    soc: float  # 0..1
    current_a: float = 0.0  # drawn on each of its phases
    energy_wh: float = 0.0  # delivered this session
    paused_s: float = 0.0  # how long the pilot has been under the minimum
    paused_while_charging: bool = False
    given_up: bool = False  # did not resume after a pause (quirk)


@dataclass
class EV:
    battery_wh: float = 60_000.0
    soc: float = 0.3
    max_current_a: float = 32.0
    phases: int = 3
    ramp_s: float = 5.0  # time to swing from 0 to max_current_a
    taper_from_soc: float = 0.8
    energy_wanted_wh: float | None = None
    resumes_after_pause: bool = True
    pause_before_giving_up_s: float = 60.0

    def __post_init__(self) -> None:
        if self.phases not in (1, 2, 3):
            raise ValueError("an EV has 1, 2 or 3 phases")
        self.state = EvState(self.soc)

    @property
    def full(self) -> bool:
        s = self.state
        return s.soc >= 0.999 or (self.energy_wanted_wh is not None
                                  and s.energy_wh >= self.energy_wanted_wh)

    def wanted_a(self) -> float:
        """What the car would take with no limit (taper near full)."""
        if self.full or self.state.given_up:
            return 0.0
        soc = self.state.soc
        if soc <= self.taper_from_soc:
            return self.max_current_a
        # Linear taper to 10 % of the maximum at 100 %.
        fraction = 1.0 - 0.9 * (soc - self.taper_from_soc) / (1.0 - self.taper_from_soc)
        return max(MIN_CURRENT_A, self.max_current_a * fraction)

    def step(self, dt_s: float, pilot_a: float, phases: int | None = None) -> float:
        """Advance ``dt_s`` under a pilot current, on ``phases`` of its own (None: all);
        return the current drawn per phase."""
        s = self.state
        if pilot_a < MIN_CURRENT_A:
            if s.paused_s == 0.0:
                s.paused_while_charging = s.current_a > 0
            s.paused_s += dt_s
            if (not self.resumes_after_pause and s.paused_while_charging
                    and s.paused_s >= self.pause_before_giving_up_s):
                s.given_up = True  # the car went to sleep and will not wake up
            target = 0.0
        else:
            s.paused_s = 0.0
            target = min(pilot_a, self.wanted_a())
        rate = self.max_current_a / self.ramp_s
        if s.current_a < target:
            s.current_a = min(target, s.current_a + rate * dt_s)
        else:
            s.current_a = max(target, s.current_a - rate * dt_s)
        power_w = s.current_a * VOLTAGE_V * min(self.phases, phases or self.phases)
        delivered = power_w * dt_s / 3600.0
        s.energy_wh += delivered
        s.soc = min(1.0, s.soc + delivered / self.battery_wh)
        return s.current_a
