"""Screenshots of the main pages for the docs, from a running hub (the demo: `make run`).

    .venv/bin/python docs/make_screenshots.py [--url http://127.0.0.1:8080]
        [--password-file var/demo/initial-admin-password] [--wait-s 90]

Uses Debian's Chromium through Playwright (as the browser tests do) and writes
docs/screenshots/*.png (desktop and phone).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright

OUT = Path(__file__).parent / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


def sign_in(page: Page, url: str, password: str) -> None:
    page.goto(url + "/")
    page.get_by_label("Login").fill("admin")
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("#connectors")).to_be_visible(timeout=20000)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--password-file", default="var/demo/initial-admin-password")
    parser.add_argument("--wait-s", type=float, default=0.0,
                        help="let the demo run this long first (cars arrive)")
    args = parser.parse_args()
    password = Path(args.password_file).read_text().strip()
    time.sleep(args.wait_s)
    OUT.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=FLAGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        sign_in(page, args.url, password)
        page.wait_for_timeout(2500)
        page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)
        page.evaluate("location.hash = '#/ems'")
        expect(page.locator("#limit-form")).to_be_visible()
        page.screenshot(path=str(OUT / "ems.png"), full_page=True)
        page.evaluate("location.hash = '#/sessions'")
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "sessions.png"))
        first = page.locator("tbody a").last  # the oldest: its curve has points
        first.click()
        expect(page.locator("svg.chart")).to_be_visible()
        page.screenshot(path=str(OUT / "session.png"), full_page=True)
        page.evaluate("location.hash = '#/'")
        page.locator("#connectors a").first.click()
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / "charge-point.png"))
        phone = browser.new_page(viewport={"width": 390, "height": 844}, is_mobile=True)
        sign_in(phone, args.url, password)
        phone.locator("#lang").click()
        phone.wait_for_timeout(1500)
        phone.screenshot(path=str(OUT / "dashboard-phone-fr.png"), full_page=True)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
