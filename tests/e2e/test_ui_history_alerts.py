"""History, alerts and the system page, done at the page as people do them: the operator
reads a month of energy per charge point and takes the Excel file, sees a fault alert in
the menu and acknowledges it (in French); the administrator backs up now, sends a test
e-mail and a report (received by a real SMTP server), and reads it all on a phone."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from playwright.sync_api import Browser, expect

from hub_engine.clock import iso_utc
from tests.e2e.pages import DESKTOP, PHONE, shot, sign_in, watch_errors
from tests.integration.api_fixtures import Hub, site
from tests.integration.smtp_fixtures import Smtp, smtp_server


@pytest.fixture
def mailed(tmp_path: Path) -> Iterator[tuple[Hub, Smtp]]:
    with smtp_server(tmp_path) as smtp:
        more = (smtp.config() + f"store: {{backup_dir: {tmp_path / 'usb'}}}\n"
                "alerts: {check_interval_s: 3600, email_to: [ops@site.example]}\n"
                "reports: {to: [boss@site.example]}\n")
        (tmp_path / "hub.yaml").write_text(site(more=more) % (tmp_path, "null"))
        hub = Hub(tmp_path)
        try:
            yield hub, smtp
        finally:
            hub.stop()


def _sessions(hub: Hub) -> None:
    now = datetime.now(UTC).replace(hour=10, minute=0, second=0, microsecond=0)
    rows: list[list[Any]] = [[f"CP{1 + k % 2}", "AAA1", iso_utc(now - timedelta(days=k + 1)),
                              iso_utc(now - timedelta(days=k + 1, hours=-2)), 5000 + 1000 * k]
                             for k in range(6)]

    def job(db: Any) -> None:
        db.conn.executemany(
            "INSERT INTO transactions (charge_point_id, connector_id, id_tag, meter_start_wh,"
            " started_at, stopped_at, energy_wh) VALUES (?, 1, ?, 0, ?, ?, ?)", rows)
    hub.app.store.core.submit(job).result(30)


def test_history_alerts_backups_mail_and_reports_at_the_page(
        mailed: tuple[Hub, Smtp], browser: Browser, tmp_path: Path) -> None:
    hub, smtp = mailed
    _sessions(hub)
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    errors = watch_errors(page)
    hub.token("operator")  # the operator's account
    sign_in(page, hub, "operator", "operator-password-long")
    # History: a month of energy per charge point, then the Excel file of it.
    page.get_by_role("link", name="History").click()
    expect(page.locator("#history-chart")).to_be_visible()
    page.locator("#h-by").select_option("charge_point")
    page.locator("#h-period").select_option("all")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("#history-table tbody tr")
    expect(rows).to_have_count(2)
    expect(page.locator("#history-totals")).to_contain_text("6 sessions")
    expect(page.locator("#history-totals")).to_contain_text("45.00 kWh")
    expect(rows.nth(0)).to_contain_text("CP1")
    expect(rows.nth(0)).to_contain_text("21.00 kWh")  # 5 + 7 + 9
    shot(page, "history", tmp_path)
    with page.expect_download() as got:
        page.locator("#history-xlsx").click()
    book = openpyxl.load_workbook(io.BytesIO(Path(got.value.path()).read_bytes()))
    assert dict(book["Summary"].values)["Energy (kWh)"] == 45.0
    # A fault: raised, counted in the menu, acknowledged by the operator in French.
    runner = hub.charge_point("CP1")
    assert runner.cp is not None
    hub.call(runner.cp.fault(1, "GroundFailure", vendor_error_code="E-042"))
    deadline = time.monotonic() + 20
    while hub.app.ems.ports()["CP1/1"].state().status != "Faulted":
        assert time.monotonic() < deadline
        time.sleep(0.1)
    hub.call(hub.app.alerts.check())
    page.locator("#lang").click()
    page.get_by_role("link", name="Alertes").click()
    expect(page.locator("#alert-count")).to_have_text("1")
    expect(page.locator("#alert-count")).to_have_class("count critical")
    first = page.locator("#alerts-active tbody tr").first
    expect(first).to_contain_text("CP1/1 : défaut GroundFailure (code constructeur E-042)")
    expect(first).to_contain_text("critique")
    first.get_by_role("button", name="Acquitter").click()
    expect(page.locator("#alerts-result")).to_contain_text("acquittée")
    expect(page.locator("#alerts-active tbody tr").first).to_contain_text("par operator")
    shot(page, "alerts-fr", tmp_path)
    page.locator("#lang").click()
    page.get_by_role("button", name="Sign out").click()
    # The administrator: a backup now, a test e-mail, last week's report.
    sign_in(page, hub, "admin", hub.admin_password)
    page.get_by_role("link", name="System").click()
    expect(page.locator("#backups")).to_contain_text("into")
    page.locator("#backup-now").click()
    expect(page.locator("#backup-result")).to_contain_text("Backup written and verified",
                                                           timeout=30000)
    expect(page.locator("#backup-list tbody tr")).to_have_count(1)
    expect(page.locator("#backup-last")).to_contain_text("verified")
    page.locator("#mail-to").fill("me@site.example")
    page.get_by_role("button", name="Send a test e-mail").click()
    expect(page.locator("#mail-result")).to_have_text("Sent: check the inbox.")
    assert any(m["To"] == "me@site.example" for m in smtp.received)
    page.locator("#report-week").click()
    expect(page.locator("#report-result")).to_contain_text("sent to boss@site.example")
    deadline = time.monotonic() + 20
    while not any(m["To"] == "boss@site.example" for m in smtp.received):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    expect(page.locator("#mail-settings")).not_to_contain_text("mail-password-for-tests")
    shot(page, "system", tmp_path)
    # A phone: the same pages, no cut column.
    page.set_viewport_size(PHONE)
    for link, table in (("History", "#history-table"), ("Alerts", "#alerts-active")):
        page.goto(hub.url.replace("/api/v1", f"/#/{link.lower()}"))
        expect(page.locator(table)).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE["width"], (link, width)
    shot(page, "alerts-phone", tmp_path)
    assert errors == []
