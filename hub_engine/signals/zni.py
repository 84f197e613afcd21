"""EDF-SEI's grid signal for EV charging (ZNI) from its Opendatasoft portal.

``GET https://<host>/api/explore/v2.1/catalog/datasets/<dataset>/records`` newest first,
pages of 100 (10-minute slots: three pages cover two days), the API key in an
``Authorization: Apikey`` header (never in the URL, so never in a proxy's log). What a
retired portal returns (an HTML page with 200, a 410) and a quota's 429 are errors with
their reason, never a signal: the service then keeps the slots it knows.
"""

from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from hub_engine.clock import parse_iso
from hub_engine.config.signals import ZniConfig
from hub_engine.i18n import Text
from hub_engine.signals.http import RateLimited, SignalError, read_secret, request_json

__all__ = ["SLOT", "RateLimited", "SignalError", "Slot", "fetch", "parse"]

SLOT = timedelta(minutes=10)
PAGE = 100
PAGES = 3


@dataclass(frozen=True)
class Slot:
    start: datetime  # aware
    signal: int  # 1 favourable, 0 unfavourable


def parse(data: Any) -> list[Slot]:
    """Slots from a v2.1 ``records`` answer, a v1 ``search`` answer or an ``exports/json``
    array; a record without a usable date or signal is skipped, none usable is an error."""
    if isinstance(data, dict) and "results" in data:
        records = data["results"]
    elif isinstance(data, dict) and "records" in data:
        records = [r.get("fields", {}) for r in data["records"] if isinstance(r, dict)]
    elif isinstance(data, list):
        records = data
    else:
        raise SignalError(Text("the portal's answer has no records"))
    out = []
    for rec in records if isinstance(records, list) else []:
        if not isinstance(rec, dict):
            continue
        start, signal = parse_iso(rec.get("date")), rec.get("signal")
        if isinstance(signal, str) and signal.strip() in ("0", "1"):
            signal = int(signal)
        if start is not None and signal in (0, 1) and not isinstance(signal, bool):
            out.append(Slot(start, int(signal)))
    if records and not out:
        raise SignalError(Text("no record with a date and a signal 0 or 1"))
    return sorted(out, key=lambda s: s.start)


def fetch(cfg: ZniConfig) -> list[Slot]:
    """The slots the portal publishes (two days, newest first, three pages at most)."""
    base = (f"{cfg.host.rstrip('/')}/api/explore/v2.1/catalog/datasets/"
            f"{urllib.parse.quote(cfg.dataset)}/records")
    slots: list[Slot] = []
    for page in range(PAGES):
        query = urllib.parse.urlencode({"order_by": "date DESC", "limit": PAGE,
                                        "offset": page * PAGE, "timezone": "UTC"})
        key = read_secret(cfg.api_key, cfg.api_key_file)
        headers = {"Authorization": f"Apikey {key}"} if key else {}
        got = parse(request_json(f"{base}?{query}", headers, cfg.timeout_s))
        slots.extend(got)
        if len(got) < PAGE:
            break
    return sorted(set(slots), key=lambda s: s.start)
