"""A technician at the page, in headless Chromium: asks a charge point for its
diagnostics, watches the upload through the hub's FTP server arrive and downloads the
file; uploads a firmware file and follows a campaign to its end. An operator (in French)
follows, and is offered neither (admin only)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.e2e.pages import DESKTOP, hub_of, shot, sign_in, watch_errors
from tests.integration.api_fixtures import Hub, site

FTP = "maintenance: {ftp: {enabled: true, host: 127.0.0.1, port: 0}}\n"


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with hub_of(tmp_path, site=site(more=FTP)) as running:
        yield running


def test_diagnostics_asked_followed_and_downloaded(hub: Hub, browser: Browser,
                                                    tmp_path: Path) -> None:
    hub.charge_point("CP1")
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    page.get_by_role("link", name="Charge points").click()
    page.get_by_role("link", name="CP1", exact=True).click()
    expect(page.locator("#cp-diagnostics")).to_contain_text("No diagnostics asked yet.")
    page.locator("#diag-ask").click()
    expect(page.locator("#diag-result")).to_contain_text("Asked: accepted")
    row = page.locator("#cp-diag tbody tr").first
    expect(row.locator(".status")).to_have_text("received", timeout=20000)
    expect(row).to_contain_text("CP1-diagnostics.log")
    expect(row).to_contain_text("4.0 kB")
    shot(page, "cp-diagnostics", tmp_path)
    with page.expect_download() as got:
        row.get_by_role("button", name="Download").click()
    data = Path(got.value.path()).read_bytes()
    assert len(data) == 4096 and b"CP1 connector 1" in data
    assert got.value.suggested_filename == "CP1-CP1-diagnostics.log"
    assert errors == []

    # An operator (French): the charge point's page, without the diagnostics.
    hub.token("operator")  # made through the API
    other = browser.new_page(viewport=DESKTOP)
    sign_in(other, hub, "operator", "operator-password-long", lang="fr")
    other.get_by_role("link", name="Bornes").click()
    other.get_by_role("link", name="CP1", exact=True).click()
    expect(other.locator("h1")).to_contain_text("CP1")
    expect(other.locator("#cp-diagnostics")).to_have_count(0)


def test_a_firmware_file_uploaded_and_a_campaign_followed_to_the_end(
        hub: Hub, browser: Browser, tmp_path: Path) -> None:
    cp1 = hub.charge_point("CP1")
    hub.charge_point("CP2")
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    page.get_by_role("link", name="Maintenance").click()
    expect(page.locator("h1")).to_have_text("Maintenance")
    page.locator("#fw-upload input[type=file]").set_input_files(
        files=[{"name": "sim-3.0.bin", "mimeType": "application/octet-stream",
                "buffer": b"\x7fFW" * 20_000}])
    page.locator("#fw-upload button").click()
    expect(page.locator("#fw-result")).to_contain_text("sim-3.0.bin kept")
    expect(page.locator("#fw-files")).to_contain_text("58.6 kB")
    form = page.locator("#fw-campaign")
    form.locator("select[name=how]").select_option("node")
    form.locator("input[name=what]").fill("parking")
    form.locator("input[name=concurrency]").fill("1")
    form.locator("button[type=submit]").click()
    expect(page.locator("#fw-result")).to_contain_text("started for 2 charge point(s)")
    campaign = page.locator("section.campaign").first
    expect(campaign.locator(".badge")).to_have_text("done", timeout=30000)
    expect(campaign.locator(".summary")).to_contain_text("installed 2")
    expect(campaign.locator("tr", has_text="CP1")).to_contain_text("sim-3.0.bin")
    shot(page, "maintenance-campaign", tmp_path)
    assert cp1.cp is not None and cp1.cp.firmware_installed == [("sim-3.0.bin", 60_000)]
    assert errors == []

    # An operator (French) follows the campaigns, starts none.
    hub.token("operator")
    other = browser.new_page(viewport=DESKTOP)
    sign_in(other, hub, "operator", "operator-password-long", lang="fr")
    other.get_by_role("link", name="Maintenance").click()
    expect(other.locator("section.campaign .badge").first).to_have_text("terminée")
    expect(other.locator("#fw-campaign")).to_have_count(0)
    expect(other.locator("#fw-upload")).to_have_count(0)


def test_configuration_keys_compared_and_changed_on_a_model(hub: Hub, browser: Browser,
                                                            tmp_path: Path) -> None:
    hub.charge_point("CP1")
    cp2 = hub.charge_point("CP2")
    assert cp2.cp is not None
    cp2.cp.config_rejects.add("ConnectionTimeOut")
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    page.get_by_role("link", name="Maintenance").click()
    form = page.locator("#cfg-form")
    form.locator("select[name=how]").select_option("model")
    form.locator("input[name=what]").fill("SIM-1")
    form.get_by_role("button", name="Compare").click()
    row = page.locator("#cfg-ConnectionTimeOut")
    expect(row).to_contain_text("60")
    expect(page.locator("#cfg-keys thead")).to_contain_text("CP2")
    change = page.locator("#cfg-change")
    change.locator("input[name=key]").fill("ConnectionTimeOut")
    change.locator("input[name=value]").fill("90")
    change.get_by_role("button", name="Change on all").click()
    expect(page.locator("#cfg-result")).to_have_text("CP1: Accepted · CP2: Rejected")
    expect(row).to_have_class("differs")  # the first rows: those that differ
    expect(row.locator("td").nth(1)).to_have_text("90")
    expect(row.locator("td").nth(2)).to_have_text("60")
    shot(page, "maintenance-config", tmp_path)
    assert errors == []
