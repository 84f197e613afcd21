"""The site as it is now: per site the meter against the limit, per connector its
status, current, power, limit and session. One composition for the dashboard
(``GET /api/v1/live``, the live stream) and the bus (``state.live``), so the UI, a GTB
table and an MQTT export never disagree.

Gathering touches the EMS's state and runs on the engine's loop; composing reads the
store and runs on any thread with its own read connection.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from hub_engine.clock import iso_utc
from hub_engine.config import HubConfig
from hub_engine.store.samples import last_energy_register_wh

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop
    from hub_engine.signals.pv_service import PvForecastService

__all__ = ["Gathered", "compose", "energy_since_wh", "energy_today_wh", "gather",
           "local_midnight"]

Rows = Callable[..., list[Any]]

@dataclass(frozen=True)
class Gathered:
    record: dict[str, Any]
    states: dict[str, Any]
    fallbacks: dict[str, float]
    pv: dict[str, Any] = field(default_factory=dict)  # per site (PvForecastService)


def gather(ems: EmsLoop | None, pv: PvForecastService | None = None) -> Gathered:
    """On the engine's loop: the last cycle record, each connector's state, the panels."""
    panels = pv.now() if pv is not None else {}
    if ems is None:
        return Gathered({}, {}, {}, panels)
    return Gathered(dict(ems.record), {cid: p.state() for cid, p in ems.ports().items()},
                    dict(ems.fallbacks.sent), panels)


def _session_energy_wh(rows: Rows, cid: str, start_wh: int | None) -> float | None:
    last = last_energy_register_wh(rows, cid)
    if last is None or start_wh is None:
        return None
    return round(max(0.0, last - start_wh), 1)


_FAULT_SQL = ("SELECT charge_point_id, connector_id, error_code, info, vendor_error_code"
              " FROM connectors WHERE (error_code IS NOT NULL AND error_code != 'NoError')"
              " OR vendor_error_code IS NOT NULL OR status = 'Faulted'")
_FIRST_SINCE = (
    "SELECT s.value FROM samples s JOIN series r ON r.id = s.series_id WHERE r.source = ?"
    " AND r.measurand = 'Energy.Active.Import.Register' AND r.phase = '' AND s.ts_ms >= ?"
    " ORDER BY s.ts_ms LIMIT 1")


def local_midnight(now: datetime, timezone: str) -> datetime:
    """The start of the site's day (its wall clock, DST included)."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def energy_since_wh(rows: Rows, sources: list[str], since: datetime) -> dict[str, float]:
    """Per connector, what its energy register counted since ``since`` (two indexed reads
    each); a connector without a register reading since then is left out."""
    since_ms = int(since.timestamp() * 1000)
    out: dict[str, float] = {}
    for src in sources:
        first = rows(_FIRST_SINCE, (src, since_ms), db="samples")
        last = last_energy_register_wh(rows, src) if first else None
        if first and last is not None:
            out[src] = round(max(0.0, last - float(first[0][0])), 1)
    return out


def energy_today_wh(config: HubConfig, rows: Rows, now: datetime) -> dict[str, float]:
    """Each connector's energy since the site's local midnight (for :func:`compose`)."""
    sources = [f"{cp.id}/{k}" for cp in config.charge_points()
               for k in range(1, cp.connectors + 1)]
    return energy_since_wh(rows, sources, local_midnight(now, config.hub.timezone))


def _faults(rows: Rows) -> dict[tuple[str, int], dict[str, Any]]:
    return {(r[0], r[1]): {"error_code": r[2], "info": r[3], "vendor_error_code": r[4]}
            for r in rows(_FAULT_SQL)}


def _power_w(measured: list[float] | None, labelled: bool, ev_phases: int | None,
             voltage_v: float) -> float | None:
    """What a connector draws: its phases summed; an unlabelled reading stands for each
    of the car's phases, not for three (a single-phase car is not three times itself)."""
    if not measured:
        return None
    if labelled:
        return round(sum(measured) * voltage_v, 1)
    return round(max(measured) * voltage_v * (ev_phases or 1), 1)


def _state(online: bool, status: str | None, session: Any, limit_a: float | None,
           fault: dict[str, Any] | None) -> str:
    """The connector in one word for the operator: charging, paused (the EMS holds a
    session at 0), free, faulted, offline or other (preparing, finishing, unavailable)."""
    if not online:
        return "offline"
    if status == "Faulted" or (fault and fault["error_code"] not in (None, "NoError")):
        return "faulted"
    if session is not None:
        return "paused" if limit_a is not None and limit_a <= 0 else "charging"
    return "free" if status == "Available" else "other"


