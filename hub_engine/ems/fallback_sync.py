"""Keeping each charge point's fallback profile in step with the plugged-in set.

The fallbacks are recomputed (:func:`hub_engine.ems.fallback.fallback_limits`) whenever
the set of plugged-in connectors changes, and sent in two waves: the decreases, then —
only once every decrease was accepted — the increases, so that a hub dying half-way
never leaves fallbacks that add up to more than the site can take. A wave that fails is
retried on a later cycle.

The grid signal may push **dips** ahead (:meth:`FallbackKeeper.set_dips`: the EDF-SEI
unfavourable runs of the next day): every fallback is then sent again with them, in the
first wave (they only lower it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Literal

from hub_engine.ems.apply import UNSURE
from hub_engine.ems.fallback import fallback_limits
from hub_engine.ems.interfaces import ConnectorPort, ConnectorState, Dip
from hub_engine.ems.model import Snapshot

__all__ = ["FallbackKeeper", "is_plugged"]

log = logging.getLogger(__name__)
# Reserved: its car is coming; the fallback budget keeps it a share (docs/maintenance.md).
_PLUGGED = frozenset({"Preparing", "Charging", "SuspendedEV", "SuspendedEVSE", "Finishing",
                      "Reserved"})


def is_plugged(state: ConnectorState | None) -> bool:
    return state is not None and (state.transaction_id is not None or state.status in _PLUGGED)


class FallbackKeeper:
    def __init__(self) -> None:
        self.plugged: frozenset[str] | None = None
        self.sent: dict[str, float] = {}  # accepted fallback per connector
        self.wanted: dict[str, float] = {}
        self.units: dict[str, Literal["A", "W"]] = {}
        self.dips: tuple[Dip, ...] = ()
        self.dipped: frozenset[str] | None = None  # the connectors they apply to (None: all)
        self.sent_dips: dict[str, tuple[Dip, ...]] = {}
        self._task: asyncio.Task[None] | None = None

    def set_dips(self, dips: tuple[Dip, ...], only: frozenset[str] | None = None) -> None:
        """The windows ahead in which the fallbacks (of ``only``'s connectors, None: all)
        are lowered; sent at the next cycle."""
        self.dips, self.dipped = dips, only

    def _dips(self, cid: str) -> tuple[Dip, ...]:
        return self.dips if self.dipped is None or cid in self.dipped else ()

    def _stale(self, cid: str, value: float) -> bool:
        return self.sent.get(cid) != value or self.sent_dips.get(cid, ()) != self._dips(cid)

    def update(self, snapshot: Snapshot, plugged: frozenset[str],
               ports: Mapping[str, ConnectorPort]) -> None:
        """Recompute on a change of the plugged set; start a sync if one is needed."""
        if plugged != self.plugged:
            self.plugged = plugged
            self.units = {c.id: "W" if c.control == "W" or c.dc else "A"
                          for c in snapshot.connectors}
            self.wanted = {cid: (lw if self.units[cid] == "W" and lw is not None else la)
                           for cid, (la, lw) in fallback_limits(snapshot, plugged).items()}
        busy = self._task is not None and not self._task.done()
        if not busy and any(self._stale(cid, v) for cid, v in self.wanted.items()):
            dips = {cid: self._dips(cid) for cid in self.wanted}
            self._task = asyncio.create_task(self._sync(dict(self.wanted), dips, ports))

    async def _wave(self, items: dict[str, float], dips: Mapping[str, tuple[Dip, ...]],
                    ports: Mapping[str, ConnectorPort]) -> bool:
        cids = [cid for cid in items if cid in ports]

        async def one(cid: str) -> bool:
            try:
                outcome = await ports[cid].set_fallback(items[cid], self.units.get(cid, "A"),
                                                        dips.get(cid, ()))
            except Exception as exc:  # a port bug must not stop the EMS
                log.error("%s: sending the fallback failed: %s", cid, exc)
                return False
            # An offline one is given it at its next boot, before it is accepted.
            if outcome in ("accepted", "offline"):
                self.sent[cid] = items[cid]
                self.sent_dips[cid] = dips.get(cid, ())
                return True
            if outcome in UNSURE:  # maybe applied: the higher one may be in force
                self.sent[cid] = max(self.sent.get(cid, items[cid]), items[cid])
            log.warning("%s: fallback %.1f not applied (%s)", cid, items[cid], outcome)
            return False

        results = await asyncio.gather(*(one(cid) for cid in cids))
        return all(results)

    async def _sync(self, wanted: dict[str, float], dips: Mapping[str, tuple[Dip, ...]],
                    ports: Mapping[str, ConnectorPort]) -> None:
        todo = {cid: v for cid, v in wanted.items() if self._stale(cid, v)}
        # New dips at the same limit only lower it: they go with the decreases.
        down = {cid: v for cid, v in todo.items() if v <= self.sent.get(cid, float("inf"))}
        up = {cid: v for cid, v in todo.items() if cid not in down}
        if await self._wave(down, dips, ports) and up:
            await self._wave(up, dips, ports)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
