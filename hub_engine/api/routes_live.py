"""What the dashboard shows, live: per site the meter against the limit, per connector
its status, current and limit, the sessions; pushed as server-sent events every cycle.

A stream holds one of the server's threads, so streams are capped at half the pool
(``503`` beyond, and the UI falls back to polling ``GET /live``)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

from apiflask import APIBlueprint
from flask import Response, stream_with_context

from hub_engine.api.errors import ApiError
from hub_engine.api.schemas import LiveOut, TreeNodeOut
from hub_engine.api.security import auth, ctx
from hub_engine.clock import iso_utc
from hub_engine.config import NodeConfig

__all__ = ["bp", "live_state"]

bp = APIBlueprint("live", __name__, url_prefix="/api/v1", tag="Live")
_streams_lock = threading.Lock()
_open = {"count": 0}
STREAM_PERIOD_S = 1.0
STREAM_MAX_S = 3600.0  # a stream ends after an hour; the browser reopens it


def _on_loop() -> dict[str, Any]:
    """Gathered on the engine's loop: the EMS record and each connector's live state."""
    c = ctx()
    ems = c.ems
    record = dict(ems.record) if ems is not None else {}
    ports = ems.ports() if ems is not None else {}
    states = {cid: port.state() for cid, port in ports.items()}
    return {"record": record, "states": states,
            "fallbacks": dict(ems.fallbacks.sent) if ems is not None else {}}


def live_state() -> dict[str, Any]:
    c = ctx()
    got = c.on_loop(_on_loop)
    record, states = got["record"], got["states"]
    nodes = {n["id"]: n for n in record.get("nodes", [])}
    by_conn = {x["id"]: x for x in record.get("connectors", [])}
    open_tx = {(r[1], r[2]): {"id": r[0], "id_tag": r[3], "started_at": r[4]}
               for r in c.rows("SELECT id, charge_point_id, connector_id, id_tag, started_at"
                               " FROM transactions WHERE stopped_at IS NULL")}
    sites = []
    for site in c.config.sites:
        n = nodes.get(site.grid.id, {})
        sites.append({"id": site.id, "name": site.name or site.id, "node": site.grid.id,
                      "limit_a": site.grid.limit_a, "voltage_v": site.voltage_v,
                      "meter_current_a": n.get("meter_current_a"),
                      "meter_status": n.get("meter_status"),
                      "charging_a": n.get("charging_counted_a"),
                      "capacity_a": n.get("capacity_a")})
    connectors = []
    for cp in c.config.charge_points():
        for k in range(1, cp.connectors + 1):
            cid = f"{cp.id}/{k}"
            st, rec = states.get(cid), by_conn.get(cid, {})
            measured = list(st.measured_a) if st is not None and st.measured_a else None
            connectors.append({
                "id": cid, "charge_point": cp.id, "connector": k,
                "online": bool(st and st.online), "status": st.status if st else None,
                "limit_a": rec.get("limit_a"), "reason": rec.get("reason"),
                "measured_a": measured, "max_current_a": cp.max_current_a,
                "session": open_tx.get((cp.id, k))})
    return {"time": iso_utc(c.clock.now()), "cycle_ms": record.get("cycle_ms"),
            "sites": sites, "connectors": connectors,
            "sessions_active": len(open_tx),
            "external_limits": record.get("external_limits", []),
            "fire_alarm": record.get("inputs", {}).get("fire_alarm", False)}


def _shared_event(c: Any) -> str:
    """The live state as JSON, computed once per period for all the open streams."""
    with c.live_lock:
        at, text = c.live_cache
        if time.monotonic() - at >= STREAM_PERIOD_S / 2:
            text = json.dumps(live_state(), separators=(",", ":"))
            c.live_cache = (time.monotonic(), text)
        return str(text)


@bp.get("/live")
@bp.auth_required(auth, roles=["reader"])
@bp.output(LiveOut)
@bp.doc(summary="The dashboard's data now (sites, connectors, sessions)")
def live() -> Any:
    return live_state()


@bp.get("/live/stream")
@bp.auth_required(auth, roles=["reader"])
@bp.doc(summary="The dashboard's data as server-sent events (`event: live`), every second",
        responses={200: "text/event-stream", 503: "too many streams open: poll /live"})
def stream() -> Any:
    c = ctx()
    limit = max(1, c.config.http.threads // 2)
    with _streams_lock:
        if _open["count"] >= limit:
            raise ApiError(503, f"{limit} live streams already open; poll /api/v1/live",
                           "unavailable", headers={"Retry-After": "5"})
        _open["count"] += 1
    def events() -> Iterator[str]:
        try:
            end = time.monotonic() + STREAM_MAX_S
            while time.monotonic() < end and not c.stopping.is_set():
                yield f"event: live\ndata: {_shared_event(c)}\n\n"
                c.stopping.wait(STREAM_PERIOD_S)
        finally:
            with _streams_lock:
                _open["count"] -= 1
    return Response(stream_with_context(events()), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


def _tree_rows(node: NodeConfig, parent: str | None, records: dict[str, Any],
               fallbacks: dict[str, float], out: list[dict[str, Any]]) -> tuple[float, float]:
    """Appends the node and its children; returns (sum of maxima, sum of fallbacks)."""
    own_max = sum(cp.max_current_a * cp.connectors for cp in node.charge_points)
    own_fb = sum(fallbacks.get(f"{cp.id}/{k}", 0.0) for cp in node.charge_points
                 for k in range(1, cp.connectors + 1))
    row: dict[str, Any] = {"id": node.id, "name": node.name or node.id, "parent": parent,
                           "limit_a": node.limit_a, "limit_va": node.limit_va,
                           "limit_w": node.limit_w, "margin_a": node.margin_a,
                           "meter": node.meter,
                           "charge_points": [cp.id for cp in node.charge_points]}
    out.append(row)
    for child in node.children:
        m, f = _tree_rows(child, node.id, records, fallbacks, out)
        own_max, own_fb = own_max + m, own_fb + f
    rec = records.get(node.id, {})
    row.update(sum_max_a=own_max, fallback_sum_a=round(own_fb, 1),
               capacity_a=rec.get("capacity_a"), non_ev_a=rec.get("non_ev_current_a"),
               charging_a=rec.get("charging_counted_a"), meter_status=rec.get("meter_status"))
    return own_max, own_fb


@bp.get("/ems/tree")
@bp.auth_required(auth, roles=["reader"])
@bp.output(TreeNodeOut(many=True))
@bp.doc(summary="The site tree with each node's sizing note: rating, sum of the maxima "
                "below it, the capacity the EMS manages now, the sum of fallback limits")
def tree() -> Any:
    got = ctx().on_loop(_on_loop)
    records = {n["id"]: n for n in got["record"].get("nodes", [])}
    out: list[dict[str, Any]] = []
    for site in ctx().config.sites:
        _tree_rows(site.grid, None, records, got["fallbacks"], out)
    return out
