"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives: plain with a
login, or STARTTLS with a certificate from a local CA (``ca_file`` for the client)."""

from __future__ import annotations

import contextlib
import email
import email.policy
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hub_engine.ocpp.tls import LocalCa, server_context
from tests.conftest import free_port

__all__ = ["Smtp", "smtp_server"]

USER, PASSWORD = "hub@site.example", "mail-password-for-tests"


@dataclass
class Smtp:
    port: int
    ca_file: str | None
    received: list[EmailMessage] = field(default_factory=list)
    logins: list[str] = field(default_factory=list)

    def config(self, security: str = "none", **more: Any) -> str:
        """The ``mail:`` section of hub.yaml for this server."""
        extra = "".join(f", {k}: {v}" for k, v in more.items())
        ca = f", ca_file: {self.ca_file}" if self.ca_file else ""
        return (f"mail: {{host: 127.0.0.1, port: {self.port}, security: {security}, "
                f"username: {USER}, password: {PASSWORD}, from_address: {USER}{ca}{extra}}}\n")


class _Handler:
    def __init__(self, box: Smtp) -> None:
        self.box = box

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        msg = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        self.box.received.append(msg)
        return "250 OK"


@contextlib.contextmanager
def smtp_server(tmp_path: Path, starttls: bool = False) -> Iterator[Smtp]:
    ca_file = None
    kwargs: dict[str, Any] = {}
    if starttls:
        ca = LocalCa(tmp_path / "smtp-tls")
        ca.ensure(["127.0.0.1", "localhost"])
        kwargs.update(tls_context=server_context(ca.cert, ca.key), require_starttls=True)
        ca_file = str(ca.ca_cert)
    box = Smtp(free_port(), ca_file)

    def check(server: Any, session: Any, envelope: Any, mechanism: str, data: Any
              ) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()
                                                  ) == (USER, PASSWORD)
        if ok:
            box.logins.append(data.login.decode())
        return AuthResult(success=ok)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=box.port,
                            authenticator=check, auth_require_tls=starttls, **kwargs)
    controller.start()
    try:
        yield box
    finally:
        controller.stop()
