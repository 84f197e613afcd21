"""Maintenance of charge points: diagnostics fetched through the built-in FTP server, and
configuration keys read, compared and changed across charge points (docs/maintenance.md)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import send_file

from hub_engine.api.errors import ApiError, needed
from hub_engine.api.routes_charge_points import known_charge_point
from hub_engine.api.schemas_ops import (
    ConfigChangeIn,
    ConfigChangeOut,
    ConfigChangeResultOut,
    ConfigCompareOut,
    ConfigHistoryQuery,
    DiagnosticsIn,
    DiagnosticsOut,
    DiagnosticsQuery,
    TargetsIn,
    TargetsQuery,
)
from hub_engine.api.security import auth, ctx, principal
from hub_engine.api.targets import targets
from hub_engine.i18n import Text
from hub_engine.maintenance.config_keys import ConfigKeys
from hub_engine.maintenance.diagnostics import DiagnosticsService

__all__ = ["bp"]

bp = APIBlueprint("maintenance", __name__, url_prefix="/api/v1", tag="Maintenance")


def _service() -> DiagnosticsService:
    service: DiagnosticsService | None = ctx().diagnostics
    return needed(service, Text("this engine fetches no diagnostics"))


def _row(row_id: int) -> dict[str, Any]:
    row = _service().get(row_id) if row_id < 2**63 else None
    if row is None:
        raise ApiError(404, Text("no diagnostics {id}", id=row_id))
    return row


@bp.post("/charge-points/<cp_id>/diagnostics")
@bp.auth_required(auth, roles=["admin"])
@bp.input(DiagnosticsIn, arg_name="body")
@bp.output(DiagnosticsOut, status_code=201)
@bp.doc(summary="Ask a charge point for its diagnostics, uploaded to the hub's FTP server",
        description="Answers once the charge point has (status accepted, or none: it has "
                    "nothing to send); follow the upload with GET /diagnostics/{id}.",
        responses=[201, 400, 404, 503])
def request_diagnostics(cp_id: str, body: dict[str, Any]) -> Any:
    c, service = ctx(), _service()
    known_charge_point(cp_id)
    return c.call(service.request(cp_id, principal().name, body.get("start_time"),
                                  body.get("stop_time")), timeout_s=75)


@bp.get("/diagnostics")
@bp.auth_required(auth, roles=["admin"])
@bp.input(DiagnosticsQuery, location="query", arg_name="query")
@bp.output(DiagnosticsOut(many=True))
@bp.doc(summary="Diagnostics asked and received, newest first")
def diagnostics(query: dict[str, Any]) -> Any:
    return _service().list(query.get("charge_point_id"), query["limit"])


@bp.get("/diagnostics/<int:row_id>")
@bp.auth_required(auth, roles=["admin"])
@bp.output(DiagnosticsOut)
@bp.doc(responses=[200, 404])
def diagnostics_one(row_id: int) -> Any:
    return _row(row_id)


@bp.get("/diagnostics/<int:row_id>/file")
@bp.auth_required(auth, roles=["admin"])
@bp.doc(summary="The file a charge point uploaded", responses=[200, 404])
def diagnostics_file(row_id: int) -> Any:
    row = _row(row_id)
    path = _service().file(row_id)
    if path is None:
        raise ApiError(404, Text("diagnostics {id}: no file received", id=row_id))
    return send_file(path, as_attachment=True,
                     download_name=f"{row['charge_point_id']}-{row['file_name'] or path.name}")


def _keys() -> ConfigKeys:
    service: ConfigKeys | None = ctx().config_keys
    return needed(service, Text("the OCPP server is not running"))


@bp.post("/configuration/read")
@bp.auth_required(auth, roles=["operator"])
@bp.input(TargetsIn, arg_name="body")
@bp.doc(summary="Read the configuration keys of charge points again (GetConfiguration)",
        description="Answers each one's outcome: accepted, offline, timed_out…",
        responses=[200, 422])
def read_configuration(body: dict[str, Any]) -> Any:
    cps = targets(body)
    return ctx().call(_keys().read(cps), timeout_s=30 + 2 * len(cps))


@bp.get("/configuration/compare")
@bp.auth_required(auth, roles=["operator"])
@bp.input(TargetsQuery, location="query", arg_name="query")
@bp.output(ConfigCompareOut)
@bp.doc(summary="Every configuration key of these charge points, side by side, and "
                "whether they agree", responses=[200, 422])
def compare_configuration(query: dict[str, Any]) -> Any:
    body = dict(query)
    if body.get("charge_points"):
        body["charge_points"] = [x for x in body["charge_points"].split(",") if x.strip()]
    return _keys().compare(targets(body))


@bp.post("/configuration/change")
@bp.auth_required(auth, roles=["admin"])
@bp.input(ConfigChangeIn, arg_name="body")
@bp.output(ConfigChangeResultOut(many=True))
@bp.doc(summary="Change one configuration key on many charge points (ChangeConfiguration)",
        description="Keys the hub owns are refused (400). Each answer is kept: "
                    "GET /configuration/changes.", responses=[200, 400, 422])
def change_configuration(body: dict[str, Any]) -> Any:
    cps = targets(body)
    return ctx().call(_keys().change(cps, body["key"], body["value"], principal().name,
                                     principal().role), timeout_s=60 + 2 * len(cps))


@bp.get("/configuration/changes")
@bp.auth_required(auth, roles=["operator"])
@bp.input(ConfigHistoryQuery, location="query", arg_name="query")
@bp.output(ConfigChangeOut(many=True))
@bp.doc(summary="Configuration keys changed, newest first, with each charge point's answer")
def configuration_changes(query: dict[str, Any]) -> Any:
    return _keys().history(query.get("charge_point_id"), query["limit"])
