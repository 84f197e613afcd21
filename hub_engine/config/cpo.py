"""A site's charge point operator (CPO) backend: the charge points the hub relays to it
(``mode: cpo``) and what it may do to them (docs/cpo.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["CPO_ACTIONS", "CpoConfig", "OfflineAuth", "check_cpo_url"]

# What a CPO may call; ``refuse_commands`` names a subset of them.
CPO_ACTIONS = frozenset({
    "CancelReservation", "ChangeAvailability", "ChangeConfiguration", "ClearCache",
    "ClearChargingProfile", "DataTransfer", "GetCompositeSchedule", "GetConfiguration",
    "GetDiagnostics", "GetLocalListVersion", "RemoteStartTransaction",
    "RemoteStopTransaction", "ReserveNow", "Reset", "SendLocalList", "SetChargingProfile",
    "TriggerMessage", "UnlockConnector", "UpdateFirmware",
})

# How a badge is authorised while the CPO is unreachable or slower than auth_timeout_s:
# "cache": accepted if the CPO accepted it before (Authorize, StartTransaction or its
# SendLocalList) and that acceptance has not expired; "access": the hub's own badges
# (docs/access.md); "accept": everyone (free vend); "reject": nobody.
OfflineAuth = Literal["cache", "access", "accept", "reject"]


def check_cpo_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise FieldError(name, Text("got {value!r}, expected ws://host[:port]/path or "
                                    "wss://…", value=url))


@dataclass(frozen=True)
class CpoConfig:
    # The CPO's central system; each charge point's id is appended (…/CP01), unless a
    # charge point gives its own cpo_url.
    url: str | None = None
    # The CA that signed the CPO's server certificate (PEM), when not a public one.
    ca_file: str | None = None
    offline_auth: OfflineAuth = "cache"
    # How long a badge's start waits for the CPO's answer before the local decision.
    auth_timeout_s: float = 5.0
    # A CPO acceptance kept for offline use at most this long (or its expiryDate).
    auth_cache_days: float = 30.0
    # How long a queued message waits for the CPO's answer before the link is retried.
    call_timeout_s: float = 30.0
    reconnect_min_s: float = 1.0
    reconnect_max_s: float = 60.0
    # CPO calls answered Rejected, never relayed (the site's safety policy).
    refuse_commands: tuple[str, ...] = ()
    # Transaction messages kept per charge point while the CPO is away; above it the
    # oldest MeterValues are dropped (never a start or a stop), with an alert.
    max_queued: int = 100_000

    def __post_init__(self) -> None:
        if self.url is not None:
            check_cpo_url("url", self.url)
        if not 0.5 <= self.auth_timeout_s <= 60:
            raise FieldError("auth_timeout_s", Text("got {value!r}, expected 0.5..60",
                                                    value=self.auth_timeout_s))
        if not 1 <= self.call_timeout_s <= 600:
            raise FieldError("call_timeout_s", Text("got {value!r}, expected 1..600",
                                                    value=self.call_timeout_s))
        if not 0 < self.reconnect_min_s <= self.reconnect_max_s:
            raise FieldError("reconnect_min_s", Text(
                "expected 0 < reconnect_min_s <= reconnect_max_s"))
        if self.auth_cache_days < 0:
            raise FieldError("auth_cache_days", Text("must be ≥ 0"))
        if self.max_queued < 1000:
            raise FieldError("max_queued", Text("must be ≥ 1000"))
        unknown = sorted(set(self.refuse_commands) - CPO_ACTIONS)
        if unknown:
            raise FieldError("refuse_commands", Text(
                "unknown OCPP call(s) {names}; expected some of {known}",
                names=", ".join(unknown), known=", ".join(sorted(CPO_ACTIONS))))
