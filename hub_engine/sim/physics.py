"""The electrical side of a simulated site: breakers, building load, PV.

A breaker trips on its thermal curve (IEC 60898-like: never at 1.13 × In, within the hour
at 1.45 × In, within minutes at 2 × In) or at once above its magnetic threshold, so a
test can assert "no trip" and a wrong EMS visibly trips one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Breaker", "building_load_a", "pv_power_w"]


@dataclass
class Breaker:
    rating_a: float
    tau_s: float = 1200.0  # thermal time constant
    trip_level: float = 1.69  # thermal state (in (I/In)²) at which it trips: 1.3²
    magnetic_x: float = 10.0  # C curve: instant trip between 5 and 10 × In
    heat: list[float] = field(default_factory=lambda: [0.0, 0.0, 0.0])
    tripped_at_s: float | None = None

    def step(self, dt_s: float, current_a: tuple[float, float, float], t_s: float) -> bool:
        """Advance by ``dt_s`` with these phase currents; return True if it trips now."""
        if self.tripped_at_s is not None:
            return False
        for p in range(3):
            load = (abs(current_a[p]) / self.rating_a) ** 2
            if abs(current_a[p]) >= self.magnetic_x * self.rating_a:
                self.tripped_at_s = t_s
                return True
            # First-order heating towards (I/In)², exact for any step length.
            self.heat[p] = load + (self.heat[p] - load) * math.exp(-dt_s / self.tau_s)
            if self.heat[p] >= self.trip_level:
                self.tripped_at_s = t_s
                return True
        return False


def building_load_a(profile: str, t: datetime, base_a: float, peak_a: float,
                    imbalance: tuple[float, float, float] = (1.1, 1.0, 0.95)
                    ) -> tuple[float, float, float]:
    """Per-phase current of the building (not charging) at local time ``t``."""
    hour = t.hour + t.minute / 60
    weekday = t.weekday() < 5
    if profile == "office":
        level = 0.0
        if weekday and 8 <= hour < 19:
            level = 1.0
        elif weekday and (7 <= hour < 8 or 19 <= hour < 20):
            level = 0.5
        # HVAC peaks late morning and mid-afternoon.
        level *= 0.8 + 0.2 * math.sin(math.pi * (hour - 8) / 5.5) ** 2
    elif profile == "residential":
        level = 0.3 + 0.7 * math.exp(-((hour - 19.5) ** 2) / 4) + 0.3 * math.exp(
            -((hour - 7.5) ** 2) / 2)
        level = min(level, 1.0)
    else:
        raise ValueError(f"unknown load profile {profile!r}")
    amps = base_a + (peak_a - base_a) * level
    return (amps * imbalance[0], amps * imbalance[1], amps * imbalance[2])


def pv_power_w(kwp: float, t: datetime) -> float:
    """Clear-sky production of ``kwp`` at local time ``t`` (bell between 6 h and 20 h,
    about 0.7 × kWp at noon in June, half of that in December)."""
    hour = t.hour + t.minute / 60
    if not 6 <= hour <= 20:
        return 0.0
    season = 0.5 + 0.5 * math.cos(2 * math.pi * (t.timetuple().tm_yday - 172) / 365)
    shape = math.sin(math.pi * (hour - 6) / 14) ** 2
    return kwp * 1000 * 0.7 * (0.5 + 0.5 * season) * shape
