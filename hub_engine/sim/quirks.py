"""Firmware quirks a simulated charge point can reproduce (reference/OCPP-INTEROP.md)."""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Quirk", "parse_quirk_mix", "parse_quirks"]


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
    CURRENT_NO_PHASE = "current_no_phase"  # one Current.Import without a phase (§7)
    CURRENT_L1_ONLY = "current_l1_only"  # Current.Import labelled L1 only (§7)
    CURRENT_IN_MA = "current_in_ma"  # firmware bug: mA sent with unit A
    # Refuses a MeterValuesSampledData list naming Current.Offered: no read-back (§7).
    NO_CURRENT_OFFERED = "no_current_offered"
    # A reboot forgets the transaction under way: no StopTransaction ever comes for it.
    TRANSACTIONS_LOST_ON_REBOOT = "transactions_lost_on_reboot"
    # Its energy meter is stuck: "Charging", current flowing, the register never moves.
    FROZEN_ENERGY_REGISTER = "frozen_energy_register"
    # Says it switches phases (ConnectorSwitch3to1PhaseSupported) and ignores numberPhases:
    # its car goes on drawing on all its phases (older go-e firmware, §5).
    NUMBER_PHASES_IGNORED = "number_phases_ignored"


def parse_quirks(names: str | list[str] | None) -> frozenset[Quirk]:
    if not names:
        return frozenset()
    items = names.split(",") if isinstance(names, str) else names
    try:
        return frozenset(Quirk(n.strip()) for n in items if n.strip())
    except ValueError as exc:
        known = ", ".join(q.value for q in Quirk)
        raise ValueError(f"{exc}; known quirks: {known}") from None


def parse_quirk_mix(text: str | None) -> dict[Quirk, float]:
    """``"w_only:0.2,ignores_limits:0.05,valid_to_ignored"``: each charge point gets each
    quirk with that probability (1 when no fraction is given)."""
    mix: dict[Quirk, float] = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        name, _, fraction = part.partition(":")
        (quirk,) = parse_quirks(name)
        try:
            share = float(fraction) if fraction else 1.0
        except ValueError:
            raise ValueError(f"{part.strip()!r}: the fraction must be a number") from None
        if not 0 <= share <= 1:
            raise ValueError(f"{part.strip()!r}: the fraction must be between 0 and 1")
        mix[quirk] = share
    return mix
