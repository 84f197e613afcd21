"""Solar charging of a site (``sites[].solar``) and its per-charge-point override.

``surplus``: a car charges only on what the site exports, started once the export covers
its minimum for ``start_delay_s`` and stopped once it has drawn more than
``stop_import_w`` from the grid for ``stop_delay_s`` (so a passing cloud or a kettle
does not flap it). ``min_solar``: the car always gets its minimum (from the grid if it
must) and the export on top. ``off``: the standard EMS, grid power as the limits allow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["SOLAR_MODES", "SolarConfig", "SolarMode"]

SolarMode = Literal["off", "surplus", "min_solar"]
SOLAR_MODES: tuple[SolarMode, ...] = ("off", "surplus", "min_solar")


@dataclass(frozen=True)
class SolarConfig:
    mode: SolarMode = "off"
    # How often the solar shares are recomputed: charge points take 1-30 s to apply a
    # limit and cars some more, so a share recomputed every second would chase its tail.
    interval_s: float = 30.0
    start_delay_s: float = 60.0
    stop_delay_s: float = 300.0
    start_margin_w: float = 0.0  # export needed above the car's minimum power to start
    stop_import_w: float = 300.0  # grid import tolerated at the minimums before stopping
    # A car that can switch phases stays at least this long on one phase count: a switch
    # pauses the charge (contactors, the car's own restart), some cars badly.
    phase_switch_hold_s: float = 300.0

    def __post_init__(self) -> None:
        if self.interval_s <= 0:
            raise FieldError("interval_s", Text("must be > 0"))
        for name in ("start_delay_s", "stop_delay_s", "start_margin_w", "stop_import_w",
                     "phase_switch_hold_s"):
            if getattr(self, name) < 0:
                raise FieldError(name, Text("must be ≥ 0"))
