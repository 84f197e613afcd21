"""Firmware quirks a simulated charge point can reproduce (reference/OCPP-INTEROP.md)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Quirk", "parse_quirks"]


class Quirk(StrEnum):
    STACK_LEVEL_ZERO_ONLY = "stack_level_zero_only"  # rejects stackLevel > 0 (§1)
    W_ONLY = "w_only"  # rejects profiles in A (§4)
    TX_DEFAULT_IGNORED_IN_TX = "tx_default_ignored_in_tx"  # keeps the limit of tx start (§2)
    VALID_TO_IGNORED = "valid_to_ignored"  # a profile never expires
    PROFILES_LOST_ON_REBOOT = "profiles_lost_on_reboot"  # (§10)
    NO_WEBSOCKET_PING = "no_websocket_ping"  # never pings the server (§12)
    ODD_METER_VALUES = "odd_meter_values"  # kW/kWh, L1-N labels, Current.Import.L1 (§7)
    IGNORES_LIMITS = "ignores_limits"  # accepts profiles, draws what the car wants
    NO_RESUME_AFTER_PAUSE = "no_resume_after_pause"  # its cars sleep after 0 A (§14)


def parse_quirks(names: str | list[str] | None) -> frozenset[Quirk]:
    if not names:
        return frozenset()
    items = names.split(",") if isinstance(names, str) else names
    try:
        return frozenset(Quirk(n.strip()) for n in items if n.strip())
    except ValueError as exc:
        known = ", ".join(q.value for q in Quirk)
        raise ValueError(f"{exc}; known quirks: {known}") from None
