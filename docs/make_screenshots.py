"""Screenshots of the main pages for the docs, from a running hub (the demo: `make run`),
in English and French, on a desktop and on a phone.

    .venv/bin/python docs/make_screenshots.py [--url http://127.0.0.1:8080]
        [--password-file var/demo/initial-admin-password] [--wait-s 90]

Uses Debian's Chromium through Playwright (as the browser tests do) and writes
docs/screenshots/<page>-<en|fr>.png and <page>-phone-<en|fr>.png for the dashboard,
the EMS, the sessions, a session, the members and the charge points.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import Browser, Page, expect, sync_playwright

OUT = Path(__file__).parent / "screenshots"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = [("dashboard", "#/", "#connectors"), ("ems", "#/ems", "#tree"),
         ("sessions", "#/sessions", "#sessions-totals"), ("members", "#/members", "#members"),
         ("charge-points", "#/cps", "#charge-points")]


def sign_in(page: Page, url: str, password: str, lang: str) -> None:
    page.goto(url + "/")
    if lang == "fr":
        page.locator("#lang").click()
    page.locator("#login").fill("admin")
    page.locator("#password").fill(password)
    page.locator("#signin").click()
    expect(page.locator("#connectors")).to_be_visible(timeout=20000)


def shoot(browser: Browser, url: str, password: str, lang: str, phone: bool) -> None:
    view = {"width": 390, "height": 844} if phone else {"width": 1280, "height": 900}
    page = browser.new_page(viewport=view, is_mobile=phone, timezone_id="Europe/Paris")
    sign_in(page, url, password, lang)
    suffix = f"{'-phone' if phone else ''}-{lang}"
    for name, hash_, ready in PAGES:
        page.evaluate(f"location.hash = '{hash_}'")
        expect(page.locator(ready)).to_be_visible(timeout=20000)
        page.wait_for_timeout(1500)
        page.screenshot(path=str(OUT / f"{name}{suffix}.png"), full_page=not phone)
    page.evaluate("location.hash = '#/sessions'")
    first = page.locator("#sessions tbody a").first
    if first.count():
        first.click()
        expect(page.locator("h1")).to_contain_text("Session")
        page.wait_for_timeout(1000)
        page.screenshot(path=str(OUT / f"session{suffix}.png"), full_page=not phone)
    page.close()


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
        for lang in ("en", "fr"):
            for phone in (False, True):
                shoot(browser, args.url, password, lang, phone)
                print(f"{lang} {'phone' if phone else 'desktop'}: done", flush=True)
        browser.close()
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
