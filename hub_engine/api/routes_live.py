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

from hub_engine import live as site_live
from hub_engine.api.errors import ApiError
from hub_engine.api.schemas import LiveOut, TreeNodeOut
from hub_engine.api.security import auth, ctx
from hub_engine.config import NodeConfig
from hub_engine.i18n import Text

__all__ = ["bp", "live_state"]

bp = APIBlueprint("live", __name__, url_prefix="/api/v1", tag="Live")
_streams_lock = threading.Lock()
_open = {"count": 0}
STREAM_PERIOD_S = 1.0
STREAM_MAX_S = 3600.0  # a stream ends after an hour; the browser reopens it


TODAY_PERIOD_S = 30.0


def _today_wh(c: Any) -> dict[str, float]:
    at, cached = c.today_cache
    if time.monotonic() - at < TODAY_PERIOD_S:
        return dict(cached)
    fresh = site_live.energy_today_wh(c.config, c.rows, c.clock.now())
    c.today_cache = (time.monotonic(), fresh)
    return fresh


def live_state() -> dict[str, Any]:
    c = ctx()
    got = c.on_loop(lambda: site_live.gather(c.ems, c.pv))
    return site_live.compose(c.config, got, c.rows, c.clock.now(), today_wh=_today_wh(c))


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
            raise ApiError(503, Text("{limit} live streams already open; poll /api/v1/live",
                                limit=limit),
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
               charging_a=rec.get("charging_counted_a"), meter_status=rec.get("meter_status"),
               meter_current_a=rec.get("meter_current_a"),
               limit_in_force_a=rec.get("limit_a", node.limit_a),
               limit_in_force_w=rec.get("limit_w"))
    return own_max, own_fb


@bp.get("/ems/tree")
@bp.auth_required(auth, roles=["reader"])
@bp.output(TreeNodeOut(many=True))
@bp.doc(summary="The site tree with each node's sizing note: rating, sum of the maxima "
                "below it, the capacity the EMS manages now, the sum of fallback limits")
def tree() -> Any:
    c = ctx()
    got = c.on_loop(lambda: site_live.gather(c.ems))
    records = {n["id"]: n for n in got.record.get("nodes", [])}
    out: list[dict[str, Any]] = []
    for site in ctx().config.sites:
        _tree_rows(site.grid, None, records, got.fallbacks, out)
    return out
