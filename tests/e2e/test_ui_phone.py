"""Every page on a phone (390 px), in French: nothing wider than the screen (tables turn
into one card per row, each value with its column's name), the EMS tree readable, and
no frame drawn around the page's content when it takes the focus."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser, expect

from hub_engine.sim.ev import EV
from tests.e2e.pages import PHONE, shot, sign_in, watch_errors
from tests.integration.api_fixtures import Hub

PAGES = [("#/", "Tableau de bord"), ("#/cps", "Bornes"), ("#/cp/CP1", "Borne CP1"),
         ("#/sessions", "Sessions"), ("#/ems", "Gestion d'énergie"),
         ("#/members", "Membres et badges"), ("#/members/alice", "Membres et badges"),
         ("#/config", "Configuration"), ("#/users", "Utilisateurs et jetons d'API")]


def test_every_page_fits_a_phone_in_french(hub: Hub, browser: Browser, tmp_path: Path) -> None:
    assert hub.send("PUT", "/members/alice", json={
        "credit_wh": 20000, "windows_text": "lun-ven 7h-19h"}).status_code == 200
    assert hub.send("PUT", "/badges/ALICE-LONG-BADGE-01", json={
        "member": "alice", "label": "voiture de service"}).status_code == 200
    runner = hub.charge_point("CP1")
    hub.charge_point("CP2")
    assert runner.cp is not None
    hub.call(runner.cp.plug(1, EV(max_current_a=32, ramp_s=0.5), id_tag="ALICE-LONG-BADGE-01"))
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password, lang="fr")
    expect(page.locator("#conn-CP1-1 .status")).to_have_text("En charge", timeout=20000)
    for hash_, title in PAGES:
        page.evaluate(f"location.hash = '{hash_}'")
        expect(page.locator("h1").first).to_have_text(title)
        page.wait_for_timeout(300)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 0, f"{hash_}: the page is {overflow} px wider than the phone"
        cut = page.evaluate("""() => [...document.querySelectorAll('main td, main th')]
            .filter(c => c.offsetParent && c.getBoundingClientRect().right > innerWidth + 1)
            .map(c => c.textContent.slice(0, 30))""")
        assert not cut, f"{hash_}: cells cut at the right edge: {cut}"
        # The page's content takes the focus (screen readers start there), unframed.
        assert page.evaluate("document.activeElement.id") == "main"
        assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") == "none"
        shot(page, "phone" + hash_.replace("#/", "-").replace("/", "-"), tmp_path)
    # The EMS tree on a phone: each board a card, each value with its column's name.
    page.evaluate("location.hash = '#/ems'")
    cell = page.locator("#node-parking td.limit")
    expect(cell).to_have_attribute("data-label", "Limite en vigueur")
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert not errors, errors
