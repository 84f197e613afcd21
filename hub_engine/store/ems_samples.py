"""The EMS cycle record sampled into ``samples.db`` (DESIGN "The EMS", step 6).

Every ``interval_s`` (default 10 s), per node of the tree: the meter's current
(``Current.Import``), the non-charging load used (``Current.NonEV``), the charging load
counted (``Current.Charging``) and the capacity left for charging (``Current.Capacity``),
per phase in A, under source ``ems/<node id>``; per connector, the limit offered
(``Current.Limit`` in A, ``Power.Limit`` in W) under its own source ``<cp>/<n>``,
beside its MeterValues (whose ``Current.Offered``, when it sends it, is the limit in
force read back). Writes are submitted, never awaited: the EMS cycle does not wait
for the disk.
"""

from __future__ import annotations

import logging
from typing import Any

from hub_engine.clock import Clock, parse_iso
from hub_engine.errors import StoreError
from hub_engine.store.samples import Sample, samples
from hub_engine.store.store import Store

__all__ = ["EmsRecorder"]

log = logging.getLogger(__name__)
_NODE_SERIES = (("meter_current_a", "Current.Import"), ("non_ev_current_a", "Current.NonEV"),
                ("charging_counted_a", "Current.Charging"), ("capacity_a", "Current.Capacity"))


class EmsRecorder:
    def __init__(self, store: Store, clock: Clock, interval_s: float = 10.0) -> None:
        self.store, self.clock, self.interval_s = store, clock, interval_s
        self._last = -interval_s
        self.written = 0

    def __call__(self, record: dict[str, Any]) -> None:
        now = self.clock.monotonic()
        if now - self._last < self.interval_s:
            return
        self._last = now
        ts = parse_iso(record["time"])
        if ts is None:
            return
        for node in record["nodes"]:
            items = [Sample(ts, measurand, f"L{p + 1}", "A", float(values[p]), "EMS")
                     for key, measurand in _NODE_SERIES
                     if (values := node.get(key)) is not None for p in range(3)]
            self._write(f"ems/{node['id']}", items)
        for conn in record["connectors"]:
            items = [Sample(ts, "Current.Limit", "", "A", float(conn["limit_a"]), "EMS")]
            if conn.get("limit_w") is not None:
                items.append(Sample(ts, "Power.Limit", "", "W", float(conn["limit_w"]),
                                    "EMS"))
            self._write(conn["id"], items)

    def _write(self, source: str, items: list[Sample]) -> None:
        try:
            future = self.store.samples.submit(samples(source, items))
        except StoreError as exc:  # stopping: the record is only a sample
            log.debug("EMS samples not stored: %s", exc)
            return
        future.add_done_callback(self._done)

    def _done(self, future: Any) -> None:
        if future.exception() is not None:
            log.warning("EMS samples not stored: %s", future.exception())
        else:
            self.written += 1
