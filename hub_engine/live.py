"""The site as it is now: per site the meter against the limit, per connector its
status, current, power, limit and session. One composition for the dashboard
(``GET /api/v1/live``, the live stream) and the bus (``state.live``), so the UI, a GTB
table and an MQTT export never disagree.

Gathering touches the EMS's state and runs on the engine's loop; composing reads the
store and runs on any thread with its own read connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub_engine.clock import iso_utc
from hub_engine.config import HubConfig
from hub_engine.store.samples import last_energy_register_wh

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["Gathered", "compose", "gather"]

Rows = Callable[..., list[Any]]

@dataclass(frozen=True)
class Gathered:
    record: dict[str, Any]
    states: dict[str, Any]
    fallbacks: dict[str, float]


def gather(ems: EmsLoop | None) -> Gathered:
    """On the engine's loop: the last cycle record and each connector's state."""
    if ems is None:
        return Gathered({}, {}, {})
    return Gathered(dict(ems.record), {cid: p.state() for cid, p in ems.ports().items()},
                    dict(ems.fallbacks.sent))


def _session_energy_wh(rows: Rows, cid: str, start_wh: int | None) -> float | None:
    last = last_energy_register_wh(rows, cid)
    if last is None or start_wh is None:
        return None
    return round(max(0.0, last - start_wh), 1)


def compose(config: HubConfig, got: Gathered, rows: Rows, now: datetime,
            energy: bool = False) -> dict[str, Any]:
    """The live state; ``energy`` adds each session's energy so far (one read each)."""
    record, states = got.record, got.states
    nodes = {n["id"]: n for n in record.get("nodes", [])}
    by_conn = {x["id"]: x for x in record.get("connectors", [])}
    open_tx = {(r[1], r[2]): {"id": r[0], "id_tag": r[3], "started_at": r[4],
                              "meter_start_wh": r[5]}
               for r in rows("SELECT id, charge_point_id, connector_id, id_tag, started_at,"
                             " meter_start_wh FROM transactions WHERE stopped_at IS NULL")}
    sites = []
    for site in config.sites:
        n = nodes.get(site.grid.id, {})
        sites.append({"id": site.id, "name": site.name or site.id, "node": site.grid.id,
                      "limit_a": site.grid.limit_a, "voltage_v": site.voltage_v,
                      "meter_current_a": n.get("meter_current_a"),
                      "meter_status": n.get("meter_status"),
                      "charging_a": n.get("charging_counted_a"),
                      "capacity_a": n.get("capacity_a")})
    connectors = []
    for cp in config.charge_points():
        for k in range(1, cp.connectors + 1):
            cid = f"{cp.id}/{k}"
            st, rec = states.get(cid), by_conn.get(cid, {})
            measured = list(st.measured_a) if st is not None and st.measured_a else None
            session = open_tx.get((cp.id, k))
            if session is not None and energy:
                session = {**session, "energy_wh": _session_energy_wh(
                    rows, cid, session["meter_start_wh"])}
            connectors.append({
                "id": cid, "charge_point": cp.id, "connector": k,
                "online": bool(st and st.online), "status": st.status if st else None,
                "limit_a": rec.get("limit_a"), "reason": rec.get("reason"),
                "measured_a": measured, "max_current_a": cp.max_current_a,
                "session": session})
    # The site's wall clock (DST included) for flows that act on the hour of the day.
    local = now.astimezone(ZoneInfo(config.hub.timezone)).isoformat(timespec="seconds")
    return {"time": iso_utc(now), "local_time": local, "cycle_ms": record.get("cycle_ms"),
            "sites": sites, "connectors": connectors,
            "sessions_active": len(open_tx),
            "external_limits": record.get("external_limits", []),
            "fire_alarm": record.get("inputs", {}).get("fire_alarm", False)}
