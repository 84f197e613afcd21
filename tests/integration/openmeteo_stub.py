"""A stand-in for Open-Meteo's forecast API: clear-sky irradiance (pvlib) in its format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pvlib

from tests.integration.http_stub import Reply, Request

__all__ = ["VARS", "Sky", "clear_sky", "pv_site"]

LYON = (45.76, 4.84)  # the office of SITES.md: 36 kWp, south, 15°
VARS = ("shortwave_radiation", "direct_normal_irradiance", "diffuse_radiation",
        "temperature_2m")


def clear_sky(day: datetime, lat: float = LYON[0], lon: float = LYON[1]) -> dict[str, Any]:
    """Open-Meteo's answer (timeformat=unixtime) for two days of clear sky from ``day``'s
    midnight UTC: each value is the mean of the 15 minutes before its time."""
    start = day.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(minutes=15)
    ends = [start + k * timedelta(minutes=15) for k in range(2 * 96)]
    mids = pd.DatetimeIndex([e - timedelta(minutes=7.5) for e in ends])
    cs = pvlib.location.Location(lat, lon).get_clearsky(mids)
    return {"latitude": lat, "longitude": lon, "elevation": 170.0, "generationtime_ms": 1.1,
            "utc_offset_seconds": 0, "timezone": "GMT", "timezone_abbreviation": "GMT",
            "minutely_15_units": {"time": "unixtime", "shortwave_radiation": "W/m²"},
            "minutely_15": {"time": [int(e.timestamp()) for e in ends],
                            "shortwave_radiation": [round(x, 1) for x in cs["ghi"]],
                            "direct_normal_irradiance": [round(x, 1) for x in cs["dni"]],
                            "diffuse_radiation": [round(x, 1) for x in cs["dhi"]],
                            "temperature_2m": [20.0] * len(ends)}}


class Sky:
    def __init__(self) -> None:
        self.mode = "ok"
        self.calls: list[Request] = []

    def __call__(self, req: Request) -> Reply:
        self.calls.append(req)
        if self.mode == "down":
            return 503, b"<html>maintenance</html>", {"Content-Type": "text/html"}
        if self.mode == "429":
            return 429, {"error": True, "reason": "Minutely API request limit exceeded"}, {
                "Retry-After": "120"}
        if req.path != "/v1/forecast" or req.query.get("timeformat") != ["unixtime"]:
            return 400, {"error": True, "reason": "Cannot initialize WeatherVariable from "
                                                 "invalid String value"}, {}
        return 200, clear_sky(datetime.now(UTC)), {}




def pv_site(site_yaml: str, url: str, valid_s: float = 36 * 3600) -> str:
    """The api_fixtures site with the office's 36 kWp and a forecast from ``url``."""
    pv = (f"    pv: {{latitude: 45.76, longitude: 4.84, arrays: [{{id: roof, kwp: 36,"
          f" tilt_deg: 15}}], forecast: {{host: '{url}', poll_s: 3600, valid_s: {valid_s}}}}}\n")
    return site_yaml.replace("  - id: s1\n", "  - id: s1\n" + pv)
