"""PV forecast: the Open-Meteo client against a local stand-in serving its formats (15-min
irradiance, epoch or ISO local times, its errors, quotas, malformed answers), the pvlib
model of each array, and the hub's service: kept across a restart without the internet,
unknown (and an alert) once too old."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from hub_engine.config.pv import PvArray, PvConfig
from hub_engine.signals.http import RateLimited, SignalError
from hub_engine.signals.openmeteo import fetch_sky, parse_sky
from hub_engine.signals.pvmodel import pv_power
from tests.integration.api_fixtures import Hub, site
from tests.integration.http_stub import serving
from tests.integration.openmeteo_stub import VARS, Sky, clear_sky, pv_site

LYON = (45.76, 4.84)  # the office of SITES.md: 36 kWp, south, 15°
OFFICE = PvConfig(*LYON, arrays=(PvArray("roof", 36.0, tilt_deg=15, azimuth_deg=180),))


@pytest.fixture
def sky() -> Iterator[tuple[Sky, str]]:
    state = Sky()
    with serving(state) as url:
        yield state, url


def test_iso_local_times_negative_and_missing_values() -> None:
    """The FORMATS.md example (local times, CEST) and the known data issues."""
    data = {"utc_offset_seconds": 7200, "timezone": "Europe/Paris", "minutely_15": {
        "time": ["2025-06-02T12:00", "2025-06-02T12:15", "2025-06-02T21:30"],
        "shortwave_radiation": [870.0, 874.2, -3.0], "direct_normal_irradiance": [842.0, None, 0],
        "diffuse_radiation": [118.3, 117.9, -1.0], "temperature_2m": [26.4, 26.6, 18.0]}}
    got = parse_sky(data)
    assert [s.end for s in got] == [datetime(2025, 6, 2, 10, 0, tzinfo=UTC),
                                    datetime(2025, 6, 2, 19, 30, tzinfo=UTC)]
    assert (got[1].ghi_w_m2, got[1].dhi_w_m2) == (0.0, 0.0)  # negative near sunset: 0


def test_a_clear_day_at_the_office_and_each_array_s_orientation(sky: tuple[Sky, str]) -> None:
    state, url = sky
    june = datetime(2026, 6, 21, tzinfo=UTC)
    slots = pv_power(OFFICE, parse_sky(clear_sky(june)))
    noon = max(slots, key=lambda s: s.power_w)
    assert 20_000 < noon.power_w < 30_000  # 36 kWp flat-ish, 14 % losses, warm cells
    assert 9 <= noon.end.hour <= 13  # solar noon in Lyon is about 11:40 UTC
    night = [s for s in slots if s.end.hour in (0, 1, 2, 22, 23)]
    assert night and all(s.power_w == 0 for s in night)
    day_kwh = sum(s.power_w for s in slots[:96]) / 4 / 1000
    assert 150 < day_kwh < 250, day_kwh  # 4-7 kWh per kWp on the longest clear day
    east_west = PvConfig(*LYON, arrays=(PvArray("east", 10, 30, 90), PvArray("west", 10, 30, 270,
                                                                             ac_kw=3.0)))
    both = pv_power(east_west, parse_sky(clear_sky(june)))
    morning = next(s for s in both if s.end == june.replace(hour=7))
    assert morning.by_array_w["east"] > 3 * morning.by_array_w["west"]
    assert max(s.by_array_w["west"] for s in both) == pytest.approx(3000.0)  # clipped
    # The real client asks what the model needs, in UTC epoch seconds.
    assert fetch_sky(OFFICE, url, 5)
    query = state.calls[-1].query
    assert query["minutely_15"] == [",".join(VARS)] and query["timezone"] == ["GMT"]
    assert query["latitude"] == ["45.7600"]


@pytest.mark.parametrize(("mutate", "error", "words"), [
    (lambda d: {"error": True, "reason": "Latitude must be in range of -90 to 90°."},
     SignalError, "Open-Meteo refused the request: Latitude must be in range"),
    (lambda d: {**d, "minutely_15": {"time": d["minutely_15"]["time"]}}, SignalError,
     "no shortwave_radiation for every time"),
    (lambda d: {**d, "minutely_15": {**d["minutely_15"], "temperature_2m": ["hot"] * 192}},
     SignalError, "malformed value"),
    (lambda d: {"hourly": {}}, SignalError, "no minutely_15 times"),
])
def test_malformed_answers_are_errors_with_their_reason(
        mutate: Callable[[dict[str, Any]], Any], error: type[Exception], words: str) -> None:
    with pytest.raises(error, match=words):
        parse_sky(mutate(clear_sky(datetime(2026, 6, 21, tzinfo=UTC))))


def test_http_failures_are_errors_and_a_quota_says_when_to_retry(sky: tuple[Sky, str]) -> None:
    state, url = sky
    state.mode = "429"
    with pytest.raises(RateLimited) as caught:
        fetch_sky(OFFICE, url, 5)
    assert caught.value.retry_after_s == 120
    state.mode = "down"
    with pytest.raises(SignalError, match="HTTP 503"):
        fetch_sky(OFFICE, url, 5)
    with pytest.raises(SignalError, match="cannot be reached"):
        fetch_sky(OFFICE, "http://127.0.0.1:9", 2)


def _site(url: str, valid_s: float) -> str:
    return pv_site(site(), url, valid_s)


def _until(check: Callable[[], Any], timeout_s: float = 15) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if got := check():
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_the_hub_keeps_its_forecast_across_a_restart_without_internet(
        sky: tuple[Sky, str], tmp_path: Path) -> None:
    state, url = sky
    (tmp_path / "hub.yaml").write_text(_site(url, 36 * 3600) % (tmp_path, "null"))
    hub = Hub(tmp_path)
    try:
        pv = _until(lambda: (p := hub.get("/solar").json()["sites"]["s1"]["pv"])["fetched_at"]
                    and p)
        assert pv["now_w"] is not None and pv["error"] is None and pv["kwp"] == 36
        assert pv["today_kwh"] > 0 and len(pv["slots"]) >= 4 * 24
        assert pv["measured_w"] is None  # no inverter configured: unknown, not 0
        live = hub.get("/live").json()["sites"][0]["pv"]  # the dashboard's line
        assert live["kwp"] == 36 and live["now_w"] is not None and live["measured_w"] is None
    finally:
        hub.stop()
    state.mode = "down"
    hub = Hub(tmp_path)
    try:
        again = _until(lambda: (p := hub.get("/solar").json()["sites"]["s1"]["pv"])["error"]
                       and p)
        assert "HTTP 503" in again["error"]
        assert again["fetched_at"] == pv["fetched_at"] and again["now_w"] is not None
        assert not [a for a in hub.get("/alerts", params={"active": "true"}).json()
                    if a["kind"] == "forecast_unknown"]
    finally:
        hub.stop()


def test_a_forecast_too_old_is_unknown_and_an_alert_until_a_fresh_one(
        sky: tuple[Sky, str], tmp_path: Path) -> None:
    state, url = sky
    (tmp_path / "hub.yaml").write_text(_site(url, 2) % (tmp_path, "null"))
    hub = Hub(tmp_path)
    try:
        _until(lambda: hub.get("/solar").json()["sites"]["s1"]["pv"]["fetched_at"])
        state.mode = "down"
        time.sleep(2.2)
        hub.loop.call_soon_threadsafe(hub.app.pv.apply)
        _until(lambda: hub.get("/solar").json()["sites"]["s1"]["pv"]["now_w"] is None)

        def active() -> list[str]:
            hub.call(hub.app.alerts.check())
            return [a["kind"] for a in hub.get("/alerts", params={"active": "true"}).json()]
        assert _until(lambda: "forecast_unknown" in active() and active()) == [
            "forecast_unknown"]
        state.mode = "ok"
        hub.call(hub.app.pv.poll())
        hub.loop.call_soon_threadsafe(hub.app.pv.apply)
        _until(lambda: "forecast_unknown" not in active())
    finally:
        hub.stop()


def _estimate(day: datetime, kwp: float) -> dict[str, Any]:
    """forecast.solar's answer (time=utc) for a clear day: points every hour, irregular
    first and last keys at sunrise and sunset, as its fixtures show."""
    rise, set_ = day.replace(hour=4, minute=20, second=17), day.replace(hour=19, minute=59,
                                                                        second=23)
    points = {rise.isoformat(): 0}
    for h in range(5, 20):
        t = day.replace(hour=h)
        points[t.isoformat()] = round(kwp * 1000 * 0.7 * max(0.0, 1 - abs(h - 12) / 8))
    points[set_.isoformat()] = 0
    return {"result": {"watts": points, "watt_hours_day": {day.date().isoformat(): 1}},
            "message": {"code": 0, "type": "success", "text": "",
                        "ratelimit": {"zone": "IP ADDRESS", "period": 3600, "limit": 12,
                                      "remaining": 11}}}


def test_forecast_solar_per_array_into_15_minute_slots() -> None:
    from hub_engine.signals.forecast_solar import estimate_url, fetch_estimate

    calls: list[str] = []
    day = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)

    def answer(req: Any) -> Any:
        calls.append(req.target)
        if "/bad/" in req.target:
            return 429, {"result": "Rate limit for API calls reached.", "message": {
                "code": 429, "type": "error", "text": "Rate limit for API calls reached.",
                "ratelimit": {"retry-at": "2024-04-27T02:48:53+02:00"}}}, {"Retry-After": "600"}
        kwp = float(req.path.rsplit("/", 1)[1])
        return 200, _estimate(day, kwp), {}

    pv = PvConfig(*LYON, arrays=(PvArray("east", 10, 30, 90), PvArray("south", 5, 15, 180)))
    with serving(answer) as url:
        slots = fetch_estimate(pv, url, None, 5)
        assert [c.split("?")[0].split("estimate/")[1] for c in calls] == [
            "45.7600/4.8400/30/-90/10", "45.7600/4.8400/15/0/5"]  # 0 south, -90 east
        assert all(c.endswith("?time=utc") for c in calls)
        noon = next(s for s in slots if s.end == day.replace(hour=12, minute=15))
        # Each 15-minute slot is read at its middle, between the hourly points.
        assert noon.by_array_w["east"] == pytest.approx(7000 - 7000 * 0.125 / 8, abs=1)
        assert noon.power_w == pytest.approx(noon.by_array_w["east"]
                                             + noon.by_array_w["south"], abs=0.2)
        # The first and last slots straddle sunrise and sunset: little, and none beyond.
        assert slots[0].power_w < 200 and slots[-1].power_w < 200
        assert slots[-1].end <= day.replace(hour=20, minute=15)
        with pytest.raises(RateLimited) as caught:
            fetch_estimate(pv, url, "bad", 5)  # a key in the path, as the API wants
        assert caught.value.retry_after_s == 600
    assert estimate_url(pv, PvArray("n", 1, 10, 0), "h", None).split("/")[5] == "-180"


def test_forecast_solar_s_public_plan_bounds_the_poll() -> None:
    from hub_engine.config.pv import PvForecastConfig
    from hub_engine.typed import FieldError

    two = (PvArray("a", 5), PvArray("b", 5))
    with pytest.raises(FieldError, match="at least 600 s for 2 arrays"):
        PvConfig(*LYON, arrays=two, forecast=PvForecastConfig("forecast.solar", poll_s=300))
    ok = PvConfig(*LYON, arrays=two, forecast=PvForecastConfig("forecast.solar", poll_s=300,
                                                                api_key="k"))
    assert ok.forecast is not None and ok.forecast.url == "https://api.forecast.solar"
