"""An installer and an operator at the page: a charge point that asks to join approved in
one click (it is accepted in seconds), a session started remotely for a badge, a
reservation made and cancelled (refused in words where a car is), the local CA
downloaded, the meter's health (values, age, errors) on the EMS page — all against
simulated charge points and a Modbus meter."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.modbus_meter import MeterReading, ModbusMeterServer
from hub_engine.sim.runner import SimRunner
from tests.conftest import free_port
from tests.e2e.pages import DESKTOP, PHONE, hub_of, shot, sign_in, watch_errors
from tests.integration.api_fixtures import SITE, Hub

METER_PORT = free_port()
METERED = SITE.replace("      id: grid\n", "      id: grid\n      meter: tgbt\n").replace(
    "sites:", "meters:\n  - {id: tgbt, driver: modbus, options: {host: 127.0.0.1, port: "
    f"{METER_PORT}, template: sdm630, poll_interval_s: 0.5, timeout_s: 0.5}}}}\nsites:")


def _reading() -> MeterReading:
    return MeterReading((231.0, 230.0, 229.0), (12.0, 11.0, 10.0), (2700.0, 2500.0, 2300.0),
                        1_234_000.0, 0.0)


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    with hub_of(tmp_path, https=True, site=METERED) as running:  # HTTPS: the hub makes its local CA
        yield running


def test_approve_remote_start_reserve_ca_and_device_health(hub: Hub, browser: Browser,
                                                           tmp_path: Path) -> None:
    meter = ModbusMeterServer(_reading, port=METER_PORT)
    hub.call(meter.start())
    cp1 = hub.charge_point("CP1")
    hub.charge_point("CP2")
    stranger = SimRunner(SimConfig("CP9", meter_interval_s=1.0),
                         f"ws://127.0.0.1:{hub.app.ocpp.ports['ws']}", tick_s=0.5)
    hub.runners.append(stranger)
    hub.loop.call_soon_threadsafe(lambda: hub.loop.create_task(stranger.run()))
    page = browser.new_page(viewport=DESKTOP, accept_downloads=True)
    errors = watch_errors(page)
    page.on("dialog", lambda d: d.accept())
    sign_in(page, hub, "admin", hub.admin_password)

    # CP9 is not in the configuration: it waits; one click lets it in, at once.
    page.get_by_role("link", name="Charge points").click()
    row = page.locator("#cp-CP9")
    expect(row.locator(".registration")).to_contain_text("waiting for approval", timeout=15000)
    expect(page.locator("#cps-pending")).to_contain_text("1 charge point(s) ask to join")
    shot(page, "charge-points-pending", tmp_path)
    page.locator("#approve-CP9").click()
    expect(page.locator("#cps-result")).to_contain_text("CP9 approved")
    expect(row.locator(".registration")).to_contain_text("accepted")
    assert stranger.cp is not None
    hub.call(_wait(stranger.cp.accepted), timeout_s=20)  # within seconds, not its 60 s retry

    # The local CA for wss charge points.
    with page.expect_download() as got:
        page.locator("#ca-download").click()
    pem = Path(got.value.path()).read_text()
    assert pem.startswith("-----BEGIN CERTIFICATE-----")
    assert got.value.suggested_filename == "hub-ca.pem"

    # A car waits at CP1 without a badge: the operator starts it for badge REMOTE1.
    assert cp1.cp is not None
    hub.call(cp1.cp.arrive(1, EV(max_current_a=16, ramp_s=0.5)))
    page.get_by_role("link", name="CP1", exact=True).click()
    expect(page.locator("h1")).to_have_text("Charge point CP1")
    page.locator("#start-badge").fill("REMOTE1")
    page.get_by_role("button", name="Start a session").click()
    expect(page.locator("#command-result")).to_have_text(
        "Start a session: accepted by the charge point (Accepted)", timeout=15000)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#conn-CP1-1 .session")).to_contain_text("REMOTE1", timeout=15000)
    assert hub.get("/sessions?active=true").json()[0]["id_tag"] == "REMOTE1"

    # Reservations: refused in words where a car is, accepted (with its number) where
    # the connector is free, which then shows Reserved; cancelled, it is free again.
    page.get_by_role("link", name="CP1/1").click()
    page.locator("#reserve input[name=id_tag]").fill("GUEST")
    page.get_by_role("button", name="Reserve").click()
    expect(page.locator("#command-result")).to_have_text(
        "Reserve: refused by the charge point (Occupied)", timeout=15000)
    page.get_by_role("link", name="Dashboard").click()
    page.get_by_role("link", name="CP2/1").click()
    expect(page.locator("h1")).to_have_text("Charge point CP2")
    page.locator("#reserve input[name=id_tag]").fill("GUEST")
    page.get_by_role("button", name="Reserve").click()
    result = page.locator("#command-result")
    expect(result).to_contain_text("Reserve: accepted by the charge point (Accepted) · "
                                   "reservation no. ", timeout=15000)
    number = result.inner_text().rsplit("no. ", 1)[1]
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#conn-CP2-1 .status")).to_have_text("Reserved", timeout=15000)
    page.get_by_role("link", name="CP2/1").click()
    expect(page.locator("#cp-reservations")).to_contain_text(
        f"Reservation no. {number}: connector #1 held for GUEST until ")
    page.get_by_label("Reservation no.").fill(number)
    page.get_by_role("button", name="Cancel the reservation").click()
    expect(page.locator("#command-result")).to_have_text(
        "Cancel the reservation: accepted by the charge point (Accepted)", timeout=15000)
    page.get_by_role("link", name="Dashboard").click()
    expect(page.locator("#conn-CP2-1 .status")).to_have_text("Available", timeout=15000)

    # The meter's health on the EMS page: answering, its values and age; then silent.
    page.get_by_role("link", name="EMS").click()
    device = page.locator("#device-tgbt")
    expect(device).to_contain_text("answering", timeout=15000)
    expect(device).to_contain_text("12.0")
    expect(page.locator("#node-grid .load")).to_contain_text("12.0 A")
    shot(page, "ems-devices", tmp_path)
    hub.call(meter.stop())
    page.wait_for_timeout(3000)
    page.reload()
    expect(device).to_contain_text("silent", timeout=15000)
    expect(page.locator("#node-grid")).to_contain_text("silent")

    # On a phone the same page keeps every column: each row is a card.
    phone = browser.new_page(viewport=PHONE, is_mobile=True)
    sign_in(phone, hub, "admin", hub.admin_password)
    phone.evaluate("location.hash = '#/ems'")
    cell = phone.locator("#node-parking td.limit")
    expect(cell).to_have_attribute("data-label", "Limit in force")
    expect(cell).to_have_text("40.0 A")
    assert cell.evaluate("td => getComputedStyle(td).display") == "block"
    assert cell.evaluate("td => getComputedStyle(td, '::before').content") == '"Limit in force: "'
    assert phone.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    assert not errors, errors


async def _wait(event: object) -> None:
    await event.wait()  # type: ignore[attr-defined]
