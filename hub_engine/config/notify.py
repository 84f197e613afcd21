"""Configuration of what the hub tells people: alerts, the mail server, scheduled reports."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["AlertsConfig", "MailConfig", "ReportsConfig"]

_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+$")
_HHMM = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def _addresses(name: str, values: tuple[str, ...]) -> None:
    for value in values:
        if not _ADDRESS.match(value):
            raise FieldError(name, Text("got {value!r}, expected an e-mail address",
                                        value=value))


@dataclass(frozen=True)
class AlertsConfig:
    check_interval_s: float = 15.0
    offline_after_s: float = 600.0  # a charge point off the network this long
    stalled_after_s: float = 1800.0  # "Charging" with no energy this long
    at_limit_after_s: float = 3600.0  # the EMS holding cars back at the site limit
    disk_free_min_pct: float = 10.0
    email_to: tuple[str, ...] = ()
    email_on_clear: bool = True

    def __post_init__(self) -> None:
        for name in ("check_interval_s", "offline_after_s", "stalled_after_s",
                     "at_limit_after_s"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))
        if not 0 <= self.disk_free_min_pct < 100:
            raise FieldError("disk_free_min_pct", Text("expected 0 to 99"))
        _addresses("email_to", self.email_to)


@dataclass(frozen=True)
class MailConfig:
    host: str
    from_address: str
    port: int = 587
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    password: str | None = None  # better: password_file, or HUB_MAIL_PASSWORD
    password_file: str | None = None
    ca_file: str | None = None  # a private CA that signed the server's certificate
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        _addresses("from_address", (self.from_address,))
        if not 0 < self.port < 65536:
            raise FieldError("port", Text("got {value!r}, expected 1..65535", value=self.port))
        if self.password is not None and self.password_file is not None:
            raise FieldError("password_file", Text("give password or password_file, not both"))


@dataclass(frozen=True)
class ReportsConfig:
    to: tuple[str, ...] = ()
    weekly: bool = True  # every Monday: the week before
    monthly: bool = True  # every 1st: the month before
    time: str = "07:00"  # local (hub.timezone)

    def __post_init__(self) -> None:
        _addresses("to", self.to)
        if not _HHMM.match(self.time):
            raise FieldError("time", Text("got {value!r}, expected HH:MM", value=self.time))
