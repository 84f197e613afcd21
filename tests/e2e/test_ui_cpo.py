"""A technician at a relayed charge point's page, in headless Chromium: it says the
charge point is relayed to the CPO and whether that link is up, with what it owes."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, expect

from hub_engine.sim.cpo import SimCpo
from hub_engine.sim.ev import EV
from tests.conftest import free_port
from tests.e2e.pages import DESKTOP, hub_of, shot, sign_in, watch_errors
from tests.integration.test_cpo_relay import PASSWORD, SITE, _until


def test_the_cpo_link_on_the_charge_points_page(tmp_path: Path, browser: Browser) -> None:
    port = free_port()
    site = SITE.replace("CPO_PORT", str(port))
    cpo = SimCpo(port, PASSWORD)
    with hub_of(tmp_path, site=site) as hub:
        hub.call(cpo.start())
        try:
            cp = hub.charge_point("PUB1").cp
            assert cp is not None
            _until(lambda: hub.get("/cpo").json()[0]["online"], what="linked")
            page = browser.new_page(viewport=DESKTOP)
            errors = watch_errors(page)
            sign_in(page, hub, "admin", hub.admin_password)
            page.get_by_role("link", name="Charge points").click()
            page.get_by_role("link", name="PUB1", exact=True).click()
            expect(page.locator("#cp-cpo")).to_have_text("linked (0 message(s) owed)")
            hub.call(cpo.stop())
            hub.call(cp.plug(1, EV(max_current_a=16, ramp_s=0.2), id_tag="ANY"))
            _until(lambda: not hub.get("/cpo").json()[0]["online"], what="down")
            page.reload()
            expect(page.locator("#cp-cpo")).to_contain_text("unreachable:")
            # Its start (and meter values, the stop of a badge nobody knows offline) wait.
            expect(page.locator("#cp-cpo")).to_contain_text(re.compile(r"\([1-9][0-9]* message"))
            shot(page, "cp-cpo", tmp_path)
            # A local charge point's page says nothing of a CPO.
            page.goto(page.url.replace("PUB1", "STAFF1"))
            expect(page.locator("h1")).to_contain_text("STAFF1")
            expect(page.locator("#cp-cpo")).to_have_count(0)
            assert errors == []
        finally:
            hub.call(cpo.stop())
