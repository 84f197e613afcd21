"""The EDF-SEI signal (ZNI) applied by the EMS, with the portal down or not.

Every ``signals.zni.poll_s`` the day-ahead slots are fetched (in a thread) and kept in
``core.db``, so a restart without the internet still knows them. At each slot boundary
the slot in force decides: unfavourable (0), every connector of the site gets an external
limit of ``unfavourable_share`` × its rated current, source ``signal:zni``, until the end
of the unfavourable run it is in (the limit holds even if this service stops); favourable
(1), those limits are lifted. No slot known for now: ``signals.zni.unknown`` applies (by
default the unfavourable case) and the ``signal_unknown`` alert is raised until slots are
known again. Quotas (429) are respected: no call before the portal's reset.

The unfavourable runs ahead are also pushed into every connector's fallback profile
(:func:`dips_ahead`, DESIGN "The EMS" profile layout): a hub that dies still leaves the
charge points following the signal, and past the last slot known, at the unknown case.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.config import HubConfig
from hub_engine.config.signals import ZniConfig
from hub_engine.ems.external import LimitRequest
from hub_engine.ems.interfaces import Dip
from hub_engine.errors import StoreError
from hub_engine.signals.common import load_setting, save_setting
from hub_engine.signals.evidence import SIGNAL_SOURCE
from hub_engine.signals.polling import Polling
from hub_engine.signals.zni import SLOT, RateLimited, SignalError, Slot, fetch
from hub_engine.store import Store
from hub_engine.store.samples import Sample, samples

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["SOURCE", "SignalService", "dips_ahead"]

log = logging.getLogger(__name__)
SOURCE = "signal:zni"
KEEP = timedelta(days=3)
Alert = Callable[[str, str, dict[str, object]], None]


_EVER = datetime(2020, 1, 1, tzinfo=UTC)


def dips_ahead(slots: dict[datetime, int], now: datetime, unknown_unfavourable: bool,
               share: float) -> tuple[Dip, ...]:
    """The unfavourable runs not over yet, each from its real start (so that the fallbacks
    are sent again only when the slots change), and past the last slot known the unknown
    case: from then on for good if it is the unfavourable one. A gap in the slots is
    unknown too."""
    if not slots:
        return (Dip(_EVER, None, share),) if unknown_unfavourable else ()
    t, horizon = min(slots), max(slots) + SLOT
    dips: list[Dip] = []
    start: datetime | None = None
    while t < horizon:
        signal = slots.get(t)
        low = signal == 0 or (signal is None and unknown_unfavourable)
        if low and start is None:
            start = t
        elif not low and start is not None:
            dips.append(Dip(start, t, share))
            start = None
        t += SLOT
    if unknown_unfavourable:
        dips.append(Dip(start or horizon, None, share))
    elif start is not None:
        dips.append(Dip(start, horizon, share))
    return tuple(d for d in dips if d.end is None or d.end > now)


class SignalService(Polling):
    name = "signals"

    def __init__(self, config: HubConfig, store: Store, clock: Clock,
                 fetcher: Callable[[ZniConfig], list[Slot]] = fetch) -> None:
        super().__init__()
        self.config, self.store, self.clock = config, store, clock
        self.fetcher = fetcher
        self.ems: EmsLoop | None = None
        self.alert: Alert | None = None
        self.slots: dict[datetime, int] = {}
        self.state: dict[str, Any] = {"signal": None, "known": False, "error": None,
                                      "fetched_at": None, "until": None}
        self._recorded: tuple[datetime, int, bool] | None = None

    @property
    def zni(self) -> ZniConfig | None:
        return self.config.signals.zni

    @property
    def poll_s(self) -> float:
        assert self.zni is not None
        return self.zni.poll_s

    async def start(self) -> None:
        if self.zni is None:
            return
        for start, signal in load_setting(self.store, "signals.zni.slots") or []:
            when = parse_iso(start)
            if when is not None:
                self.slots[when] = int(signal)
        self.apply()  # at once: a restart in an unfavourable slot stays limited
        self.start_polling()

    def tick_s(self) -> float:
        """Wake at the next slot boundary (or fetch), whichever comes first."""
        wall = self.clock.now()
        boundary = SLOT.total_seconds() - (wall.timestamp() % SLOT.total_seconds())
        return max(0.5, min(boundary + 0.5, self.next_fetch_in_s()))

    async def poll(self) -> None:
        """Fetch the slots once; on failure keep what is known, say why."""
        assert self.zni is not None
        try:
            got = await asyncio.to_thread(self.fetcher, self.zni)
        except RateLimited as exc:
            self.wait_quota(exc.retry_after_s)
            self.state["error"] = str(exc)
            log.warning("EDF-SEI signal: %s", exc)
            return
        except SignalError as exc:
            self.state["error"] = str(exc)
            log.warning("EDF-SEI signal not fetched: %s", exc)
            return
        now = self.clock.now()
        self.slots.update({s.start: s.signal for s in got})
        self.slots = {t: v for t, v in self.slots.items() if t > now - KEEP}
        self.state.update(error=None, fetched_at=iso_utc(now))
        await save_setting(self.store, "signals.zni.slots",
                           [[iso_utc(t), v] for t, v in sorted(self.slots.items())])

    def current(self, now: datetime) -> tuple[int | None, datetime | None]:
        """The signal in force and when its run ends (None, None: no slot for now)."""
        start = next((t for t in self.slots if t <= now < t + SLOT), None)
        if start is None:
            return None, None
        signal, end = self.slots[start], start + SLOT
        while self.slots.get(end) == signal:
            end += SLOT
        return signal, end

    def apply(self) -> None:
        """Put the slot in force into the EMS's external limits."""
        cfg, ems = self.zni, self.ems
        if cfg is None or ems is None:
            return
        now = self.clock.now()
        signal, until = self.current(now)
        known = signal is not None
        if signal is None:
            signal = 0 if cfg.unknown == "unfavourable" else 1
            until = now + SLOT  # renewed at each boundary while unknown
        if known != self.state["known"] and self.alert is not None:
            self.alert("signal_known" if known else "signal_unknown", "zni",
                       {"assumed": "unfavourable" if signal == 0 else "favourable"})
        self.state.update(signal=signal, known=known, until=iso_utc(until) if until else None)
        self._record(now, signal, known)
        ems.fallbacks.set_dips(
            dips_ahead(self.slots, now, cfg.unknown == "unfavourable", cfg.unfavourable_share),
            frozenset(f"{cp.id}/{k}" for site in self.config.sites
                      if site.signals.follows("zni") for cp in site.charge_points()
                      for k in range(1, cp.connectors + 1)))
        changed = False
        for target, limit_a, limit_w in self._targets(cfg):
            if signal == 0 and until is not None:
                held = next((lim for lim in ems.external.in_force()
                             if lim.target == target and lim.source == SOURCE), None)
                left = (until - now).total_seconds()
                if held is None or (held.limit_a, held.limit_w) != (limit_a, limit_w) or abs(
                        held.expires_s - self.clock.monotonic() - left) > 1:
                    ems.external.set(LimitRequest(target=target, source=SOURCE,
                                                  expires_at=until, limit_a=limit_a,
                                                  limit_w=limit_w))
                    changed = True
            else:
                changed |= ems.external.clear(target, SOURCE)
        if changed:
            log.info("EDF-SEI signal %s%s: %s", signal, "" if known else " (assumed)",
                     f"connectors at {cfg.unfavourable_share:g} × their rating until {until}"
                     if signal == 0 else "limits lifted")
            ems.wake()

    def _targets(self, cfg: ZniConfig) -> list[tuple[str, float | None, float | None]]:
        """What an unfavourable slot limits: (target, A, W). Every connector at its share
        of its rating; with ``unfavourable_site_share``, each site's grid connection too
        (its current and power ratings), so that fewer cars charge at once."""
        sites = [s for s in self.config.sites if s.signals.follows("zni")]
        out: list[tuple[str, float | None, float | None]] = [
            (f"{cp.id}/{k}", round(cp.max_current_a * cfg.unfavourable_share, 1), None)
            for site in sites for cp in site.charge_points()
            for k in range(1, cp.connectors + 1)]
        share = cfg.unfavourable_site_share
        if share is not None:
            for site in sites:
                g = site.grid
                watts = min(g.limit_va or math.inf, g.limit_w or math.inf)
                out.append((g.id, None if g.limit_a is None else round(g.limit_a * share, 1),
                            None if math.isinf(watts) else round(watts * share, 1)))
        return out

    def _record(self, now: datetime, signal: int, known: bool) -> None:
        """The slot in force, once per slot, in samples.db: the Advenir evidence's column
        (signals/evidence.py); ``assumed`` when no slot was known."""
        step = SLOT.total_seconds()
        start = datetime.fromtimestamp(now.timestamp() // step * step, UTC)
        if self.store is None or self._recorded == (start, signal, known):
            return
        self._recorded = (start, signal, known)
        sample = Sample(start, "Signal", "" if known else "assumed", "", float(signal), "zni")
        try:
            self.store.samples.submit(samples(SIGNAL_SOURCE, [sample]))
        except StoreError as exc:  # stopping
            log.debug("ZNI signal not recorded: %s", exc)

    def describe(self) -> dict[str, Any]:
        now = self.clock.now()
        ahead = [{"start": iso_utc(t), "signal": v} for t, v in sorted(self.slots.items())
                 if t + SLOT > now]
        return {"configured": self.zni is not None, **self.state, "slots": ahead[:144]}
