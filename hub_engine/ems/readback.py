"""Reading back the limit in force (``Current.Offered``) against what the hub counts.

A charge point that reports ``Current.Offered`` (``Power.Offered`` for one managed in W)
says which limit its electronics apply. Two field cases make that worth reading:

* **It offers more than the hub counts.** Firmware that accepts a profile and keeps the
  old limit (a TxDefaultProfile ignored during a transaction, a profile silently lost)
  is otherwise found out only once the car draws more than allowed for
  ``ignore_after_s`` (a minute), and a paused car that does not draw is never found out
  until it wakes. A reading is judged against what the connector may have drawn when it
  was taken (that already counts the old limit until a new one has settled), over the
  ``lag_s`` a reading may take to arrive: above it, the connector counts at the value
  read back, keeps the last limit sent (refreshed, never raised) and is reserved (not
  counted on to follow a decrease), until a reading shows it within its limit again.
* **An increase was not answered.** It counts at the higher of old and new until a
  lower one is confirmed (:mod:`hub_engine.ems.apply`); a reading taken ``settle_s``
  after the outcome tells which is in force (:meth:`Applier.read_back_unsure`).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

__all__ = ["ReadBack"]

_KEEP_S = 300.0  # readings arrive every MeterValueSampleInterval: 10 to 60 s late


@dataclass
class ReadBack:
    lag_s: float = 2.0
    tolerance: dict[str, float] = field(default_factory=lambda: {"A": 1.0, "W": 500.0})
    # Per connector: (since when, what it may draw) each time that changed; None is its
    # hardware maximum.
    _seen: dict[str, deque[tuple[float, float | None]]] = field(default_factory=dict)

    def note(self, cid: str, now_s: float, may_draw: float | None) -> None:
        seen = self._seen.setdefault(cid, deque())
        if not seen or seen[-1][1] != may_draw:
            seen.append((now_s, may_draw))
        # Keep the entry in force at the start of the window, drop those before it.
        while len(seen) > 1 and seen[1][0] <= now_s - _KEEP_S:
            seen.popleft()

    def judge(self, cid: str, now_s: float, unit: str, offered: float | None,
              age_s: float | None) -> bool | None:
        """True: the reading shows more than the connector may have drawn when it was
        taken; False: it does not; None: cannot tell (no reading, no history that far
        back, or the connector counts at its maximum)."""
        seen = self._seen.get(cid)
        if offered is None or age_s is None or not seen:
            return None
        taken = now_s - age_s
        since = taken - self.lag_s
        if seen[0][0] > since:
            return None  # the limit in force then is not known
        allowed = [may for t, may in seen if since < t <= taken]
        allowed.append(max((e for e in seen if e[0] <= since), key=lambda e: e[0])[1])
        if any(a is None for a in allowed):
            return False
        return offered > max(a for a in allowed if a is not None) + self.tolerance[unit]

    def forget(self, cid: str) -> None:
        self._seen.pop(cid, None)
