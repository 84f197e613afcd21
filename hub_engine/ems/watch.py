"""Spotting a charge point that ignores its limit (DESIGN "The EMS", fail-safes).

A connector measured above what it may draw plus ``tolerance_a``, on any phase, for
``after_s`` without a break, is flagged: from then on it counts at its real draw and
nothing is changed on it, until it has complied for as long again. ``after_s`` must
exceed the settle time plus a MeterValues interval, so a measurement taken before a
decrease reached the car is never held against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["LimitWatch"]


@dataclass
class LimitWatch:
    tolerance_a: float = 2.0
    after_s: float = 60.0
    flagged: set[str] = field(default_factory=set)
    _since: dict[str, float] = field(default_factory=dict)

    def check(self, cid: str, now_s: float, may_draw_a: float | None,
              measured_a: float | None) -> bool | None:
        """Return True when the connector is newly flagged, False when newly cleared."""
        over = (may_draw_a is not None and measured_a is not None
                and measured_a > may_draw_a + self.tolerance_a)
        was = cid in self.flagged
        if over == was:
            self._since.pop(cid, None)
            return None
        start = self._since.setdefault(cid, now_s)
        if now_s - start < self.after_s:
            return None
        self._since.pop(cid, None)
        if over:
            self.flagged.add(cid)
            return True
        self.flagged.discard(cid)
        return False

    def forget(self, cid: str) -> None:
        self.flagged.discard(cid)
        self._since.pop(cid, None)
