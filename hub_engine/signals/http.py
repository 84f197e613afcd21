"""The signals' HTTP calls: JSON or a clear error, quotas (429) with their wait."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime
from pathlib import Path
from typing import Any

from hub_engine.clock import parse_iso
from hub_engine.errors import HubError
from hub_engine.i18n import Text

__all__ = ["RateLimited", "SignalError", "read_secret", "request_json"]


class SignalError(HubError):
    """A signal's source could not give it; the message says why."""


class RateLimited(SignalError):
    def __init__(self, message: str, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


def read_secret(value: str | None, file: str | None) -> str | None:
    """A key or secret: the file's first line when a file is given (readable by the hub
    only, out of hub.yaml), else the value itself."""
    if not file:
        return value
    try:
        return Path(file).read_text("utf-8").strip()
    except OSError as exc:
        raise SignalError(Text("the key file {file} cannot be read: {why}", file=file,
                               why=exc.strerror or str(exc))) from None


def _retry_after(headers: Any) -> float:
    for name in ("Retry-After", "X-RateLimit-Reset"):
        value = headers.get(name) if headers is not None else None
        if value:
            try:
                seconds = float(value)
            except ValueError:
                stamp = parse_iso(value)
                if stamp is not None:
                    return max(60.0, (stamp - datetime.now(stamp.tzinfo)).total_seconds())
                continue
            # X-RateLimit-Reset may be an epoch time rather than a delay.
            return max(60.0, seconds - datetime.now().timestamp() if seconds > 1e9 else seconds)
    return 3600.0


def request_json(url: str, headers: dict[str, str], timeout_s: float,
                 data: bytes | None = None) -> Any:
    """GET (or POST ``data``) and decode JSON; :class:`SignalError` with the reason else."""
    req = urllib.request.Request(url, data=data, headers={
        "Accept": "application/json", "User-Agent": "charge-hub", **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s) as resp:
            body = bytes(resp.read(4 << 20))
    except urllib.error.HTTPError as exc:
        if exc.code == 429:
            wait = _retry_after(exc.headers)
            raise RateLimited(Text("the portal's quota is used up: retry in {s} s",
                                   s=round(wait)), wait) from None
        detail = ""
        try:
            payload = json.loads(exc.read(65536))
            if isinstance(payload, dict):
                detail = " ".join(str(payload[k]) for k in ("error", "error_description")
                                  if payload.get(k))
        except (ValueError, OSError):
            pass
        raise SignalError(Text("the portal answered HTTP {code} {reason}", code=exc.code,
                               reason=detail or exc.reason)) from None
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise SignalError(Text("the portal cannot be reached: {why}",
                               why=str(getattr(exc, "reason", exc)))) from None
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise SignalError(Text("the portal's answer is not JSON (a retired portal answers "
                               "with an HTML page)")) from None
