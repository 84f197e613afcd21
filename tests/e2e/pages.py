"""Helpers of the browser tests: sign in as a person does, screenshots, script errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.integration.api_fixtures import Hub

DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@contextmanager
def hub_of(tmp: Path, **kw: Any) -> Iterator[Hub]:
    """A whole hub (``Hub(tmp, **kw)``) for the duration of the block, stopped after."""
    hub = Hub(tmp, **kw)
    try:
        yield hub
    finally:
        hub.stop()


def shot(page: Page, name: str, tmp: Path) -> None:
    """A screenshot of each step, kept with the test's files (the docs' come from the demo:
    docs/make_screenshots.py)."""
    page.screenshot(path=str(tmp / f"{name}.png"), full_page=True)


def sign_in(page: Page, hub: Hub, login: str, password: str, lang: str = "en") -> None:
    """Signs in from the login page as a person does, in ``lang`` (the button on top)."""
    page.goto(hub.url.replace("/api/v1", "/"))
    if lang == "fr":
        page.locator("#lang").click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")
    labels = {"en": ("Login", "Password", "Sign in"),
              "fr": ("Identifiant", "Mot de passe", "Se connecter")}[lang]
    page.get_by_label(labels[0]).fill(login)
    page.get_by_label(labels[1]).fill(password)
    page.get_by_role("button", name=labels[2]).click()
    expect(page.locator("#nav")).to_be_visible()


def watch_errors(page: Page) -> list[str]:
    """The page's uncaught script errors (a test ends by asserting there were none)."""
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    return errors
