"""RTE's Tempo day colours: from RTE's API (OAuth2 client credentials, tokens kept until
they expire) or from the free mirror api-couleur-tempo.fr. A colour is for a tariff day
that runs from 06:00 to 06:00 the next morning (Europe/Paris), not midnight to midnight.
"""

from __future__ import annotations

import urllib.parse
from datetime import date, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hub_engine.clock import parse_iso
from hub_engine.config.signals import TempoConfig
from hub_engine.i18n import Text
from hub_engine.signals.http import SignalError, request_json
from hub_engine.signals.rte import RteSession

__all__ = ["COLOURS", "TempoClient", "tariff_day"]

Colour = Literal["BLUE", "WHITE", "RED"]
COLOURS: tuple[Colour, ...] = ("BLUE", "WHITE", "RED")
PARIS = ZoneInfo("Europe/Paris")
_MIRROR_CODES: dict[int, Colour] = {1: "BLUE", 2: "WHITE", 3: "RED"}


def tariff_day(now: datetime) -> date:
    """The Tempo day in force at ``now``: before 06:00 (Paris) it is still yesterday's."""
    local = now.astimezone(PARIS)
    return (local - timedelta(hours=6)).date()


class TempoClient:
    def __init__(self, cfg: TempoConfig) -> None:
        self.cfg = cfg
        self.rte = RteSession(cfg.rte_host, cfg.client_id, cfg.client_secret,
                              cfg.client_secret_file, cfg.timeout_s)

    def fetch(self, today: date) -> dict[date, str]:
        """The colours known for ``today`` and after (tomorrow's from about 11:00)."""
        return self._rte(today) if self.cfg.source == "rte" else self._mirror(today)

    def _mirror(self, today: date) -> dict[date, str]:
        out: dict[date, str] = {}
        for which in ("today", "tomorrow"):
            data = request_json(f"{self.cfg.mirror_host.rstrip('/')}/api/jourTempo/{which}",
                                {}, self.cfg.timeout_s)
            if not isinstance(data, dict) or "dateJour" not in data:
                raise SignalError(Text("the Tempo answer has no dateJour"))
            day, code = data.get("dateJour"), data.get("codeJour")
            if isinstance(code, int) and code in _MIRROR_CODES and isinstance(day, str):
                try:
                    out[date.fromisoformat(day)] = _MIRROR_CODES[code]
                except ValueError:
                    raise SignalError(Text("the Tempo answer has no dateJour")) from None
        return out

    def _rte(self, today: date) -> dict[date, str]:
        start = datetime.combine(today, datetime.min.time(), PARIS)
        query = urllib.parse.urlencode({
            "start_date": start.isoformat(), "end_date": (start + timedelta(days=2)).isoformat(),
            "fallback_status": "true"})
        data = self.rte.get("/open_api/tempo_like_supply_contract/v1/tempo_like_calendars?"
                            + query)
        calendar: Any = data.get("tempo_like_calendars") if isinstance(data, dict) else None
        if not isinstance(calendar, dict) or not isinstance(calendar.get("values"), list):
            raise SignalError(Text("the Tempo answer has no tempo_like_calendars.values"))
        out: dict[date, str] = {}
        for value in calendar["values"]:
            if not isinstance(value, dict):
                continue
            when, colour = parse_iso(value.get("start_date")), value.get("value")
            if when is not None and colour in COLOURS:
                out[when.astimezone(PARIS).date()] = colour
        return out
