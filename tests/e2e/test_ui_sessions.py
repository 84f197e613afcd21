"""Sessions and history at the page: a date range, a charge point, a badge or a member;
pages of 50 with the totals of everything selected; the CSV a French spreadsheet opens
(local times, kWh with a decimal comma); a session's curve in kW over local time."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect

from hub_engine.clock import iso_utc
from hub_engine.sim.ev import EV
from tests.e2e.pages import DESKTOP, shot, sign_in, watch_errors
from tests.integration.api_fixtures import Hub

TODAY = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
DAYS = [(TODAY - timedelta(days=2), "BOB1", 20), (TODAY - timedelta(days=1), "ALI1", 30),
        (TODAY - timedelta(days=3), "BOB1", 20)]


def _history(hub: Hub) -> None:
    """70 past sessions of 1 kWh each, minutes apart, around noon (UTC) of three days."""
    rows: list[list[Any]] = []
    for day, tag, n in DAYS:
        for k in range(n):
            start = day + timedelta(minutes=5 * k)
            rows.append([f"CP{1 + k % 2}", 1, tag, 1000 * k, iso_utc(start),
                         1000 * k + 1000, iso_utc(start + timedelta(minutes=4)), "Local", 1000])

    def job(db: Any) -> None:
        db.conn.executemany(
            "INSERT INTO transactions (charge_point_id, connector_id, id_tag, meter_start_wh,"
            " started_at, meter_stop_wh, stopped_at, stop_reason, energy_wh)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    hub.app.store.core.submit(job).result(30)


def _filter(page: Page, **fields: str) -> None:
    for name in ("from", "to", "charge_point", "id_tag", "member"):
        page.locator(f"#f-{name}").fill(fields.get(name, ""))
    page.get_by_role("button", name="Filter").click()


def test_find_sessions_page_through_export_and_see_a_curve(hub: Hub, browser: Browser,
                                                           tmp_path: Path) -> None:
    for name, tag in (("bob", "BOB1"), ("alice", "ALI1")):
        assert hub.send("PUT", f"/members/{name}", json={}).status_code == 200
        assert hub.send("PUT", f"/badges/{tag}", json={"member": name}).status_code == 200
    _history(hub)
    runner = hub.charge_point("CP1")  # one real session with its meter values
    assert runner.cp is not None
    hub.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="BOB1"))
    page = browser.new_page(viewport=DESKTOP, timezone_id="Europe/Paris",
                            accept_downloads=True)
    errors = watch_errors(page)
    sign_in(page, hub, "admin", hub.admin_password)
    page.wait_for_timeout(6000)  # a few meter values
    hub.call(runner.cp.unplug(1))

    page.get_by_role("link", name="Sessions").click()
    totals = page.locator("#sessions-totals")
    expect(totals).to_have_text(re.compile(r"^71 sessions · 70\.\d\d kWh · 0 running$"))
    expect(page.locator("#page-info")).to_have_text("1–50 of 71")
    expect(page.locator("#sessions tbody tr")).to_have_count(50)
    page.locator("#page-next").click()
    expect(page.locator("#page-info")).to_have_text("51–71 of 71")
    expect(page.locator("#sessions tbody tr")).to_have_count(21)
    expect(page.locator("#page-next")).to_be_disabled()

    _filter(page, member="alice")
    expect(totals).to_have_text("30 sessions · 30.00 kWh · 0 running")
    expect(page.locator("#sessions tbody tr").first).to_contain_text("alice")
    _filter(page, id_tag="bob1")  # badges compare case-insensitively
    expect(totals).to_have_text(re.compile(r"^41 sessions · 40\.\d\d kWh · 0 running$"))
    day = (TODAY - timedelta(days=2)).date().isoformat()
    _filter(page, **{"from": day, "to": day})
    expect(totals).to_have_text("20 sessions · 20.00 kWh · 0 running")
    _filter(page, **{"from": day, "to": day, "charge_point": "CP2"})
    expect(totals).to_have_text("10 sessions · 10.00 kWh · 0 running")
    shot(page, "sessions-filtered", tmp_path)

    # The CSV of what is selected, as a French spreadsheet reads it.
    page.locator("#lang").click()
    expect(page.locator("#sessions-csv")).to_have_text("Exporter en CSV")
    _filter_fr(page, day)
    with page.expect_download() as got:
        page.locator("#sessions-csv").click()
    text = Path(got.value.path()).read_text(encoding="utf-8-sig")
    lines = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert lines[0][:5] == ["session", "charge_point", "connector", "badge", "member"]
    assert len(lines) == 1 + 10
    assert all(row[7] == "1,000" and row[4] == "bob" for row in lines[1:])
    paris_noon = (TODAY - timedelta(days=2)).astimezone(ZoneInfo("Europe/Paris"))
    assert lines[1][5].startswith(paris_noon.strftime("%Y-%m-%d %H:"))  # local time

    # The real session: its curve in kW over local time, its energy.
    page.locator("#lang").click()
    _filter(page, id_tag="BOB1", **{"from": TODAY.date().isoformat()})
    expect(totals).to_contain_text("1 sessions")
    page.locator("#sessions tbody a").first.click()
    expect(page.locator("svg.chart")).to_be_visible()
    expect(page.locator("figcaption")).to_contain_text("power (kW) · local time")
    expect(page.locator("svg.chart text").first).to_have_text("0")
    assert page.locator("svg.chart text", has_text=":").count() >= 4  # hh:mm ticks
    expect(page.locator("#session-energy")).to_contain_text("kWh")
    shot(page, "session-curve", tmp_path)
    assert not errors, errors


def _filter_fr(page: Page, day: str) -> None:
    page.locator("#f-from").fill(day)
    page.locator("#f-to").fill(day)
    page.locator("#f-charge_point").fill("CP2")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.locator("#sessions-totals")).to_have_text("10 sessions · 10,00 kWh · 0 en cours")


def test_an_operator_gives_a_running_session_its_departure_plan(hub: Hub,
                                                                browser: Browser) -> None:
    runner = hub.charge_point("CP1")
    assert runner.cp is not None
    tx = hub.call(runner.cp.plug(1, EV(max_current_a=16, ramp_s=0.5), id_tag="VAN1"))
    hub.token("operator")
    page = browser.new_page(viewport=DESKTOP)
    errors = watch_errors(page)
    sign_in(page, hub, "operator", "operator-password-long")
    page.goto(page.url.split("#")[0] + f"#/sessions/{tx}")
    # Tomorrow 06:30 in the browser's own time, whatever its zone.
    typed = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT06:30")
    leaves = datetime.fromisoformat(
        page.evaluate(f"new Date('{typed}').toISOString()").replace("Z", "+00:00"))
    page.locator("#plan-departure").fill(typed)
    page.locator("#plan-need").fill("40")
    page.locator("#plan-save").click()
    expect(page.locator("#session-plan")).to_contain_text("needs 40.00 kWh (api:operator)")
    plan = hub.get(f"/sessions/{tx}", "reader").json()["plan"]
    assert plan["energy_wh"] == 40_000
    assert datetime.fromisoformat(plan["departure"].replace("Z", "+00:00")) == leaves
    page.locator("#plan-need").fill("-3")
    page.locator("#plan-save").click()
    expect(page.locator("#plan-result")).to_contain_text("energy_wh")
    page.locator("#plan-clear").click()
    expect(page.locator("#session-plan")).to_have_count(0)
    assert hub.get(f"/sessions/{tx}", "reader").json()["plan"] is None
    assert not errors, errors
