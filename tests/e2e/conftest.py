"""The browser tests' Chromium: Debian's, headless, through Playwright, one per test
module (helpers: tests/e2e/pages.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.e2e.pages import hub_of
from tests.integration.api_fixtures import Hub

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]


# Per module, not per session: a running Playwright keeps an event loop in the main
# thread, which the asyncio tests run after these would trip over.
@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it "
                    "(tests/debian-packages.txt)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[Hub]:
    """A whole hub on the two-charge-point test site (a module may define its own)."""
    with hub_of(tmp_path) as running:
        yield running
