"""A C4 site's subscribed power per TURPE period (``sites[].subscription``), held as a
10-minute average (docs/configuration.md, docs/ems.md "Subscribed power")."""

from __future__ import annotations

from dataclasses import dataclass

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["SubscriptionConfig", "SubscriptionPeriod"]


@dataclass(frozen=True)
class SubscriptionPeriod:
    """One TURPE period (HPH, HCH, HPB, HCB, Pointe…): its subscribed power, when it
    applies (local ``windows`` as for off-peak hours, and ``months``; empty: always)."""

    name: str
    power_va: float
    windows: str = ""  # "Mon-Fri 07:00-23:00" (or "lun-ven 7h-23h"); empty: every hour
    months: tuple[int, ...] = ()  # 1-12; empty: every month

    def __post_init__(self) -> None:
        from hub_engine.access.csvio import parse_windows

        if self.power_va <= 0:
            raise FieldError("power_va", Text("must be > 0"))
        if any(not 1 <= m <= 12 for m in self.months):
            raise FieldError("months", Text("expected months from 1 to 12"))
        try:
            parse_windows(self.windows)
        except ValueError as exc:
            raise FieldError("windows", str(exc)) from None


@dataclass(frozen=True)
class SubscriptionConfig:
    """The periods in order, the first that applies wins; the last must apply always.
    The grid meter's import (VA, its currents × the voltage) is averaged over
    ``average_s`` windows aligned on the clock (Enedis: 10 minutes for C4), each kept at
    most at the period's power; within a window the import may go above it, to
    ``burst_share`` × the power at most, as long as the average stays under."""

    periods: tuple[SubscriptionPeriod, ...]
    average_s: float = 600.0
    burst_share: float = 1.5
    margin_share: float = 0.02  # kept below the power: the meter's and the cycle's error

    def __post_init__(self) -> None:
        if not self.periods:
            raise FieldError("periods", Text("expected at least one period"))
        last = self.periods[-1]
        if last.windows or last.months:
            raise FieldError("periods", Text("the last period applies the rest of the time: "
                                             "no windows or months on it"))
        if self.average_s <= 0:
            raise FieldError("average_s", Text("must be > 0"))
        if not 1 <= self.burst_share <= 3:
            raise FieldError("burst_share", Text("expected 1 to 3"))
        if not 0 <= self.margin_share < 0.5:
            raise FieldError("margin_share", Text("expected 0 to 0.5"))
