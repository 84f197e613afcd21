"""What is wrong now, from the live state: pure functions, tested with tables.

Each condition is keyed ``(kind, target)`` with the data that describes it; the service
raises what lasts long enough and clears what is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["Condition", "cpo_conditions", "site_conditions", "stalled"]

Condition = dict[tuple[str, str], dict[str, Any]]


def site_conditions(live: Mapping[str, Any], devices: Mapping[str, Any],
                    disks: Mapping[str, float], disk_free_min_pct: float) -> Condition:
    """Faulted connectors, charge points off the network, silent devices, sites where the
    EMS holds cars back, disks almost full (``disks``: folder → free %)."""
    out: Condition = {}
    by_cp: dict[str, list[Mapping[str, Any]]] = {}
    for c in live.get("connectors", []):
        by_cp.setdefault(c["charge_point"], []).append(c)
        if c["state"] == "faulted":
            out[("cp_faulted", c["id"])] = dict(c.get("fault") or {"error_code": c["status"]})
    for cp_id, conns in by_cp.items():
        if conns and all(not c["online"] for c in conns):
            out[("cp_offline", cp_id)] = {}
    for dev_id, dev in devices.items():
        if not dev.get("online", True):
            out[("device_silent", dev_id)] = {"error": dev.get("error")}
    for site in live.get("sites", []):
        mine = [c for c in live.get("connectors", []) if c.get("site") == site["id"]]
        held = [c["id"] for c in mine if _held(c)]
        if held:
            out[("site_at_limit", site["id"])] = {"limit_a": site.get("limit_a"),
                                                  "connectors": held}
    for folder, free_pct in disks.items():
        if free_pct < disk_free_min_pct:
            out[("disk_low", folder)] = {"free_pct": round(free_pct, 1)}
    return out


def _held(c: Mapping[str, Any]) -> bool:
    """A car the EMS gives less than it could take for want of power."""
    reason = c.get("reason") or ""
    if c["state"] == "paused" and reason == "paused: not enough power for the minimum":
        return True
    limit, most = c.get("limit_a"), c.get("max_current_a")
    return (c["state"] == "charging" and reason == "fair share" and limit is not None
            and most is not None and limit < most - 0.5)


def stalled(progress: Mapping[str, tuple[float, float]], live: Mapping[str, Any],
            now_s: float, after_s: float) -> tuple[dict[str, tuple[float, float]], Condition]:
    """Sessions "Charging" (OCPP status, with a limit above 0) whose energy has not grown
    for ``after_s``. ``progress``: connector → (energy Wh, since when unchanged), returned
    updated."""
    seen: dict[str, tuple[float, float]] = {}
    out: Condition = {}
    for c in live.get("connectors", []):
        session = c.get("session") or {}
        energy = session.get("energy_wh")
        if c.get("status") != "Charging" or c["state"] != "charging" or energy is None:
            continue
        last = progress.get(c["id"])
        since = last[1] if last is not None and energy <= last[0] else now_s
        seen[c["id"]] = (float(energy), since)
        if now_s - since >= after_s:
            out[("session_stalled", c["id"])] = {"minutes": round((now_s - since) / 60),
                                                 "energy_wh": energy}
    return seen, out


def cpo_conditions(links: list[Mapping[str, Any]]) -> Condition:
    """Relayed charge points whose CPO link should be up (the charge point is here or
    messages are owed) and is not: its sessions are decided offline, its messages wait."""
    return {("cpo_unreachable", x["charge_point_id"]): {
        "queued": x["queued"], "error": x.get("last_error") or ""}
        for x in links if x.get("linked") and not x["online"]}
