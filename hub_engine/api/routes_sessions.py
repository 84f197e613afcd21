"""Charging sessions (OCPP transactions): filters, one session, its meter curve."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from apiflask import APIBlueprint

from hub_engine.api.errors import ApiError
from hub_engine.api.schemas import SampleOut, SampleQuery, SessionOut, SessionQuery
from hub_engine.api.security import auth, ctx
from hub_engine.clock import iso_utc, parse_iso

__all__ = ["bp"]

bp = APIBlueprint("sessions", __name__, url_prefix="/api/v1", tag="Sessions")

_SELECT = ("SELECT id, charge_point_id, connector_id, id_tag, started_at, stopped_at,"
           " meter_start_wh, meter_stop_wh, energy_wh, stop_reason, closed_by_hub"
           " FROM transactions")


def _session(r: Any) -> dict[str, Any]:
    return {"id": r[0], "charge_point": r[1], "connector": r[2], "id_tag": r[3],
            "started_at": r[4], "stopped_at": r[5], "meter_start_wh": r[6],
            "meter_stop_wh": r[7], "energy_wh": r[8], "stop_reason": r[9],
            "closed_by_hub": r[10],
            "active": r[5] is None}


@bp.get("/sessions")
@bp.auth_required(auth, roles=["reader"])
@bp.input(SessionQuery, location="query", arg_name="query")
@bp.output(SessionOut(many=True))
@bp.doc(summary="Sessions, newest first; filter by charge point, badge, state, period")
def sessions(query: dict[str, Any]) -> Any:
    where, params = [], []
    for key, column in (("charge_point", "charge_point_id"), ("id_tag", "id_tag")):
        if key in query:
            where.append(f"{column} = ? COLLATE NOCASE" if key == "id_tag" else f"{column} = ?")
            params.append(query[key])
    if "active" in query:
        where.append("stopped_at IS NULL" if query["active"] else "stopped_at IS NOT NULL")
    for key, op in (("since", ">="), ("until", "<")):
        if key in query:  # stored as UTC ISO text: comparable as text once normalised
            where.append(f"started_at {op} ?")
            params.append(_utc(key, query[key]))
    sql = _SELECT + (" WHERE " + " AND ".join(where) if where else "")
    sql += " ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?"
    return [_session(r) for r in ctx().rows(sql, (*params, query["limit"], query["offset"]))]


def _utc(key: str, ts: datetime) -> str:
    try:
        return iso_utc(ts)
    except (OverflowError, ValueError):
        raise ApiError(422, f"{key}: out of range", detail={"query": {key: ["out of range"]}}
                       ) from None


def _ms(text: str | None, default: int) -> int:
    ts = parse_iso(text) if text is not None else None
    return int(ts.timestamp() * 1000) if ts is not None else default


def _one(session_id: int) -> dict[str, Any]:
    if session_id >= 2**63:  # beyond SQLite's integers: no such session
        raise ApiError(404, f"no session {session_id}")
    rows = ctx().rows(_SELECT + " WHERE id = ?", (session_id,))
    if not rows:
        raise ApiError(404, f"no session {session_id}")
    return _session(rows[0])


@bp.get("/sessions/<int:session_id>")
@bp.auth_required(auth, roles=["reader"])
@bp.output(SessionOut)
@bp.doc(responses=[200, 404])
def session(session_id: int) -> Any:
    return _one(session_id)


@bp.get("/sessions/<int:session_id>/meter-values")
@bp.auth_required(auth, roles=["reader"])
@bp.input(SampleQuery, location="query", arg_name="query")
@bp.output(SampleOut(many=True))
@bp.doc(summary="The session's meter curve (its connector's samples while it ran)",
        responses=[200, 404])
def meter_values(session_id: int, query: dict[str, Any]) -> Any:
    s = _one(session_id)
    start, end = _ms(s["started_at"], 0), _ms(s["stopped_at"], 2**62)
    sql = ("SELECT s.ts_ms, r.measurand, r.phase, r.unit, s.value FROM samples s JOIN series r"
           " ON r.id = s.series_id WHERE r.source = ? AND s.ts_ms BETWEEN ? AND ?")
    params: list[Any] = [f"{s['charge_point']}/{s['connector']}", start, end]
    if "measurand" in query:
        sql += " AND r.measurand = ?"
        params.append(query["measurand"])
    sql += " ORDER BY s.ts_ms LIMIT ?"
    rows = ctx().rows(sql, (*params, query["limit"]), db="samples")
    return [{"ts": iso_utc(datetime.fromtimestamp(r[0] / 1000, UTC)), "measurand": r[1],
             "phase": r[2], "unit": r[3], "value": r[4]} for r in rows]
