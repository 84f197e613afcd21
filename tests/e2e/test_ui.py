"""The web interface in a real browser: Playwright for Python driving Debian's headless
Chromium against a whole hub with simulated charge points and cars."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub_engine.sim.ev import EV
from tests.e2e.pages import shot, sign_in
from tests.integration.api_fixtures import Hub


def test_live_dashboard_remote_stop_and_limits(hub: Hub, browser: Browser,
                                               tmp_path: Path) -> None:
    runner = hub.charge_point("CP1")
    hub.charge_point("CP2")
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, hub, "admin", hub.admin_password)
    row = page.locator("#conn-CP1-1")
    expect(row.locator(".status")).to_have_text("Available", timeout=15000)
    assert runner.cp is not None
    hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="BADGE7"))
    # No reload: the live stream brings the session in.
    expect(row.locator(".status")).to_have_text("Charging", timeout=20000)
    expect(row.locator(".session")).to_contain_text("BADGE7")
    expect(page.locator("#sessions-active")).to_have_text("1")
    shot(page, "dashboard", tmp_path)

    # A limit from the EMS page: the simulated charge point follows.
    page.get_by_role("link", name="EMS").click()
    page.get_by_label("Target").select_option("parking")
    page.get_by_label("Limit (A)").fill("10")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator("#limits")).to_contain_text("parking")
    shot(page, "ems", tmp_path)
    conn = runner.cp.connectors[1]  # the only car under the 10 A board now
    deadline = time.monotonic() + 20
    while abs(conn.applied_a - 10.0) > 0.05 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert conn.applied_a == pytest.approx(10.0, abs=0.05)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#conn-CP1-1 .limit")).to_have_text("10.0 A", timeout=15000)

    # Stop it remotely from the charge point's page.
    page.get_by_role("link", name="CP1/1").click()
    expect(page.locator("h1")).to_have_text("Charge point CP1")
    shot(page, "charge-point", tmp_path)
    page.locator("#stop-1").click()
    expect(page.locator("#command-result")).to_contain_text("accepted", timeout=15000)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#conn-CP1-1 .status")).not_to_have_text("Charging", timeout=15000)
    expect(page.locator("#sessions-active")).to_have_text("0")
    sessions = hub.get("/sessions", "reader").json()
    assert sessions[0]["stopped_at"] and sessions[0]["stop_reason"] == "Remote"
    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name=str(sessions[0]["id"]), exact=True).click()
    expect(page.locator("svg.chart")).to_be_visible()
    shot(page, "session", tmp_path)
    assert not errors, errors


def test_an_operator_is_refused_an_admin_page_and_language_switches(
        hub: Hub, browser: Browser, tmp_path: Path) -> None:
    hub.token("operator")  # creates the operator account
    page = browser.new_page()
    sign_in(page, hub, "operator", "operator-password-long")
    expect(page.locator("h1")).to_have_text("Dashboard")
    expect(page.get_by_role("link", name="Users")).to_be_hidden()  # hidden, and refused:
    page.evaluate("location.hash = '#/users'")  # typed into the address bar
    expect(page.locator("#forbidden")).to_be_visible()
    page.evaluate("location.hash = '#/'")
    page.locator("#lang").click()
    expect(page.locator("h1")).to_have_text("Tableau de bord")
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    expect(page.get_by_role("link", name="Gestion d'énergie")).to_be_visible()
    page.reload()  # the choice is kept
    expect(page.locator("h1")).to_have_text("Tableau de bord")


def test_the_dashboard_fits_a_phone(hub: Hub, browser: Browser, tmp_path: Path) -> None:
    hub.charge_point("CP1")
    page = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
    sign_in(page, hub, "admin", hub.admin_password)
    expect(page.locator("#connectors")).to_be_visible()
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"the page is {overflow} px wider than the phone"
    shot(page, "dashboard-phone", tmp_path)


def test_configuration_is_validated_and_kept_with_its_history(
        hub: Hub, browser: Browser, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    sign_in(page, hub, "admin", hub.admin_password)
    page.get_by_role("link", name="Configuration").click()
    area = page.locator("#config-text")
    expect(area).to_be_visible()
    good = area.input_value()
    assert "sites:" in good
    # Two mistakes: both are listed with their key paths, nothing is saved.
    two = good.replace("limit_a: 63", "limit_a: lots").replace("{id: CP2}", "{id: CP/2}")
    area.fill(two)
    page.locator("#config-save").click()
    expect(page.locator("#config-result")).to_have_text("Not saved: 2 error(s) to correct.")
    errors = page.locator("#config-error-list li")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("sites[0].grid.limit_a got 'lots', expected a number")
    expect(errors.nth(1)).to_contain_text("sites[0].grid.children[0].charge_points[1].id")
    page.locator("#lang").click()  # every sentence in French, the checker's and the domain's
    expect(page.locator("#config-save")).to_have_text("Valider et enregistrer")
    page.locator("#config-text").fill(two)
    page.locator("#config-save").click()
    expect(page.locator("#config-result")).to_have_text("Non enregistrée : 2 erreur(s) à corriger.")
    expect(errors.nth(0)).to_have_text("sites[0].grid.limit_a valeur 'lots', attendu : un nombre")
    expect(errors.nth(1)).to_have_text(
        "sites[0].grid.children[0].charge_points[1].id valeur 'CP/2', attendu : un identifiant "
        "non vide sans '/'")
    assert "\nems: {" in good
    page.locator("#config-text").fill(good.replace("\nems: {", "\nems: {reaction_window_s: 2, "))
    page.locator("#config-save").click()
    expect(page.locator("#config-error-list li")).to_contain_text(
        "ems.reaction_window_s 2 s est plus court que cycle_s + confirm_settle_s")
    page.locator("#lang").click()
    expect(page.locator("#config-save")).to_have_text("Validate and save")
    # A board rated above its parent is saved, with a warning.
    page.locator("#config-text").fill(good.replace("limit_a: 40", "limit_a: 70"))
    page.locator("#config-save").click()
    expect(page.locator("#config-result")).to_contain_text("Saved as version 1")
    expect(page.locator("#config-warnings")).to_contain_text(
        "sites[0].grid.children[0].limit_a 70 A is above its parent 'grid' (63 A)")
    # It waits for a restart, which this embedded engine cannot do by itself: said so.
    expect(page.locator("#restart-box")).to_be_visible()
    page.on("dialog", lambda d: d.accept())
    page.locator("#restart").click()
    expect(page.locator("#restart-result")).to_contain_text("cannot restart itself")
    history = hub.get("/config/history").json()
    assert len(history) == 1 and "limit_a: 70" in history[0]["text"]
    assert history[0]["author"] == "admin"
    assert "limit_a: 70" in (hub.data_dir / "hub.yaml").read_text()


def test_an_unknown_badge_is_enrolled_in_one_click_and_a_bad_csv_is_refused(
        browser: Browser, tmp_path: Path) -> None:
    from ocpp.v16 import call

    from tests.integration.test_access import SITE as ACCESS_SITE  # unknown badges refused

    hub = Hub(tmp_path, site=ACCESS_SITE)
    try:
        assert hub.send("PUT", "/members/apt-12", json={"credit_wh": 20000}).status_code == 200
        runner = hub.charge_point("CP1")
        assert runner.cp is not None
        cp = runner.cp

        async def present() -> str:
            resp = await cp.call(call.Authorize(id_tag="04A1B2C3"))
            return str(resp.id_tag_info["status"])
        assert hub.call(present()) == "Invalid"
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, hub, "admin", hub.admin_password)
        page.get_by_role("link", name="Members").click()
        expect(page.locator("#members")).to_contain_text("20.00 kWh")
        expect(page.locator("#unknown")).to_contain_text("04A1B2C3")
        page.locator("#enrol-04A1B2C3").click()  # one click (the only member is chosen)
        expect(page.locator("#badges")).to_contain_text("apt-12")
        expect(page.locator("#unknown")).to_have_count(0)  # no badge waits any more
        assert hub.call(present()) == "Accepted"
        shot(page, "badges", tmp_path)
        csv = tmp_path / "bad.csv"
        csv.write_text("member,id_tag,credit_wh\nbob,BOB1,lots\nbob,BOB2,1000\n")
        page.locator("#csv-file").set_input_files(str(csv))
        page.locator("#csv-import").click()
        expect(page.locator("#badges-result")).to_contain_text("line 2: credit_wh")
        assert [b["id_tag"] for b in hub.get("/badges").json()] == ["04A1B2C3"]
    finally:
        hub.stop()
