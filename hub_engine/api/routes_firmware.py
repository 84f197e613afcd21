"""Firmware files and update campaigns (docs/maintenance.md)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint
from flask import request

from hub_engine.api.errors import ApiError, needed
from hub_engine.api.schemas_ops import CampaignIn, CampaignOut, FirmwareOut, FirmwareQuery
from hub_engine.api.security import auth, ctx, principal
from hub_engine.api.targets import targets
from hub_engine.i18n import Text
from hub_engine.maintenance.campaigns import CampaignRequest, CampaignService
from hub_engine.maintenance.firmware import FirmwareFiles

__all__ = ["bp"]

bp = APIBlueprint("firmware", __name__, url_prefix="/api/v1", tag="Maintenance")


def _files() -> FirmwareFiles:
    service: FirmwareFiles | None = ctx().firmware
    return needed(service, Text("this engine keeps no firmware"))


def _campaigns() -> CampaignService:
    service: CampaignService | None = ctx().campaigns
    return needed(service, Text("this engine keeps no firmware"))


@bp.post("/firmware")
@bp.auth_required(auth, roles=["admin"])
@bp.input(FirmwareQuery, location="query", arg_name="query")
@bp.output(FirmwareOut, status_code=201)
@bp.doc(summary="Upload a firmware file (the body: its bytes, application/octet-stream)",
        description="The same bytes under the same name give the same file back.",
        responses=[201, 400, 413])
def upload(query: dict[str, Any]) -> Any:
    files = _files()
    files.check_name(query["name"])  # before reading a byte
    request.max_content_length = files.max_bytes
    stream = request.stream
    tmp, size, digest = files.receive(query["name"], iter(lambda: stream.read(1 << 20), b""))
    return ctx().call(files.add(query["name"], tmp, size, digest, principal().name))


@bp.get("/firmware")
@bp.auth_required(auth, roles=["operator"])
@bp.output(FirmwareOut(many=True))
@bp.doc(summary="Firmware files, newest first")
def firmware_list() -> Any:
    return _files().list()


@bp.post("/firmware/campaigns")
@bp.auth_required(auth, roles=["admin"])
@bp.input(CampaignIn, arg_name="body")
@bp.output(CampaignOut, status_code=201)
@bp.doc(summary="Update the firmware of charge points: listed, of a model, or under a node",
        responses=[201, 400, 422])
def create_campaign(body: dict[str, Any]) -> Any:
    req = CampaignRequest(body["firmware_id"], targets(body), body.get("retrieve_at"),
                          body["concurrency"], body["retries"], float(body["retry_interval_s"]))
    return ctx().call(_campaigns().create(req, principal().name))


@bp.get("/firmware/campaigns")
@bp.auth_required(auth, roles=["operator"])
@bp.output(CampaignOut(many=True))
@bp.doc(summary="Update campaigns, newest first, with each charge point's progress")
def campaigns() -> Any:
    return _campaigns().list()


@bp.get("/firmware/campaigns/<int:campaign_id>")
@bp.auth_required(auth, roles=["operator"])
@bp.output(CampaignOut)
@bp.doc(responses=[200, 404])
def campaign(campaign_id: int) -> Any:
    found = _campaigns().get(campaign_id) if campaign_id < 2**63 else None
    if found is None:
        raise ApiError(404, Text("no campaign {id}", id=campaign_id))
    return found


@bp.post("/firmware/campaigns/<int:campaign_id>/cancel")
@bp.auth_required(auth, roles=["admin"])
@bp.output(CampaignOut)
@bp.doc(summary="Cancel what is not sent yet (updates under way finish)",
        responses=[200, 404])
def cancel(campaign_id: int) -> Any:
    found = ctx().call(_campaigns().cancel(campaign_id)) if campaign_id < 2**63 else None
    if found is None:
        raise ApiError(404, Text("no campaign {id}", id=campaign_id))
    return found
