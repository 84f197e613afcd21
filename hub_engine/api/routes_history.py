"""History: energy and sessions per period and per site, board, group, charge point,
member or badge; the site's consumption beside its charging; the Excel export; a report
sent now."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from hub_engine.api.errors import ApiError, said
from hub_engine.api.schemas_ops import EnergyOut, HistoryQuery, ReportIn, ReportOut, SiteEnergyOut
from hub_engine.api.security import auth, ctx
from hub_engine.history import Query, energy_by, site_energy
from hub_engine.history.excel import workbook
from hub_engine.history.reports import XLSX
from hub_engine.i18n import Text, language_of, say

__all__ = ["bp"]

bp = APIBlueprint("history", __name__, url_prefix="/api/v1", tag="History")


EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before any charge point of this hub
MAX_PERIODS = 1000
_DAYS = {"day": 1, "week": 7, "month": 30, "year": 365}


def _query(q: dict[str, Any]) -> Query:
    now = datetime.now(UTC)
    until, since = q.get("until") or now, q.get("since")
    if since is not None and since >= until:
        raise ApiError(422, Text("since must be before until"), detail={
            "query": {"since": [said(Text("since must be before until"))]}})
    # Nothing happened before 2000 nor beyond next year: the range is cut to what can hold
    # data (first: a year before year 1 is no date at all).
    until = min(max(until, EARLIEST), now + timedelta(days=366))
    since = max(since if since is not None else until - timedelta(days=365), EARLIEST)
    until = max(until, since)
    periods = (until - since).days // _DAYS.get(q["period"], 10**9)
    if periods > MAX_PERIODS:
        reason = Text("{n} periods: at most {most}; choose a longer period or a shorter range",
                      n=periods, most=MAX_PERIODS)
        raise ApiError(422, reason, detail={"query": {"period": [said(reason)]}})
    return Query(since, until, q["period"], q["by"])


@bp.get("/history/energy")
@bp.auth_required(auth, roles=["reader"])
@bp.input(HistoryQuery, location="query", arg_name="query")
@bp.output(EnergyOut(many=True))
@bp.doc(summary="Sessions and energy per local period and per site, board, group, charge "
                "point, member or badge (sessions count in the period they started)")
def energy(query: dict[str, Any]) -> Any:
    c = ctx()
    return energy_by(c.rows, c.config, _query(query))


@bp.get("/history/site")
@bp.auth_required(auth, roles=["reader"])
@bp.input(HistoryQuery, location="query", arg_name="query")
@bp.output(SiteEnergyOut(many=True))
@bp.doc(summary="Per local period and site: consumption (grid meter), charging, PV")
def site(query: dict[str, Any]) -> Any:
    c = ctx()
    return site_energy(c.rows, c.config, _query(query))


_XLSX_DOC: dict[int | str, dict[str, str | dict[str, dict[str, Any]]]] = {
    200: {"description": "an .xlsx file, or CSV (format=csv)",
          "content": {XLSX: {"schema": {"type": "string", "format": "binary"}},
                      "text/csv": {"schema": {"type": "string"}}}}}


@bp.get("/history/export")
@bp.auth_required(auth, roles=["reader"])
@bp.input(HistoryQuery, location="query", arg_name="query")
@bp.doc(summary="The Excel workbook of the selection: summary, energy per period and key, "
                "the site's consumption and charging, every session (local times, kWh)",
        responses=_XLSX_DOC)
def export(query: dict[str, Any]) -> Any:
    c = ctx()
    q = _query(query)
    lang = query.get("lang") or language_of(request.headers.get("Accept-Language"))
    if query["format"] == "csv":
        return _csv(energy_by(c.rows, c.config, q), lang, q)
    data = workbook(c.rows, c.config, q, lang)
    name = f"history-{q.since.date().isoformat()}-{q.until.date().isoformat()}.xlsx"
    return Response(data, mimetype=XLSX,
                    headers={"Content-Disposition": f"attachment; filename={name}"})


def _csv(rows: list[dict[str, Any]], lang: str, q: Query) -> Response:
    """The energy per period and key as a spreadsheet opens it (`;` and a decimal comma in
    French), with a BOM."""
    sep, dec = (";", ",") if lang == "fr" else (",", ".")
    head = [say(x, lang) for x in (Text("Period"), Text("key"), Text("Sessions"),
                                   Text("Energy (kWh)"), Text("Duration (h)"))]
    out = io.StringIO()
    writer = csv.writer(out, delimiter=sep, lineterminator="\r\n")
    writer.writerow(head)
    for r in rows:
        writer.writerow([r["period"], r["key"], r["sessions"],
                         f"{r['energy_wh'] / 1000:.3f}".replace(".", dec),
                         f"{r['duration_s'] / 3600:.2f}".replace(".", dec)])
    name = f"energy-{q.period}-{q.by}.csv"
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})


@bp.post("/system/reports/send")
@bp.auth_required(auth, roles=["admin"])
@bp.input(ReportIn, arg_name="body")
@bp.output(ReportOut)
@bp.doc(summary="Send the report of the last whole week or month now (to reports.to, or "
                "to one address)", responses=[200, 409])
def send_report(body: dict[str, Any]) -> Any:
    c = ctx()
    to = [body["to"]] if body.get("to") else list(c.config.reports.to)
    if c.reports is None or c.config.mail is None or not to:
        raise ApiError(409, Text("reports need a mail server (mail:) and a recipient "
                                 "(reports.to)"), "refused")
    return c.call(c.reports.send(body["period"], to), timeout_s=300)
