"""Structured logs that never carry a secret.

Text (``2026-11-29T08:00:00.123Z INFO hub.store: message``) for a terminal and journald,
or one JSON object per line for log shippers. Secrets are masked twice: values registered
with :func:`register_secret` wherever they appear, and anything written as
``password=…``, ``token: …``, ``Authorization: Basic …``.
"""

from __future__ import annotations

import json
import logging
import math
import re
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Literal

__all__ = ["LogBudget", "configure_logging", "escape", "redact", "redact_url",
           "register_secret"]

_SECRETS: set[str] = set()
_PATTERN = re.compile(
    r"(?i)\b(password|passwd|secret|token|authorization(?:key)?|api[_-]?key)"
    r"(\"?\s*[=:]\s*\"?)(basic\s+|bearer\s+)?[^\s\",}]+"
)
MASK = "***"
# Credentials in a URL (the FTP locations charge points are sent): the password masked.
_URL_PASSWORD = re.compile(r"\b([a-z][a-z0-9+.-]*://[^:/@\s\"']+):[^@\s\"']+@")


def register_secret(value: str) -> None:
    """Mask ``value`` in every log line from now on (short values are too common to mask)."""
    if len(value) >= 4:
        _SECRETS.add(value)


def redact_url(text: str) -> str:
    """``text`` with the password of every URL in it masked."""
    return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}:{MASK}@", text) if "://" in text else text


def redact(text: str) -> str:
    for secret in _SECRETS:
        if secret in text:
            text = text.replace(secret, MASK)
    text = redact_url(text)
    return _PATTERN.sub(lambda m: f"{m.group(1)}{m.group(2)}{m.group(3) or ''}{MASK}", text)


_CONTROL = re.compile(r"[\x00-\x1f\x7f\u2028\u2029]")


def escape(text: str) -> str:
    """Control characters as escapes: a charge point id or badge with a line break must
    not write a forged log line of its own."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), text)


class LogBudget:
    """At most ``burst`` lines a window for one kind of line a peer can trigger at will
    (a refused call, a bad frame), then one line counting the rest: a hostile charge
    point must not fill the disk through the hub's log."""

    def __init__(self, logger: logging.Logger, what: str, burst: int = 20,
                 window_s: float = 60.0, monotonic: Callable[[], float] = time.monotonic
                 ) -> None:
        self.logger, self.what, self.burst, self.window_s = logger, what, burst, window_s
        self.monotonic = monotonic
        self._start, self._logged, self.muted = -math.inf, 0, 0

    def allow(self) -> bool:
        now = self.monotonic()
        if now - self._start >= self.window_s:
            if self.muted:
                self.logger.warning("%d more %s in the last %.0f s (not logged)", self.muted,
                                    self.what, now - self._start)
            self._start, self._logged, self.muted = now, 0, 0
        if self._logged >= self.burst:
            self.muted += 1
            return False
        self._logged += 1
        return True

    def reset(self) -> None:
        self._start = -math.inf


def _message(record: logging.LogRecord) -> str:
    """The message with every string argument escaped (the arguments are where what
    clients send ends up; the format strings are the hub's own)."""
    if isinstance(record.args, tuple) and record.args:
        args = tuple(escape(a) if isinstance(a, str) else
                     escape(str(a)) if isinstance(a, Exception) else a for a in record.args)
        try:
            return str(record.msg) % args
        except (TypeError, ValueError):
            pass
    return escape(record.getMessage())


class _Formatter(logging.Formatter):
    def __init__(self, fmt: Literal["text", "json"]) -> None:
        super().__init__()
        self.fmt = fmt

    def format(self, record: logging.LogRecord) -> str:
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        ts = ts.replace("+00:00", "Z")
        message = _message(record)
        if record.exc_info:
            message += "\n" + self.formatException(record.exc_info)
        message = redact(message)
        name = record.name.replace("hub_engine", "hub")
        if self.fmt == "json":
            return json.dumps({"ts": ts, "level": record.levelname.lower(), "logger": name,
                               "msg": message}, ensure_ascii=False)
        return f"{ts} {record.levelname:<7} {name}: {message}"


def configure_logging(level: str = "info", fmt: Literal["text", "json"] = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_Formatter(fmt))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # Libraries log every frame at INFO; the hub keeps its own OCPP log in the store.
    for noisy in ("websockets", "ocpp", "pymodbus", "cheroot", "hub_engine.sim.frames"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
