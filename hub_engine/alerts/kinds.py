"""Every alert the hub raises: its severity, how long its condition must hold before it is
raised, and the sentence that tells it (in the e-mail, the UI and the bus)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hub_engine.config.notify import AlertsConfig
from hub_engine.i18n import Text

__all__ = ["KINDS", "LATCHED", "Kind", "describe", "hold_s"]

Severity = Literal["warning", "critical"]


@dataclass(frozen=True)
class Kind:
    severity: Severity
    # An alert whose condition the checks cannot see again (an event, not a state): raised
    # and cleared by the events of LATCHED, kept until its clearing event comes.
    latched: bool = False


KINDS: dict[str, Kind] = {
    "cp_faulted": Kind("critical"),
    "cp_offline": Kind("warning"),
    "device_silent": Kind("critical"),
    "site_at_limit": Kind("warning"),
    "session_stalled": Kind("warning"),
    "disk_low": Kind("critical"),
    "cpo_unreachable": Kind("warning"),
    "backup_failed": Kind("critical", latched=True),
    "limit_not_applied": Kind("critical", latched=True),
    "limit_ignored": Kind("critical", latched=True),
    "signal_unknown": Kind("warning", latched=True),
    "forecast_unknown": Kind("warning", latched=True),
}

# Raw events (EMS, backups) → (alert kind, raised?).
LATCHED: dict[str, tuple[str, bool]] = {
    "backup_failed": ("backup_failed", True), "backup_ok": ("backup_failed", False),
    "limit_not_applied": ("limit_not_applied", True),
    "limit_applied": ("limit_not_applied", False),
    "limit_ignored": ("limit_ignored", True), "limit_followed": ("limit_ignored", False),
    "signal_unknown": ("signal_unknown", True), "signal_known": ("signal_unknown", False),
    "forecast_unknown": ("forecast_unknown", True),
    "forecast_known": ("forecast_unknown", False),
}


def hold_s(kind: str, config: AlertsConfig) -> float:
    """How long a condition must last before it becomes an alert (a short Wi-Fi drop or a
    car between two phases of its charge is no news)."""
    return {"cp_offline": config.offline_after_s, "cpo_unreachable": config.offline_after_s,
            "site_at_limit": config.at_limit_after_s}.get(kind, 0.0)


def describe(kind: str, target: str, data: Mapping[str, Any]) -> Text:
    """The alert in one sentence."""
    if kind == "cp_faulted":
        return Text("{target}: fault {code} (vendor code {vendor}) {info}", target=target,
                    code=data.get("error_code") or "-",
                    vendor=data.get("vendor_error_code") or "-", info=data.get("info") or "")
    if kind == "cp_offline":
        return Text("{target}: off the network", target=target)
    if kind == "device_silent":
        return Text("{target}: the device does not answer ({why})", target=target,
                    why=data.get("error") or "-")
    if kind == "site_at_limit":
        return Text("{target}: the EMS holds cars back at the site's limit ({limit} A)",
                    target=target, limit=data.get("limit_a") or "-")
    if kind == "session_stalled":
        return Text("{target}: charging without energy for {minutes} min", target=target,
                    minutes=data.get("minutes", "-"))
    if kind == "disk_low":
        return Text("{target}: only {free_pct}% of the disk free", target=target,
                    free_pct=data.get("free_pct", "-"))
    if kind == "cpo_unreachable":
        return Text("{target}: the CPO cannot be reached ({why}); {queued} message(s) wait "
                    "for it", target=target, why=data.get("error") or "-",
                    queued=data.get("queued", 0))
    if kind == "backup_failed":
        return Text("the backup failed: {why}", why=data.get("error") or "-")
    if kind == "limit_not_applied":
        return Text("{target}: the charge point does not apply its limit", target=target)
    if kind == "limit_ignored":
        return Text("{target}: the car draws above its limit", target=target)
    if kind == "signal_unknown":
        return Text("the grid signal ({target}) is unknown: the {assumed} case is assumed",
                    target=target, assumed=data.get("assumed") or "-")
    if kind == "forecast_unknown":
        return Text("{target}: no valid PV forecast ({why})", target=target,
                    why=data.get("error") or "-")
    return Text("{target}: {kind}", target=target, kind=kind)
