"""The CPO relay's links (docs/cpo.md)."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from hub_engine.api.errors import needed
from hub_engine.api.schemas_ops import CpoLinkOut
from hub_engine.api.security import auth, ctx
from hub_engine.i18n import Text

__all__ = ["bp"]

bp = APIBlueprint("cpo", __name__, url_prefix="/api/v1", tag="Charge points")


@bp.get("/cpo")
@bp.auth_required(auth, roles=["reader"])
@bp.output(CpoLinkOut(many=True))
@bp.doc(summary="Each relayed charge point's link to its CPO: up, and what it still owes")
def links() -> Any:
    relay = needed(ctx().cpo, Text("the OCPP server is not running"))
    return relay.describe()
