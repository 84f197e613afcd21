"""The dashboard tells the truth, in a real browser: a car the EMS holds at 0 A reads
"Paused by the EMS" with the reason, the site shows the limit in force (not the rating)
and who set it, the counts per state, power now and energy today, a fault with its OCPP
and vendor codes; in English and in French."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub_engine.api import routes_live
from hub_engine.sim.ev import EV
from tests.e2e.pages import DESKTOP, hub_of, shot, sign_in, watch_errors
from tests.integration.api_fixtures import SITE, Hub
from tests.integration.http_stub import serving
from tests.integration.openmeteo_stub import Sky, pv_site

THREE = SITE.replace("charge_points: [{id: CP1}, {id: CP2}]",
                     "charge_points: [{id: CP1}, {id: CP2}, {id: CP3}]")


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Hub]:
    monkeypatch.setattr(routes_live, "TODAY_PERIOD_S", 0.0)  # energy today re-read each time
    with hub_of(tmp_path, site=THREE) as running:
        yield running


def _limit(hub: Hub, target: str, limit_a: float) -> None:
    expires = datetime.now(UTC) + timedelta(hours=1)
    resp = hub.send("PUT", "/ems/limits", "operator", json={
        "target": target, "limit_a": limit_a, "expires_at": expires.isoformat()})
    assert resp.status_code == 200, resp.text


def test_paused_cars_limit_in_force_counts_and_faults(hub: Hub, browser: Browser,
                                                      tmp_path: Path) -> None:
    cps = [hub.charge_point(cp) for cp in ("CP1", "CP2", "CP3")]
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    for runner in cps:
        expect(page.locator(f"#conn-{runner.config.id}-1 .status")).to_have_text(
            "Available", timeout=15000)
    # 8 A on the parking board: room for one car at its 6 A minimum, not two.
    _limit(hub, "parking", 8)
    _limit(hub, "grid", 50)  # the site's own limit lowered below its 63 A rating
    for n, runner in enumerate(cps[:2]):
        assert runner.cp is not None
        hub.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag=f"CAR{n}"))
    assert cps[2].cp is not None
    hub.call(cps[2].cp.fault(1, "GroundFailure", vendor_error_code="E-042",
                             info="RCD tripped"))

    rows = [page.locator(f"#conn-CP{k}-1") for k in (1, 2)]
    paused = page.locator("tr.row-paused")
    expect(paused).to_have_count(1, timeout=20000)
    expect(paused.locator(".status")).to_contain_text("Paused by the EMS")
    expect(paused.locator(".reason")).to_have_text("not enough power for the minimum current")
    expect(page.locator("tr.row-charging .status")).to_contain_text("Charging")
    assert {rows[0].get_attribute("class"), rows[1].get_attribute("class")} == {
        "row-paused", "row-charging"}
    counts = page.locator("#counts-s1")
    for state, n in (("charging", 1), ("paused", 1), ("free", 0), ("faulted", 1)):
        expect(counts.locator(f"[data-count={state}] strong")).to_have_text(str(n))
    expect(page.locator("#limit-s1")).to_contain_text(
        "Limit in force: 50.0 A per phase, lowered from the rating 63.0 A")
    expect(page.locator("#limit-s1")).to_contain_text("set by api:operator (50.0 A)")
    # The bars are drawn against the limit in force, not the rating.
    expect(page.locator("#site-s1 .phase .num").first).to_contain_text("/ 50.0 A")
    fault = page.locator("#conn-CP3-1 .fault")
    expect(fault).to_contain_text("ground failure (GroundFailure)")
    expect(fault).to_contain_text("vendor code E-042")
    expect(fault).to_contain_text("RCD tripped")
    expect(page.locator("#conn-CP3-1 .status")).to_have_text("Faulted")
    expect(page.locator("#charging-now strong")).to_have_text(re.compile(r"^[1-9][\d.]* kW$"),
                                                               timeout=15000)
    expect(page.locator("#energy-today strong")).to_have_text(
        re.compile(r"^0\.0[1-9] kWh|^0\.[1-9]\d kWh"), timeout=30000)
    shot(page, "dashboard-truth", tmp_path)

    # The same truth in French, numbers written the French way.
    page.locator("#lang").click()
    expect(paused.locator(".status")).to_contain_text("En pause (gestion d'énergie)")
    expect(paused.locator(".reason")).to_have_text("pas assez de puissance pour le courant minimal")
    expect(page.locator("#limit-s1")).to_contain_text(
        "Limite en vigueur : 50,0 A par phase, abaissée depuis le calibre 63,0 A")
    expect(fault).to_contain_text("défaut de terre (GroundFailure)")
    expect(fault).to_contain_text("code constructeur E-042")
    shot(page, "dashboard-truth-fr", tmp_path)

    # The API says the same (the GTB table and MQTT export read it).
    live = hub.get("/live", "reader").json()
    site = live["sites"][0]
    assert site["limit_a"] == 50 and site["rating_a"] == 63
    assert site["counts"]["paused"] == 1 and site["counts"]["faulted"] == 1
    assert site["energy_today_wh"] > 0
    cp3 = next(c for c in live["connectors"] if c["id"] == "CP3/1")
    assert cp3["fault"] == {"error_code": "GroundFailure", "info": "RCD tripped",
                            "vendor_error_code": "E-042"}
    assert not errors, errors


def test_grid_signals_in_force_are_said_on_the_dashboard(hub: Hub, browser: Browser,
                                                         tmp_path: Path) -> None:
    """What a ZNI unfavourable slot and a Tempo red day do, in words, with their end."""
    from hub_engine.ems.external import LimitRequest

    until = (datetime.now(UTC) + timedelta(minutes=40)).replace(second=0, microsecond=0)

    def put() -> None:
        hub.app.ems.external.set(LimitRequest(target="CP1/1", source="signal:zni",
                                              expires_at=until, limit_a=16.0))
        hub.app.ems.external.set(LimitRequest(target="grid", source="signal:tempo",
                                              expires_at=until, limit_a=0.0))
        hub.app.ems.wake()
    hub.loop.call_soon_threadsafe(put)
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password, lang="fr")
    local = until.astimezone().strftime("%H:%M")
    expect(page.locator("#signal-zni")).to_have_text(
        f"Signal réseau EDF-SEI défavorable : chaque borne à mi-puissance (ici 16,0 A) "
        f"jusqu'à {local}.")
    expect(page.locator("#signal-tempo")).to_contain_text("le site est limité à 0,0 A")
    page.locator("#lang").click()
    expect(page.locator("#signal-tempo")).to_contain_text(  # 12-hour clock in English
        "Tempo day: the site is limited to 0.0 A until")
    shot(page, "signals", tmp_path)
    assert errors == []


@pytest.fixture
def sunny(tmp_path: Path) -> Iterator[Hub]:
    """The site with the office's 36 kWp and a clear-sky forecast from a local stand-in."""
    with serving(Sky()) as url, hub_of(tmp_path, site=pv_site(THREE, url)) as running:
        yield running


