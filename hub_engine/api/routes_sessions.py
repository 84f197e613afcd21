"""Charging sessions (OCPP transactions): filters, totals, CSV export, one session, its
meter curve."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apiflask import APIBlueprint
from flask import Response, request

from hub_engine.api.errors import ApiError, said
from hub_engine.api.schemas import (
    PlanIn,
    PlanOut,
    SampleOut,
    SampleQuery,
    SessionOut,
    SessionQuery,
    SessionSummaryOut,
    csv_doc,
)
from hub_engine.api.security import auth, ctx, principal
from hub_engine.clock import iso_utc, parse_iso
from hub_engine.history.excel import SESSION_SELECT
from hub_engine.i18n import Text
from hub_engine.plans import PlanRefused, clear_plan, set_plan

__all__ = ["bp"]

bp = APIBlueprint("sessions", __name__, url_prefix="/api/v1", tag="Sessions")

_SELECT = SESSION_SELECT


def _session(r: Any) -> dict[str, Any]:
    return {"id": r[0], "charge_point": r[1], "connector": r[2], "id_tag": r[3],
            "started_at": r[4], "stopped_at": r[5], "meter_start_wh": r[6],
            "meter_stop_wh": r[7], "energy_wh": r[8], "stop_reason": r[9],
            "closed_by_hub": r[10], "member": r[11],
            "active": r[5] is None,
            "plan": None if r[12] is None else {"departure": r[12], "energy_wh": r[13],
                                                 "source": r[14]}}


def _where(query: dict[str, Any]) -> tuple[str, list[Any]]:
    """The filters shared by the list, its totals and its CSV export."""
    where, params = [], []
    if "charge_point" in query:
        where.append("t.charge_point_id = ?")
        params.append(query["charge_point"])
    if "id_tag" in query:  # idTags are CiString20: compared case-insensitively
        where.append("t.id_tag = ? COLLATE NOCASE")
        params.append(query["id_tag"])
    if "member" in query:
        where.append("m.name = ? COLLATE NOCASE")
        params.append(query["member"])
    if "active" in query:
        where.append("t.stopped_at IS NULL" if query["active"] else "t.stopped_at IS NOT NULL")
    for key, op in (("since", ">="), ("until", "<")):
        if key in query:  # stored as UTC ISO text: comparable as text once normalised
            where.append(f"t.started_at {op} ?")
            params.append(_utc(key, query[key]))
    return (" WHERE " + " AND ".join(where) if where else ""), params


@bp.get("/sessions")
@bp.auth_required(auth, roles=["reader"])
@bp.input(SessionQuery, location="query", arg_name="query")
@bp.output(SessionOut(many=True))
@bp.doc(summary="Sessions, newest first; filter by charge point, badge, member, state, "
                "period; page with limit and offset (the totals: /sessions/summary)")
def sessions(query: dict[str, Any]) -> Any:
    where, params = _where(query)
    sql = _SELECT + where + " ORDER BY t.started_at DESC, t.id DESC LIMIT ? OFFSET ?"
    return [_session(r) for r in ctx().rows(sql, (*params, query["limit"], query["offset"]))]


@bp.get("/sessions/summary")
@bp.auth_required(auth, roles=["reader"])
@bp.input(SessionQuery, location="query", arg_name="query")
@bp.output(SessionSummaryOut)
@bp.doc(summary="The count and energy of the sessions the same filters select")
def summary(query: dict[str, Any]) -> Any:
    where, params = _where(query)
    row = ctx().rows("SELECT count(*), coalesce(sum(t.energy_wh), 0),"
                     " coalesce(sum(t.stopped_at IS NULL), 0)"
                     + _SELECT[_SELECT.index(" FROM"):] + where, tuple(params))[0]
    return {"sessions": row[0], "energy_wh": row[1], "active": row[2]}


_CSV = csv_doc("one line per session")
_CSV_HEAD = ["session", "charge_point", "connector", "badge", "member", "started (local)",
             "stopped (local)", "energy_kwh", "meter_start_wh", "meter_stop_wh",
             "stop_reason", "closed_by_hub"]


@bp.get("/sessions/export")
@bp.auth_required(auth, roles=["reader"])
@bp.input(SessionQuery, location="query", arg_name="query")
@bp.doc(summary="The sessions the same filters select, as CSV (local times, kWh)",
        description="Every matching session (limit and offset are ignored), oldest first, "
                    "times in the hub's timezone, `;`-separated with a decimal comma when "
                    "`lang=fr` (what a French spreadsheet opens).",
        responses=_CSV)
def export(query: dict[str, Any]) -> Any:
    c = ctx()
    where, params = _where(query)
    tz = ZoneInfo(c.config.hub.timezone)
    french = request.args.get("lang") == "fr"
    sep, dec = (";", ",") if french else (",", ".")

    def local(ts: str | None) -> str:
        t = parse_iso(ts) if ts else None
        return t.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if t else ""

    def lines() -> Iterator[str]:
        buf = io.StringIO()
        out = csv.writer(buf, delimiter=sep, lineterminator="\r\n")
        out.writerow(_CSV_HEAD)
        sql = _SELECT + where + " ORDER BY t.started_at, t.id LIMIT 1000000"
        for r in c.rows(sql, tuple(params)):
            kwh = "" if r[8] is None else f"{r[8] / 1000:.3f}".replace(".", dec)
            out.writerow([r[0], r[1], r[2], r[3], r[11] or "", local(r[4]), local(r[5]),
                          kwh, r[6], "" if r[7] is None else r[7], r[9] or "", r[10] or ""])
        yield "\ufeff" + buf.getvalue()  # the BOM: Excel reads the file as UTF-8
    return Response(lines(), mimetype="text/csv", headers={
        "Content-Disposition": "attachment; filename=sessions.csv"})


def _utc(key: str, ts: datetime) -> str:
    try:
        return iso_utc(ts)
    except (OverflowError, ValueError):
        raise ApiError(422, Text("{key}: out of range", key=key),
                       detail={"query": {key: [said(Text("out of range"))]}}
                       ) from None


def _ms(text: str | None, default: int) -> int:
    ts = parse_iso(text) if text is not None else None
    return int(ts.timestamp() * 1000) if ts is not None else default


def _one(session_id: int) -> dict[str, Any]:
    if session_id >= 2**63:  # beyond SQLite's integers: no such session
        raise ApiError(404, Text("no session {id}", id=session_id))
    rows = ctx().rows(_SELECT + " WHERE t.id = ?", (session_id,))
    if not rows:
        raise ApiError(404, Text("no session {id}", id=session_id))
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


def _planning(run: Any) -> Any:
    """Run a plan coroutine on the engine's loop; a refusal becomes its 4xx."""
    c = ctx()
    if c.ems is None:
        raise ApiError(503, Text("the EMS is not running"))
    try:
        return c.call(run(c), 30)
    except PlanRefused as e:
        detail = {"json": {e.field: [said(str(e))]}} if e.field else None
        raise ApiError(e.status, str(e), detail=detail) from None


@bp.put("/sessions/<int:session_id>/plan")
@bp.auth_required(auth, roles=["operator"])
@bp.input(PlanIn, arg_name="body")
@bp.output(PlanOut)
@bp.doc(summary="Give a session under way its departure plan: when the car leaves and "
                "the energy it needs",
        description="The EMS first gives the car the current that delivers its energy by "
                    "its departure (a tenth more, for the taper), then shares the rest "
                    "fairly; the site limits still win. Replaces any plan it had; kept "
                    "across restarts, dropped when the session ends.",
        responses=[200, 404, 409, 422])
def put_plan(session_id: int, body: dict[str, Any]) -> Any:
    source = f"api:{principal().name}"
    return _planning(lambda c: set_plan(c.store, c.ems, session_id, body["departure"],
                                        body["energy_wh"], source))


@bp.delete("/sessions/<int:session_id>/plan")
@bp.auth_required(auth, roles=["operator"])
@bp.output({}, status_code=204)
@bp.doc(summary="Withdraw a session's departure plan (it then shares fairly)",
        responses=[204, 404, 409])
def delete_plan(session_id: int) -> Any:
    _planning(lambda c: clear_plan(c.store, c.ems, session_id))
    return ""
