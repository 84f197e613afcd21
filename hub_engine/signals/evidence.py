"""The Advenir evidence of a ZNI site: for each 10-minute slot, the EDF-SEI signal in force
and, per connector, what the hub asked for and what the charge point did.

Per slot and connector: the signal (1, 0, or assumed 0 when no slot was known), the
highest limit the EMS sent (``Current.Limit``, recorded every 10 s), the highest
``Current.Offered`` the charge point reported (what it applied, when its firmware says
so) and the highest ``Power.Active.Import`` it measured, each counted from ``grace_s``
after the slot's start (the reaction window: the time a limit takes to be sent,
applied and followed), and whether the slot complies: an unfavourable slot with each
of them at most half the connector's rating (a 0.5 A, 5 % tolerance on what the charge
point reports). The samples are read from ``samples.db``: 35 days at full resolution,
then the 15-minute buckets' maxima, which blur the slots' edges (docs/signals.md).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.config import HubConfig
from hub_engine.signals.zni import SLOT

__all__ = ["COLUMNS", "SIGNAL_SOURCE", "EvidenceRow", "evidence", "evidence_csv"]

Rows = Callable[..., list[Any]]
SIGNAL_SOURCE = "signal:zni"
COLUMNS = ("slot_start", "signal", "connector", "rated_a", "limit_sent_a", "offered_a",
           "power_w", "compliant")


@dataclass(frozen=True)
class EvidenceRow:
    slot_start: datetime
    signal: int | None  # None: nothing recorded for the slot
    assumed: bool
    connector: str
    rated_a: float
    limit_sent_a: float | None
    offered_a: float | None
    power_w: float | None
    compliant: bool | None  # None: nothing to judge (no signal, no limit recorded)


def _maxima(rows: Rows, measurand: str, lo: int, hi: int, grace_ms: int
            ) -> dict[tuple[str, int], float]:
    """(source, slot start in ms) → the series' maximum from ``grace_ms`` after the
    slot's start to its end, every connector in one read; raw samples first, the
    downsampled buckets' maxima where they have expired."""
    slot_ms = int(SLOT.total_seconds() * 1000)
    got: dict[tuple[str, int], float] = {}
    for table, ts, value in (("samples", "ts_ms", "value"), ("samples_agg", "bucket_ms", "max")):
        for source, slot, top in rows(
                f"SELECT s.source, (({ts} - ?) / {slot_ms}) * {slot_ms}, MAX({value})"
                f" FROM {table} t JOIN series s ON s.id = t.series_id WHERE s.measurand = ?"
                f" AND {ts} >= ? AND {ts} < ? AND ({ts} - ?) % {slot_ms} < ?"
                f" GROUP BY s.source, ({ts} - ?) / {slot_ms}",
                (grace_ms, measurand, lo + grace_ms, hi + grace_ms, grace_ms,
                 slot_ms - grace_ms, grace_ms), db="samples"):
            got.setdefault((str(source), int(slot)), float(top))
    return got


def evidence(rows: Rows, config: HubConfig, since: datetime, until: datetime,
             grace_s: float) -> list[EvidenceRow]:
    slot_ms = int(SLOT.total_seconds() * 1000)
    lo = int(since.timestamp() * 1000) // slot_ms * slot_ms
    hi = int(until.timestamp() * 1000)
    signals: dict[int, tuple[int, bool]] = {}
    for ts, value, phase in rows(
            "SELECT t.ts_ms, t.value, s.phase FROM samples t JOIN series s"
            " ON s.id = t.series_id WHERE s.source = ? AND s.measurand = 'Signal'"
            " AND t.ts_ms >= ? AND t.ts_ms < ?", (SIGNAL_SOURCE, lo, hi), db="samples"):
        slot = int(ts) // slot_ms * slot_ms
        # Assumed at a start before the first fetch, known a moment later: the known one.
        if phase != "assumed" or slot not in signals:
            signals[slot] = (int(value), phase == "assumed")
    grace_ms = int(grace_s * 1000)
    out: list[EvidenceRow] = []
    connectors = [(f"{cp.id}/{k}", cp.max_current_a, cp.phases * site.voltage_v)
                  for site in config.sites for cp in site.charge_points()
                  for k in range(1, cp.connectors + 1)]
    limit = _maxima(rows, "Current.Limit", lo, hi, grace_ms)
    offered = _maxima(rows, "Current.Offered", lo, hi, grace_ms)
    power = _maxima(rows, "Power.Active.Import", lo, hi, grace_ms)
    for cid, rated, watts_per_a in sorted(connectors):
        for start in range(lo, hi, slot_ms):
            sig = signals.get(start)
            lim, off, pw = (limit.get((cid, start)), offered.get((cid, start)),
                            power.get((cid, start)))
            verdict: bool | None = None
            if sig is not None and sig[0] == 1:
                verdict = True
            elif sig is not None and lim is not None:
                half = rated / 2
                verdict = (lim <= half + 0.05 and (off is None or off <= half + 0.5)
                           and (pw is None or pw <= half * watts_per_a * 1.05))
            out.append(EvidenceRow(_utc(start), sig[0] if sig else None,
                                   bool(sig and sig[1]), cid, rated, lim, off, pw, verdict))
    return sorted(out, key=lambda r: (r.slot_start, r.connector))


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, ZoneInfo("UTC"))


def evidence_csv(rows: list[EvidenceRow], timezone: str) -> str:
    """One line per slot and connector; times local with their offset."""
    tz = ZoneInfo(timezone)
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(COLUMNS)

    def num(x: float | None) -> Any:
        return "" if x is None else round(x, 1)
    for r in rows:
        signal = "" if r.signal is None else f"{r.signal}{' (assumed)' if r.assumed else ''}"
        verdict = "" if r.compliant is None else ("yes" if r.compliant else "NO")
        writer.writerow([r.slot_start.astimezone(tz).isoformat(timespec="minutes"), signal,
                         r.connector, num(r.rated_a), num(r.limit_sent_a), num(r.offered_a),
                         num(r.power_w), verdict])
    return buf.getvalue()

