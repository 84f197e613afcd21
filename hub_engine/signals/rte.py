"""RTE's data APIs: an OAuth2 client-credentials token, kept until it expires."""

from __future__ import annotations

import base64
import time
from typing import Any

from hub_engine.i18n import Text
from hub_engine.signals.http import SignalError, read_secret, request_json

__all__ = ["RteSession"]


class RteSession:
    def __init__(self, host: str, client_id: str | None, secret: str | None,
                 secret_file: str | None, timeout_s: float) -> None:
        self.host = host.rstrip("/")
        self.client_id, self.secret, self.secret_file = client_id, secret, secret_file
        self.timeout_s = timeout_s
        self._token: tuple[str, float] | None = None  # (token, monotonic expiry)

    def _secret(self) -> str:
        return read_secret(self.secret, self.secret_file) or ""

    def bearer(self) -> str:
        if self._token is not None and time.monotonic() < self._token[1]:
            return self._token[0]
        basic = base64.b64encode(f"{self.client_id}:{self._secret()}".encode()).decode()
        data = request_json(f"{self.host}/token/oauth/", {
            "Authorization": f"Basic {basic}",
            "Content-Type": "application/x-www-form-urlencoded"}, self.timeout_s,
            data=b"grant_type=client_credentials")
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str):
            raise SignalError(Text("RTE gave no access token"))
        expires = float(data.get("expires_in", 3600))
        self._token = (token, time.monotonic() + max(60.0, expires - 60))
        return token

    def get(self, path: str) -> Any:
        return request_json(f"{self.host}{path}", {"Authorization": f"Bearer {self.bearer()}"},
                            self.timeout_s)
