"""forecast.solar's estimate: the power of each array, one request per array
(``/[key/]estimate/lat/lon/tilt/azimuth/kWp?time=utc``; its azimuth is 0 south, −90
east, 90 west), its points irregular at sunrise and sunset, read into the 15-minute
slots the hub keeps (linear between the points, 0 outside them). Its public plan allows
12 calls an hour per address: the configuration checks ``poll_s`` against the arrays.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any

from hub_engine.clock import parse_iso
from hub_engine.config.pv import PvArray, PvConfig
from hub_engine.i18n import Text
from hub_engine.signals.http import SignalError, request_json
from hub_engine.signals.openmeteo import STEP
from hub_engine.signals.pvmodel import PvSlot

__all__ = ["estimate_url", "fetch_estimate", "parse_watts", "slots_of"]

Points = list[tuple[datetime, float]]


def estimate_url(pv: PvConfig, array: PvArray, host: str, key: str | None) -> str:
    azimuth = (array.azimuth_deg - 180 + 180) % 360 - 180  # compass → 0 south, ±180 north
    path = f"{key}/" if key else ""
    return (f"{host}/{path}estimate/{pv.latitude:.4f}/{pv.longitude:.4f}/"
            f"{array.tilt_deg:g}/{azimuth:g}/{array.kwp:g}?time=utc")


def parse_watts(data: Any) -> Points:
    """(UTC time, W) of an answer, sorted; :class:`SignalError` with the reason."""
    message = data.get("message") if isinstance(data, dict) else None
    if isinstance(message, dict) and message.get("type") == "error":
        raise SignalError(Text("forecast.solar refused the request: {why}",
                               why=str(message.get("text") or message.get("code") or "-")))
    result = data.get("result") if isinstance(data, dict) else None
    watts = result.get("watts") if isinstance(result, dict) else None
    if not isinstance(watts, dict) or not watts:
        raise SignalError(Text("forecast.solar's answer has no watts"))
    out = []
    for stamp, value in watts.items():
        when = parse_iso(stamp) if isinstance(stamp, str) else None
        if when is None or isinstance(value, bool) or not isinstance(value, (int, float)) \
                or not math.isfinite(value):
            raise SignalError(Text("forecast.solar's answer has a malformed value at {time}",
                                   time=str(stamp)))
        out.append((when.astimezone(UTC), max(0.0, float(value))))
    return sorted(out)


def _at(points: Points, t: datetime) -> float:
    if not points or t <= points[0][0] or t >= points[-1][0]:
        return 0.0
    for (t0, w0), (t1, w1) in itertools.pairwise(points):
        if t0 <= t <= t1:
            span = (t1 - t0).total_seconds()
            return w0 if span <= 0 else w0 + (w1 - w0) * (t - t0).total_seconds() / span
    return 0.0


def slots_of(by_array: dict[str, Points]) -> list[PvSlot]:
    """15-minute slots over the span of every array's points, each at its middle."""
    times = [t for points in by_array.values() for t, _ in points]
    if not times:
        return []
    step = int(STEP.total_seconds())
    first = datetime.fromtimestamp(math.ceil(min(times).timestamp() / step) * step, UTC)
    out = []
    end = first
    while end <= max(times) + STEP:
        mid = end - STEP / 2
        arrays = {name: round(_at(points, mid), 1) for name, points in by_array.items()}
        out.append(PvSlot(end, round(sum(arrays.values()), 1), arrays))
        end += timedelta(seconds=step)
    return out


def fetch_estimate(pv: PvConfig, host: str, key: str | None, timeout_s: float
                   ) -> list[PvSlot]:
    return slots_of({a.id: parse_watts(request_json(estimate_url(pv, a, host, key), {},
                                                    timeout_s)) for a in pv.arrays})
