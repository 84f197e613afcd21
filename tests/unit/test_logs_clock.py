"""Secrets never reach the logs; the fake clock drives sleepers without real time."""

from __future__ import annotations

import asyncio
import logging

import pytest

from hub_engine.clock import FakeClock
from hub_engine.logs import LogBudget, configure_logging, redact, register_secret


@pytest.mark.parametrize(("line", "leak"), [
    ("login password=hunter22 ok", "hunter22"),
    ('{"token": "abcd1234efgh"}', "abcd1234efgh"),
    ("Authorization: Basic Q1AwMTpzZWNyZXQ=", "Q1AwMTpzZWNyZXQ="),
    ("AuthorizationKey=0011223344 set", "0011223344"),
    ("api_key: k-998877", "k-998877"),
])
def test_redact_patterns(line: str, leak: str) -> None:
    out = redact(line)
    assert leak not in out and "***" in out


def test_registered_secret_masked_in_any_context(capsys: pytest.CaptureFixture[str]) -> None:
    register_secret("s3cr3t-value")
    configure_logging("info", "json")
    logging.getLogger("hub_engine.test").info("connecting with s3cr3t-value inside")
    err = capsys.readouterr().err
    assert "s3cr3t-value" not in err and '"logger": "hub.test"' in err


async def test_fake_clock_wakes_sleepers_in_order() -> None:
    clock = FakeClock()
    woke: list[str] = []

    async def sleeper(name: str, s: float) -> None:
        await clock.sleep(s)
        woke.append(name)

    tasks = [asyncio.create_task(sleeper("late", 10)), asyncio.create_task(sleeper("early", 1))]
    await asyncio.sleep(0)
    clock.advance(0.5)
    await asyncio.sleep(0)
    assert woke == []
    clock.advance(1)
    await asyncio.sleep(0)
    assert woke == ["early"]
    clock.advance(9)
    await asyncio.gather(*tasks)
    assert woke == ["early", "late"]
    assert clock.now().tzinfo is not None


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_client_string_cannot_forge_a_log_line(fmt: str,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from hub_engine.logs import _Formatter

    forged = "CP1\n2026-12-03T10:00:00.000Z ERROR   hub.api: admin password reset\r\x1b[2J"
    record = logging.LogRecord("hub_engine.ocpp.server", logging.INFO, __file__, 1,
                               "%s: connected from %s", (forged, ("127.0.0.1", 5)), None)
    line = _Formatter(fmt).format(record)  # type: ignore[arg-type]
    assert "\n" not in line and "\r" not in line and "\x1b" not in line
    text = json.loads(line)["msg"] if fmt == "json" else line
    assert "CP1\\n2026-12-03T10:00:00.000Z ERROR" in text and "\\r\\x1b[2J" in text


def test_a_log_budget_bounds_what_a_peer_can_write(caplog: pytest.LogCaptureFixture) -> None:
    """Twenty lines a minute, then one line counting the rest when the next minute opens."""
    clock = FakeClock()
    budget = LogBudget(logging.getLogger("budget"), "bad frames", monotonic=clock.monotonic)
    assert sum(budget.allow() for _ in range(1000)) == 20
    clock.advance(59)
    assert not budget.allow()
    clock.advance(1)
    with caplog.at_level(logging.WARNING, logger="budget"):
        assert budget.allow()
    assert caplog.messages == ["981 more bad frames in the last 60 s (not logged)"]
