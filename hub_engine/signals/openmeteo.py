"""Open-Meteo's forecast API: the irradiance a site's panels will see, per 15 minutes.

One request per site: ``minutely_15`` global, direct-normal and diffuse irradiance
(W/m², each the mean of the **preceding** 15 minutes) and the air temperature, for today
and tomorrow, times as epoch seconds (``timeformat=unixtime``: UTC, no local-time
guessing). An answer in ISO local times (``utc_offset_seconds``) is read too. A negative
irradiance (seen near sunset, open-meteo issue #1355) counts as 0; a missing value
(``null``) leaves its slot out. Errors: HTTP 400 ``{"error": true, "reason": …}``.
"""

from __future__ import annotations

import math
import urllib.parse
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from hub_engine.config.pv import PvConfig
from hub_engine.i18n import Text
from hub_engine.signals.http import SignalError, request_json

__all__ = ["STEP", "Sky", "fetch_sky", "parse_sky", "sky_url"]

STEP = timedelta(minutes=15)
_VARS = ("shortwave_radiation", "direct_normal_irradiance", "diffuse_radiation",
         "temperature_2m")


@dataclass(frozen=True)
class Sky:
    """The 15 minutes ending at ``end`` (UTC)."""

    end: datetime
    ghi_w_m2: float
    dni_w_m2: float
    dhi_w_m2: float
    temp_air_c: float


def sky_url(pv: PvConfig, host: str) -> str:
    query = urllib.parse.urlencode({
        "latitude": f"{pv.latitude:.4f}", "longitude": f"{pv.longitude:.4f}",
        "minutely_15": ",".join(_VARS), "timezone": "GMT", "timeformat": "unixtime",
        "forecast_days": 2})
    return f"{host.rstrip('/')}/v1/forecast?{query}"


def _time(value: Any, offset_s: int) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        local = datetime.fromisoformat(value)
        if local.tzinfo is None:
            return (local - timedelta(seconds=offset_s)).replace(tzinfo=UTC)
        return local.astimezone(UTC)
    raise ValueError(value)


def parse_sky(data: Any) -> list[Sky]:
    """The slots of an answer; :class:`SignalError` naming what is wrong."""
    if isinstance(data, dict) and data.get("error"):
        raise SignalError(Text("Open-Meteo refused the request: {why}",
                               why=str(data.get("reason") or "-")))
    block = data.get("minutely_15") if isinstance(data, dict) else None
    if not isinstance(block, dict) or not isinstance(block.get("time"), list):
        raise SignalError(Text("Open-Meteo's answer has no minutely_15 times"))
    times = block["time"]
    columns = []
    for name in _VARS:
        col = block.get(name)
        if not isinstance(col, list) or len(col) != len(times):
            raise SignalError(Text("Open-Meteo's answer has no {name} for every time",
                                   name=name))
        columns.append(col)
    offset = data.get("utc_offset_seconds", 0)
    out = []
    for k, stamp in enumerate(times):
        values = [c[k] for c in columns]
        if any(v is None for v in values):
            continue  # beyond the model's horizon
        try:
            when = _time(stamp, int(offset) if isinstance(offset, int) else 0)
            ghi, dni, dhi, temp = (float(v) for v in values)
        except (TypeError, ValueError):
            raise SignalError(Text("Open-Meteo's answer has a malformed value at {time}",
                                   time=str(stamp))) from None
        if not all(math.isfinite(x) for x in (ghi, dni, dhi, temp)):
            raise SignalError(Text("Open-Meteo's answer has a malformed value at {time}",
                                   time=str(stamp)))
        out.append(Sky(when, max(0.0, ghi), max(0.0, dni), max(0.0, dhi), temp))
    if not out:
        raise SignalError(Text("Open-Meteo's answer has no forecast slot"))
    return sorted(out, key=lambda s: s.end)


def fetch_sky(pv: PvConfig, host: str, timeout_s: float) -> list[Sky]:
    return parse_sky(request_json(sky_url(pv, host), {}, timeout_s))