def compose(config: HubConfig, got: Gathered, rows: Rows, now: datetime,
            energy: bool = False, today_wh: dict[str, float] | None = None
            ) -> dict[str, Any]:
    """The live state; ``energy`` adds each session's energy so far (one read each);
    ``today_wh`` (per connector, from :func:`energy_since_wh`) each site's energy today."""
    record, states = got.record, got.states
    nodes = {n["id"]: n for n in record.get("nodes", [])}
    by_conn = {x["id"]: x for x in record.get("connectors", [])}
    solar = record.get("solar", {})
    solar_cars = {cid: car for s in solar.values() for cid, car in s.get("cars", {}).items()}
    open_tx = {(r[1], r[2]): {"id": r[0], "id_tag": r[3], "started_at": r[4],
                              "meter_start_wh": r[5],
                              "plan": None if r[6] is None else {"departure": r[6],
                                                                 "energy_wh": r[7]}}
               for r in rows("SELECT id, charge_point_id, connector_id, id_tag, started_at,"
                             " meter_start_wh, departure_at, energy_need_wh FROM transactions"
                             " WHERE stopped_at IS NULL")}
    faults = _faults(rows)
    connectors: list[dict[str, Any]] = []
    site_of: dict[str, str] = {}
    for site in config.sites:
        for cp in site.charge_points():
            site_of[cp.id] = site.id
    voltage = {site.id: site.voltage_v for site in config.sites}
    for cp in config.charge_points():
        for k in range(1, cp.connectors + 1):
            cid = f"{cp.id}/{k}"
            st, rec = states.get(cid), by_conn.get(cid, {})
            measured = list(st.measured_a) if st is not None and st.measured_a else None
            session = open_tx.get((cp.id, k))
            if session is not None and energy:
                session = {**session, "energy_wh": _session_energy_wh(
                    rows, cid, session["meter_start_wh"])}
            fault = faults.get((cp.id, k)) or faults.get((cp.id, 0))
            online, status = bool(st and st.online), st.status if st else None
            ev_phases = (rec.get("session") or {}).get("ev_phases")
            connectors.append({
                "id": cid, "charge_point": cp.id, "connector": k, "site": site_of.get(cp.id),
                "online": online, "status": status,
                "state": _state(online, status, session, rec.get("limit_a"), fault),
                "limit_a": rec.get("limit_a"), "reason": rec.get("reason"),
                "offered_a": rec.get("offered"),
                "measured_a": measured, "max_current_a": cp.max_current_a,
                "power_w": _power_w(measured, bool(st and st.phases_labelled), ev_phases,
                                    voltage.get(site_of.get(cp.id, ""), 230.0)),
                "fault": fault, "session": session,
                # Its solar mode's state (on, cap, pending start or stop), None: none.
                "solar": solar_cars.get(cid) if session is not None else None})
    sites = [{**_site(site, nodes.get(site.grid.id, {}), connectors, today_wh),
              "solar": {k: v for k, v in solar[site.id].items() if k != "cars"}
              if site.id in solar else None,
              # The panels now: forecast and measured (the slots are GET /solar's).
              "pv": got.pv.get(site.id)}
             for site in config.sites]
    # The site's wall clock (DST included) for flows that act on the hour of the day.
    local = now.astimezone(ZoneInfo(config.hub.timezone)).isoformat(timespec="seconds")
    return {"time": iso_utc(now), "local_time": local, "cycle_ms": record.get("cycle_ms"),
            "sites": sites, "connectors": connectors,
            "sessions_active": len(open_tx),
            "external_limits": record.get("external_limits", []),
            "fire_alarm": record.get("inputs", {}).get("fire_alarm", False)}


_STATES = ("charging", "paused", "free", "faulted", "offline", "other")


def _site(site: Any, n: dict[str, Any], connectors: list[dict[str, Any]],
          today_wh: dict[str, float] | None) -> dict[str, Any]:
    mine = [c for c in connectors if c["site"] == site.id]
    meter = n.get("meter_current_a")
    counts = {k: sum(1 for c in mine if c["state"] == k) for k in _STATES}
    powers = [c["power_w"] for c in mine if c["power_w"] is not None]
    # What the cars draw now, per phase (the EMS's own count, ``charging_a``, is what it
    # reserves for them: limits not yet confirmed count at the hardware maximum).
    drawn = [0.0, 0.0, 0.0]
    for c in mine:
        for i, a in enumerate((c["measured_a"] or [])[:3]):
            drawn[i] += a
    return {"id": site.id, "name": site.name or site.id, "node": site.grid.id,
            # The limit in force (the rating lowered by external limits and signals);
            # the rating alone until the EMS has run a cycle.
            "limit_a": n.get("limit_a", site.grid.limit_a), "rating_a": site.grid.limit_a,
            "limit_w": n.get("limit_w"), "voltage_v": site.voltage_v,
            "meter_current_a": meter, "meter_status": n.get("meter_status"),
            "power_w": round(sum(meter) * site.voltage_v, 1) if meter else None,
            "charging_w": round(sum(powers), 1),
            "energy_today_wh": (round(sum(today_wh.get(c["id"], 0.0) for c in mine), 1)
                                if today_wh is not None else None),
            "charging_a": n.get("charging_counted_a"), "capacity_a": n.get("capacity_a"),
            "charging_measured_a": [round(a, 2) for a in drawn],
            "counts": counts}
