"""EDF-SEI's ZNI grid signal: the client against a local portal serving the formats of
FORMATS.md §1 (pages of records, the API key in a header, a quota's 429, a retired
portal's HTML 200 and 410, a malformed answer), and the whole hub obeying it: an
unfavourable slot puts every connector at half its rating within one EMS cycle, a
favourable one lifts it, and a portal gone silent past the known slots is treated as
unfavourable, with an alert."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hub_engine.config.signals import ZniConfig
from hub_engine.ocpp.schedule import field_of
from hub_engine.signals.zni import SLOT, RateLimited, SignalError, fetch
from hub_engine.sim.ev import EV
from tests.integration.api_fixtures import Hub, site
from tests.integration.http_stub import Reply, Request, serving

KEY = "zni-key-for-tests"
DATASET = "signal-reseau-corse-recharge-vehicule-electrique"


class Portal:
    """An Opendatasoft portal: v2.1 records, newest first, pages of ``limit``."""

    def __init__(self) -> None:
        self.signal_now = 1
        self.ahead: dict[int, int] = {}  # slots from the current one (0) on: their signal
        self.mode = "ok"  # ok, 429, html, 410, garbage, down
        self.requests: list[tuple[str, dict[str, str]]] = []
        now = datetime.now(UTC)
        self.first = now.replace(minute=now.minute - now.minute % 10, second=0,
                                 microsecond=0) - timedelta(hours=24)

    def slots(self) -> list[dict[str, Any]]:
        now = datetime.now(UTC)
        out = []
        for i in range(288):
            start = self.first + i * SLOT
            current = start <= now < start + SLOT
            signal = self.signal_now if current or start > now else 1
            k = (start - now.replace(minute=now.minute - now.minute % 10, second=0,
                                     microsecond=0)) // SLOT
            signal = self.ahead.get(k, signal)
            out.append({"date": start.astimezone(UTC).isoformat(), "signal": signal,
                        "etat_du_systeme_electrique_pour_la_recharge":
                            "Favorable" if signal else "Défavorable",
                        "puissance_maximale": 100 if signal else 50})
        return out


@pytest.fixture
def portal() -> Iterator[tuple[Portal, str]]:
    state = Portal()

    def answer(req: Request) -> Reply:
        state.requests.append((req.target, req.headers))
        if state.mode == "429":
            return 429, b'{"errorcode": "10002", "reset_time": "..."}', {"Retry-After": "120"}
        if state.mode == "html":
            return 200, b"<html><body>Portail</body></html>", {"Content-Type": "text/html"}
        if state.mode == "410":
            return 410, b"Gone", {}
        if state.mode == "garbage":
            return 200, b'{"results": [{"date": "yesterday", "signal": 7}]}', {}
        if req.headers.get("Authorization") != f"Apikey {KEY}":
            return 401, b'{"error_code": "Unauthorized"}', {}
        assert req.path == f"/api/explore/v2.1/catalog/datasets/{DATASET}/records"
        rows = sorted(state.slots(), key=lambda r: r["date"], reverse=True)
        offset, limit = int(req.query["offset"][0]), int(req.query["limit"][0])
        return 200, {"total_count": len(rows), "results": rows[offset:offset + limit]}, {}

    with serving(answer) as url:
        yield state, url


def test_the_client_reads_two_days_of_slots_with_its_key_in_a_header(
        portal: tuple[Portal, str]) -> None:
    state, url = portal
    cfg = ZniConfig(host=url, dataset=DATASET, api_key=KEY)
    slots = fetch(cfg)
    assert len(slots) == 288 and slots == sorted(slots, key=lambda s: s.start)
    assert {s.signal for s in slots} == {1}
    assert len(state.requests) == 3  # pages of 100: 100, 100, 88
    assert all(KEY not in path for path, _ in state.requests)  # never in a URL (logs)


@pytest.mark.parametrize(("mode", "error", "words"), [
    ("429", RateLimited, "quota is used up: retry in 120 s"),
    ("html", SignalError, "not JSON"),
    ("410", SignalError, "HTTP 410"),
    ("garbage", SignalError, "no record with a date and a signal 0 or 1"),
])
def test_the_portal_s_failures_are_errors_with_their_reason(
        portal: tuple[Portal, str], mode: str, error: type[Exception], words: str) -> None:
    state, url = portal
    state.mode = mode
    with pytest.raises(error) as caught:
        fetch(ZniConfig(host=url, dataset=DATASET, api_key=KEY))
    assert words in str(caught.value)
    if mode == "429":
        assert caught.value.retry_after_s == 120  # type: ignore[attr-defined]
    with pytest.raises(SignalError, match="HTTP 401"):
        state.mode = "ok"
        fetch(ZniConfig(host=url, dataset=DATASET, api_key="wrong"))


def _until(check: Callable[[], Any], timeout_s: float = 20) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got = check()
        if got:
            return got
        time.sleep(0.05)
    raise AssertionError("condition not met in time")



def _zni_hub(tmp_path: Path, url: str, extra: str = "") -> Hub:
    """The test hub following the portal's signal (CP1 rated 32 A; ``extra``: more of
    ``signals.zni``)."""
    more = (f"signals: {{zni: {{host: '{url}', dataset: {DATASET}, api_key: {KEY},"
            f" poll_s: 3600{', ' + extra if extra else ''}}}}}\n")
    (tmp_path / "hub.yaml").write_text(
        site(ems="cycle_s: 0.5, ", more=more).replace("{id: CP1}", "{id: CP1, max_current_a: 32}")
        % (tmp_path, "null"))
    return Hub(tmp_path)


def test_the_hub_halves_every_connector_in_unfavourable_slots(
        portal: tuple[Portal, str], tmp_path: Path) -> None:
    state, url = portal
    state.signal_now = 0
    hub = _zni_hub(tmp_path, url, "unfavourable_site_share: 0.5")
    try:
        runner = hub.charge_point("CP1")
        hub.charge_point("CP2")  # online without a car: nothing reserved for it
        assert runner.cp is not None
        hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="CAR"))

        def limit(cid: str) -> float | None:
            got = {c["id"]: c for c in hub.app.ems.record.get("connectors", [])}.get(cid)
            return None if got is None else got["limit_a"]
        # Unfavourable now: half of 32 A, and of CP2's rating, within a cycle of the fetch.
        _until(lambda: hub.app.signals.state["fetched_at"])
        _until(lambda: limit("CP1/1") is not None and limit("CP1/1") <= 16.0)
        cp2_rating = hub.config.charge_points()[1].max_current_a
        held = {(lim.target, lim.limit_a) for lim in hub.app.ems.external.in_force()
                if lim.source == "signal:zni"}
        # And the site's grid connection at half its 63 A: fewer cars at once.
        assert held == {("CP1/1", 16.0), ("CP2/1", round(cp2_rating / 2, 1)), ("grid", 31.5)}
        assert hub.get("/signals").json()["signal"] == 0
        # The slot in force is recorded for the Advenir evidence (signals/evidence.py).
        lines = _until(lambda: [line for line in hub.get("/signals/zni/evidence").text
                                .splitlines() if ",0,CP1/1," in line])
        assert len(lines) == 1
        # The car really draws it (the charge point applied the profile).
        _until(lambda: runner.cp.connectors[1].current_a <= 16.0 + 0.1)
        # Favourable again: lifted at the next fetch.
        state.signal_now = 1
        hub.call(hub.app.signals.poll())
        hub.loop.call_soon_threadsafe(hub.app.signals.apply)
        _until(lambda: (limit("CP1/1") or 0) > 16.0)
        assert not [lim for lim in hub.app.ems.external.in_force()
                    if lim.source == "signal:zni"]
        # Unfavourable again: the EMS's next cycle halves the car (cycle_s 0.5 s).
        state.signal_now = 0
        hub.call(hub.app.signals.poll())
        started = time.monotonic()
        hub.loop.call_soon_threadsafe(hub.app.signals.apply)
        _until(lambda: (limit("CP1/1") or 99) <= 16.0)
        assert time.monotonic() - started < 1.5
        state.signal_now = 1
        hub.call(hub.app.signals.poll())
        hub.loop.call_soon_threadsafe(hub.app.signals.apply)
        _until(lambda: (limit("CP1/1") or 0) > 16.0)
        # The portal gone and no slot known for now: the unfavourable case, and an alert.
        state.mode = "down"
        hub.app.signals.slots.clear()
        hub.loop.call_soon_threadsafe(hub.app.signals.apply)
        _until(lambda: (limit("CP1/1") or 99) <= 16.0)
        described = hub.get("/signals").json()
        assert described["known"] is False and described["signal"] == 0
        hub.call(hub.app.alerts.check())
        alerts = hub.get("/alerts", params={"active": "true"}).json()
        assert [a["kind"] for a in alerts] == ["signal_unknown"]
    finally:
        hub.stop()


def test_charge_points_follow_the_signal_ahead_with_the_hub_down(
        portal: tuple[Portal, str], tmp_path: Path) -> None:
    """The day-ahead unfavourable runs are pushed into each fallback profile: the hub dies,
    and an hour later the charge point halves its car by itself during the run, gives it
    its fallback again after, and past the last slot it knew, halves it for good (the
    unknown case). Played on the charge point's own clock, moved forward."""
    state, url = portal
    state.ahead = {k: 0 for k in range(6, 12)}  # unfavourable in 1 h, for 1 h
    hub = _zni_hub(tmp_path, url)
    stopped = False
    try:
        runner = hub.charge_point("CP1")
        hub.charge_point("CP2")  # online without a car: nothing reserved for it
        assert runner.cp is not None
        cp = runner.cp
        hub.call(cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="CAR"))

        def fallback_periods() -> list[dict[str, Any]]:
            profiles = [p for p in cp.profiles.get(1, [])
                        if field_of(p, "chargingProfilePurpose") == "TxDefaultProfile"
                        and field_of(p, "stackLevel") == 0]
            if not profiles:
                return []
            schedule = field_of(profiles[0], "chargingSchedule")
            return [{"limit": field_of(x, "limit")}
                    for x in field_of(schedule, "chargingSchedulePeriod")]
        # Its fallback (32 A: alone on the board), 16 A in the run, 32 A after it, and
        # 16 A past the day ahead.
        periods = _until(lambda: (lambda p: p if len(p) == 4 else None)(fallback_periods()))
        assert [p["limit"] for p in periods] == [32.0, 16.0, 32.0, 16.0], periods
        _until(lambda: cp.connectors[1].current_a >= 31.9)
        hub.call(hub.app.stop())  # the hub dies; the charge point goes on alone
        stopped = True
        for hours, expect in ((1.25, 16.0), (3.0, 32.0), (30.0, 16.0)):
            cp.clock.offset_s += hours * 3600
            _until(lambda e=expect: abs(cp.connectors[1].current_a - e) < 0.2, timeout_s=15)
            cp.clock.offset_s -= hours * 3600
    finally:
        if stopped:
            for r in hub.runners:
                hub.loop.call_soon_threadsafe(r.stop)
            hub.loop.call_soon_threadsafe(hub.loop.stop)
            hub.thread.join(10)
        else:
            hub.stop()
