"""A technician at the page, in headless Chromium: asks a charge point for its
diagnostics, watches the upload through the hub's FTP server arrive and downloads the
file; an operator does not see the section (admin only), in French too."""

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
