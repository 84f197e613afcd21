"""The GTB (building management) register table: the hub's live state as Modbus
holding registers, 0-based wire addresses, big-endian words, 32-bit values high word
first. docs/node-red.md has the table for the GTB integrator. A value the hub does not
know is written as the "unknown" marker of its type, never as 0.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CONNECTOR_BASE", "CONNECTOR_SIZE", "STATUS_CODES", "TABLE_VERSION", "gtb_table"]

TABLE_VERSION = 1
CONNECTOR_BASE = 100
CONNECTOR_SIZE = 10
U16_UNKNOWN = 0xFFFF
U32_UNKNOWN = 0xFFFFFFFF
I32_UNKNOWN = -0x80000000
STATUS_CODES = {None: 0, "Available": 1, "Preparing": 2, "Charging": 3, "SuspendedEVSE": 4,
                "SuspendedEV": 5, "Finishing": 6, "Reserved": 7, "Unavailable": 8,
                "Faulted": 9}
_METER = {"fresh": 0, "stale": 1}


def _u32(value: float | None, signed: bool = False) -> list[int]:
    if value is None:
        raw = I32_UNKNOWN if signed else U32_UNKNOWN
    else:
        lo, hi = (-0x7FFFFFFF, 0x7FFFFFFF) if signed else (0, 0xFFFFFFFE)
        raw = max(lo, min(hi, round(value)))
    raw &= 0xFFFFFFFF
    return [raw >> 16, raw & 0xFFFF]


def _u16(value: float | None) -> int:
    return U16_UNKNOWN if value is None else max(0, min(0xFFFE, round(value)))


def _site_block(site: dict[str, Any], live: dict[str, Any], voltage_v: float,
                charging_w: float | None, counter: int) -> list[int]:
    meter = site.get("meter_current_a")
    limit_a = site.get("limit_a")  # in force: the rating lowered by limits and signals
    import_w = sum(meter) * voltage_v if meter else None
    available_w = (sum(max(0.0, limit_a - m) for m in meter) * voltage_v
                   if meter and limit_a is not None else None)
    limit_w = limit_a * voltage_v * 3 if limit_a is not None else None
    total_w = site.get("limit_w")  # a kVA or W limit in force, on the three phases
    if total_w is not None:
        limit_w = total_w if limit_w is None else min(limit_w, total_w)
        if import_w is not None:
            room_w = max(0.0, total_w - import_w)
            available_w = room_w if available_w is None else min(available_w, room_w)
    online = len({c["charge_point"] for c in live["connectors"] if c.get("online")})
    block = [TABLE_VERSION, counter, *_u32(import_w, signed=True), *_u32(limit_w),
             *_u32(available_w), *_u32(charging_w), _u16(live.get("sessions_active")),
             _u16(online), _METER.get(site.get("meter_status") or "", 2),
             1 if live.get("fire_alarm") else 0]
    return block + [0] * (CONNECTOR_BASE - len(block))


def _connector_block(c: dict[str, Any], voltage_v: float) -> list[int]:
    measured = c.get("measured_a")
    power_w = sum(measured) * voltage_v if measured else None
    session = c.get("session")
    energy = session.get("energy_wh") if session else None
    limit = c.get("limit_a")
    block = [STATUS_CODES.get(c.get("status"), 0) if c.get("online") else 0,
             1 if c.get("online") else 0, *_u32(power_w),
             _u16(limit * 10 if limit is not None else None),
             *_u32(energy if session else 0), 1 if session else 0]
    return block + [0] * (CONNECTOR_SIZE - len(block))


def gtb_table(live: dict[str, Any], counter: int, site_id: str = "") -> list[int]:
    """The registers from address 0: the site block, then one block per connector in
    the order of the live state (charge points sorted by id, connectors by number)."""
    sites = live.get("sites") or [{}]
    site = next((s for s in sites if s.get("id") == site_id), sites[0])
    voltage_v = float(site.get("voltage_v") or 230.0)
    connectors = live["connectors"]
    powers = [sum(c["measured_a"]) * voltage_v for c in connectors if c.get("measured_a")]
    charging_w = sum(powers) if connectors else 0.0
    table = _site_block(site, live, voltage_v, charging_w, counter)
    for c in connectors:
        table += _connector_block(c, voltage_v)
    return table
