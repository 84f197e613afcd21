"""Maintenance of charge points: diagnostics fetched through the built-in FTP server
(docs/maintenance.md)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import send_file

from hub_engine.api.errors import ApiError
from hub_engine.api.schemas_ops import DiagnosticsIn, DiagnosticsOut, DiagnosticsQuery
from hub_engine.api.security import auth, ctx, principal
from hub_engine.i18n import Text
from hub_engine.maintenance.diagnostics import DiagnosticsService

__all__ = ["bp"]

bp = APIBlueprint("maintenance", __name__, url_prefix="/api/v1", tag="Maintenance")


def _service() -> DiagnosticsService:
    service: DiagnosticsService | None = ctx().diagnostics
    if service is None:
        raise ApiError(503, Text("this engine fetches no diagnostics"))
    return service


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
    if cp_id not in {cp.id for cp in c.config.charge_points()}:
        raise ApiError(404, Text("no charge point {cp!r}", cp=cp_id))
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