def test_a_solar_session_says_what_it_waits_for(sunny: Hub, browser: Browser) -> None:
    """A visitor's badge in ``surplus`` on a site whose grid has no meter: the export is
    unknown, so the car waits for the sun, and the dashboard says so and why; the panels'
    forecast is on the site's card."""
    hub = sunny
    runner = hub.charge_point("CP1")
    assert hub.send("PUT", "/members/visitor", "operator",
                    json={"solar_mode": "surplus"}).status_code == 200
    assert hub.send("PUT", "/badges/SUN1", "operator",
                    json={"member": "visitor"}).status_code == 200
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    expect(page.locator("#conn-CP1-1 .status")).to_have_text("Available", timeout=15000)
    assert runner.cp is not None
    hub.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="SUN1"))
    expect(page.locator("#conn-CP1-1 .reason.solar")).to_have_text(
        "surplus only · waiting for the sun", timeout=15000)
    expect(page.locator("#solar-s1")).to_have_text(
        "Solar charging · export unknown (grid meter)")
    expect(page.locator("#conn-CP1-1 .limit")).to_have_text("0.0 A")
    expect(page.locator("#pv-s1")).to_contain_text("PV 36.0 kWp: — measured,", timeout=15000)
    expect(page.locator("#pv-s1")).to_contain_text(" kW forecast now, ")
    page.locator("#lang").click()
    expect(page.locator("#conn-CP1-1 .reason.solar")).to_have_text(
        "surplus seul · en attente du soleil")
    live = hub.get("/live", "reader").json()
    cp1 = next(c for c in live["connectors"] if c["id"] == "CP1/1")
    assert cp1["solar"]["mode"] == "surplus" and cp1["solar"]["on"] is False
    assert live["sites"][0]["solar"] == {"mode": "off", "grid_w": None, "surplus_w": None,
                                         "battery": None}
    assert not errors, errors


def test_a_departure_plan_is_shown_with_its_reason(hub: Hub, browser: Browser) -> None:
    runner = hub.charge_point("CP1")
    other = hub.charge_point("CP2")
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    assert runner.cp is not None and other.cp is not None
    tx = hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="VAN1"))
    hub.call(other.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="VAN2"))
    leaves = datetime.now(UTC) + timedelta(hours=1)
    resp = hub.send("PUT", f"/sessions/{tx}/plan", "operator",
                    json={"departure": leaves.isoformat(), "energy_wh": 17_000})
    assert resp.status_code == 200, resp.text
    row = page.locator("#conn-CP1-1")
    expect(row.locator(".reason.plan")).to_contain_text("leaves ", timeout=15000)
    expect(row.locator(".reason.plan")).to_contain_text("needs 17.00 kWh")
    expect(row.locator(".status .reason")).to_have_text("its departure plan first",
                                                        timeout=15000)
    page.locator("#lang").click()
    expect(row.locator(".reason.plan")).to_contain_text("besoin de 17,00 kWh")
    expect(row.locator(".status .reason")).to_have_text("son plan de départ d'abord")
    assert not errors, errors
