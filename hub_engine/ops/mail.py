"""E-mail through the site's SMTP server: STARTTLS, implicit TLS or plain, with or without
a login. Sending is blocking (``send``); the engine goes through :class:`MailQueue`, whose
worker sends from a thread, retries three times over a few minutes, and never holds the
event loop. The password is never logged.
"""

from __future__ import annotations

import asyncio
import email.policy
import logging
import os
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

from hub_engine.config import MailConfig
from hub_engine.errors import HubError
from hub_engine.i18n import Text
from hub_engine.tasks import cancel_and_wait

__all__ = ["Attachment", "Mail", "MailError", "MailQueue", "Mailer"]

log = logging.getLogger(__name__)
RETRY_DELAYS_S = (10.0, 60.0, 300.0)


class MailError(HubError):
    """The mail server refused or could not be reached; the message says which."""


@dataclass(frozen=True)
class Attachment:
    filename: str
    content: bytes
    mime: str = "application/octet-stream"


@dataclass(frozen=True)
class Mail:
    to: tuple[str, ...]
    subject: str
    body: str
    attachments: tuple[Attachment, ...] = field(default=())


class Mailer:
    def __init__(self, config: MailConfig) -> None:
        self.config = config

    def _password(self) -> str | None:
        cfg = self.config
        if cfg.password_file is not None:
            return Path(cfg.password_file).read_text("utf-8").strip()
        return cfg.password or os.environ.get("HUB_MAIL_PASSWORD") or None

    def message(self, mail: Mail) -> EmailMessage:
        # Folded at 998 (RFC 5322's limit), not 78: Python folds a long subject whole onto
        # a continuation line, which some clients show with a leading blank.
        msg = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
        msg["From"], msg["To"] = self.config.from_address, ", ".join(mail.to)
        msg["Subject"] = mail.subject
        msg["Date"] = formatdate(localtime=False)
        msg["Message-ID"] = make_msgid(domain=self.config.from_address.split("@")[1])
        msg.set_content(mail.body)
        for item in mail.attachments:
            main, sub = item.mime.split("/", 1)
            msg.add_attachment(item.content, maintype=main, subtype=sub, filename=item.filename)
        return msg

    def send(self, mail: Mail) -> None:
        """Send now (blocking) or raise :class:`MailError` with the reason."""
        cfg = self.config
        context = ssl.create_default_context(cafile=cfg.ca_file)
        try:
            smtp: smtplib.SMTP
            if cfg.security == "ssl":
                smtp = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout_s,
                                        context=context)
            else:
                smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout_s)
            with smtp:
                if cfg.security == "starttls":
                    smtp.starttls(context=context)
                password = self._password()
                if cfg.username and password:
                    smtp.login(cfg.username, password)
                smtp.send_message(self.message(mail))
        except smtplib.SMTPAuthenticationError:
            raise MailError(Text("the mail server refused the login of {user!r}",
                                 user=cfg.username)) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise MailError(Text("mail to {to} not sent: {why}", to=", ".join(mail.to),
                                 why=str(exc) or type(exc).__name__)) from None


class MailQueue:
    """Mail sent in the background, in order, retried; ``sent``/``failed`` for the record."""

    name = "mail"

    def __init__(self, mailer: Mailer | None,
                 retry_delays_s: Sequence[float] = RETRY_DELAYS_S) -> None:
        self.mailer = mailer
        self.retry_delays_s = tuple(retry_delays_s)
        self.sent = 0
        self.failed: list[str] = []
        self._queue: asyncio.Queue[Mail] = asyncio.Queue(maxsize=1000)
        self._task: asyncio.Task[None] | None = None

    def put(self, mail: Mail) -> bool:
        """Queue a mail; False (and logged) without a mail server or when the queue is full."""
        if self.mailer is None or not mail.to:
            return False
        try:
            self._queue.put_nowait(mail)
        except asyncio.QueueFull:
            log.error("mail queue full: %r dropped", mail.subject)
            return False
        return True

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="mail")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        assert self.mailer is not None or self._queue.empty()
        while True:
            mail = await self._queue.get()
            await self._deliver(mail)

    async def _deliver(self, mail: Mail) -> None:
        assert self.mailer is not None
        for attempt, delay in enumerate((*self.retry_delays_s, None)):
            try:
                await asyncio.to_thread(self.mailer.send, mail)
                self.sent += 1
                return
            except MailError as exc:
                if delay is None:
                    log.error("mail %r given up after %d attempts: %s", mail.subject,
                              attempt + 1, exc)
                    self.failed.append(str(exc))
                    del self.failed[:-20]
                    return
                log.warning("mail %r not sent (%s); retrying in %.0f s", mail.subject, exc,
                            delay)
                await asyncio.sleep(delay)
