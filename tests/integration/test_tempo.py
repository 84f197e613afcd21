"""RTE Tempo: the client against local stand-ins of RTE's API (OAuth2 client credentials,
the calendar newest first) and of the free mirror; the tariff day runs 06:00 → 06:00; a
red day's rule limits the site's grid connection in its window and lifts it after."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub_engine.config.signals import TempoConfig, TempoRule
from hub_engine.signals.http import RateLimited, SignalError
from hub_engine.signals.tempo import PARIS, TempoClient, tariff_day
from hub_engine.signals.tempo_service import rule_window
from hub_engine.sim.ev import EV
from tests.integration.api_fixtures import Hub, site
from tests.integration.http_stub import Reply, Request, serving

ID, SECRET = "client-id", "client-secret"


class Rte:
    def __init__(self) -> None:
        self.colours: dict[date, str] = {}
        self.tokens = 0
        self.mode = "ok"
        self.bearer_seen: list[str] = []
        self.ecowatt_level = 1


@pytest.fixture
def rte() -> Iterator[tuple[Rte, str]]:
    state = Rte()

    def token(req: Request) -> Reply:
        basic = base64.b64encode(f"{ID}:{SECRET}".encode()).decode()
        if (req.path != "/token/oauth/" or req.headers.get("Authorization") != f"Basic {basic}"
                or req.body != b"grant_type=client_credentials"):
            return 401, {"error": "invalid_client", "error_description": "Bad credentials"}, {}
        state.tokens += 1
        return 200, {"access_token": f"token-{state.tokens}", "token_type": "Bearer",
                     "expires_in": 7200}, {}

    def answer(req: Request) -> Reply:
        if req.method == "POST":
            return token(req)
        if req.path.startswith("/api/jourTempo/"):  # the mirror
            which = req.path.rsplit("/", 1)[1]
            day = tariff_day(datetime.now(UTC)) + timedelta(days=which == "tomorrow")
            code = {"BLUE": 1, "WHITE": 2, "RED": 3}.get(state.colours.get(day, ""), 0)
            return 200, {"dateJour": day.isoformat(), "codeJour": code,
                         "periode": "2026-2027", "libCouleur": "?"}, {}
        if state.mode == "429":
            return 429, {"error": "quota"}, {"Retry-After": "900"}
        auth = req.headers.get("Authorization", "")
        state.bearer_seen.append(auth)
        if not auth.startswith("Bearer token-"):
            return 401, {"error": "invalid_token"}, {}
        if req.path == "/open_api/ecowatt/v5/signals":
            now = datetime.now(PARIS)
            midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
            return 200, {"signals": [{
                "GenerationFichier": midnight.isoformat(), "jour": midnight.isoformat(),
                "dvalue": state.ecowatt_level, "message": "...",
                "values": [{"pas": h, "hvalue": state.ecowatt_level if h == now.hour else 1}
                           for h in range(24)]}]}, {}
        start = datetime.fromisoformat(req.query["start_date"][0])
        values = [{"start_date": datetime.combine(d, datetime.min.time(), PARIS).isoformat(),
                   "value": c, "fallback": False}
                  for d, c in sorted(state.colours.items(), reverse=True) if d >= start.date()]
        return 200, {"tempo_like_calendars": {"start_date": req.query["start_date"][0],
                                              "end_date": req.query["end_date"][0],
                                              "values": values}}, {}

    with serving(answer) as url:
        yield state, url


@pytest.mark.parametrize(("utc", "day"), [
    ("2027-01-15T04:59:00+00:00", "2027-01-14"),  # 05:59 in Paris: yesterday's colour
    ("2027-01-15T05:00:00+00:00", "2027-01-15"),  # 06:00: today's
    ("2027-07-15T03:59:00+00:00", "2027-07-14"),  # summer: 05:59
    ("2027-07-15T04:00:00+00:00", "2027-07-15"),
])
def test_the_tariff_day_runs_from_six_to_six(utc: str, day: str) -> None:
    assert tariff_day(datetime.fromisoformat(utc)) == date.fromisoformat(day)


def test_a_rule_s_window_stays_in_its_tariff_day() -> None:
    day = date(2027, 1, 15)
    hp = rule_window(day, TempoRule(limit_a=0))  # 06:00-22:00
    assert [t.isoformat() for t in hp] == ["2027-01-15T06:00:00+01:00",
                                           "2027-01-15T22:00:00+01:00"]
    night = rule_window(day, TempoRule(limit_a=10, start="22:00", end="06:00"))
    assert [t.isoformat() for t in night] == ["2027-01-15T22:00:00+01:00",
                                              "2027-01-16T06:00:00+01:00"]
    whole = rule_window(day, TempoRule(limit_a=10, start="06:00", end="06:00"))
    assert whole[1] - whole[0] == timedelta(days=1)


def test_rte_s_api_with_its_token_and_the_mirror(rte: tuple[Rte, str]) -> None:
    state, url = rte
    today = tariff_day(datetime.now(UTC))
    state.colours = {today: "RED", today + timedelta(days=1): "WHITE"}
    client = TempoClient(TempoConfig(source="rte", rte_host=url, client_id=ID,
                                     client_secret=SECRET))
    assert client.fetch(today) == {today: "RED", today + timedelta(days=1): "WHITE"}
    client.fetch(today)
    assert state.tokens == 1  # the token is kept until it expires
    assert state.bearer_seen == ["Bearer token-1", "Bearer token-1"]
    mirror = TempoClient(TempoConfig(mirror_host=url))
    assert mirror.fetch(today) == {today: "RED", today + timedelta(days=1): "WHITE"}
    wrong = TempoClient(TempoConfig(source="rte", rte_host=url, client_id=ID,
                                    client_secret="nope"))
    with pytest.raises(SignalError, match="HTTP 401 invalid_client Bad credentials"):
        wrong.fetch(today)
    state.mode = "429"
    with pytest.raises(RateLimited) as caught:
        client.fetch(today)
    assert caught.value.retry_after_s == 900


def _until(check: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in time")


def test_a_red_day_defers_charging_and_a_blue_day_lets_it_go(rte: tuple[Rte, str],
                                                             tmp_path: Path) -> None:
    state, url = rte
    today = tariff_day(datetime.now(UTC))
    state.colours = {today: "RED"}
    more = (f"signals: {{tempo: {{mirror_host: '{url}', poll_s: 3600,"
            " red: {limit_a: 0, start: '06:00', end: '06:00'}}}\n")
    (tmp_path / "hub.yaml").write_text(site(ems="cycle_s: 0.5, ", more=more)
                                       % (tmp_path, "null"))
    hub = Hub(tmp_path)
    try:
        runner = hub.charge_point("CP1")
        hub.charge_point("CP2")
        assert runner.cp is not None
        hub.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="CAR"))

        def limit() -> float | None:
            got = {c["id"]: c for c in hub.app.ems.record.get("connectors", [])}.get("CP1/1")
            return None if got is None else got["limit_a"]
        _until(lambda: hub.app.tempo.state["fetched_at"])
        _until(lambda: limit() == 0)  # red, all day: deferred
        tempo = hub.get("/signals").json()["tempo"]
        assert tempo["colour"] == "RED" and tempo["limit_a"] == 0
        _until(lambda: runner.cp.connectors[1].current_a == 0)
        state.colours = {today: "BLUE"}
        hub.call(hub.app.tempo.poll())
        hub.loop.call_soon_threadsafe(hub.app.tempo.apply)
        _until(lambda: (limit() or 0) >= 6)
        assert hub.get("/signals").json()["tempo"]["colour"] == "BLUE"
    finally:
        hub.stop()


def test_ecowatt_hours_with_their_dst_day() -> None:
    from hub_engine.signals.ecowatt import parse_signals

    # openHAB's fixture (trimmed): days not sorted, a day of 23 hours (clocks forward).
    data = {"signals": [
        {"GenerationFichier": "2022-09-18T22:00:00+02:00", "jour": "2022-09-22T00:00:00+02:00",
         "dvalue": 1, "message": "Notre consommation est raisonnable.",
         "values": [{"pas": p, "hvalue": 1} for p in range(24)]},
        {"GenerationFichier": "2022-09-18T22:00:00+02:00", "jour": "2022-09-19T00:00:00+02:00",
         "dvalue": 3, "message": "Notre consommation est raisonnable.",
         "values": [{"pas": p, "hvalue": 3 if 8 <= p <= 10 else 1} for p in range(24)]},
        {"jour": "2023-03-26T00:00:00+01:00", "dvalue": 1,
         "values": [{"pas": p, "hvalue": 0} for p in range(23)]}]}
    hours = parse_signals(data)
    assert hours[datetime(2022, 9, 19, 6, 0, tzinfo=UTC)] == 3  # 08:00 Paris (UTC+2)
    assert hours[datetime(2022, 9, 19, 9, 0, tzinfo=UTC)] == 1
    assert len([h for h in hours if h.date() == date(2023, 3, 26)]) == 22  # 23 from 23:00 UTC
    with pytest.raises(SignalError):
        parse_signals({"nope": 1})


def test_an_ecowatt_red_hour_limits_the_site(rte: tuple[Rte, str], tmp_path: Path) -> None:
    state, url = rte
    state.ecowatt_level = 3
    more = (f"signals: {{ecowatt: {{rte_host: '{url}', client_id: {ID},"
            f" client_secret: {SECRET}, level3: {{limit_a: 20}}}}}}\n")
    (tmp_path / "hub.yaml").write_text(site(ems="cycle_s: 0.5, ", more=more)
                                       % (tmp_path, "null"))
    hub = Hub(tmp_path)
    try:
        _until(lambda: hub.app.ecowatt.state["fetched_at"])
        _until(lambda: any(lim.source == "signal:ecowatt" and lim.target == "grid"
                           and lim.limit_a == 20 for lim in hub.app.ems.external.in_force()))
        described = hub.get("/signals").json()["ecowatt"]
        assert described["level"] == 3 and described["limit_a"] == 20
        state.ecowatt_level = 1
        hub.call(hub.app.ecowatt.poll())
        hub.loop.call_soon_threadsafe(hub.app.ecowatt.apply)
        _until(lambda: not any(lim.source == "signal:ecowatt"
                               for lim in hub.app.ems.external.in_force()))
    finally:
        hub.stop()
