"""Reservations of a connector for a badge (docs/access.md, "Reservations")."""

from __future__ import annotations

from typing import Any

from apiflask import APIBlueprint

from hub_engine.access.reservations import Reservations
from hub_engine.api.errors import ApiError, needed
from hub_engine.api.routes_charge_points import known_charge_point
from hub_engine.api.schemas_ops import ReservationIn, ReservationOut, ReservationQuery
from hub_engine.api.security import auth, ctx, principal
from hub_engine.i18n import Text

__all__ = ["bp"]

bp = APIBlueprint("reservations", __name__, url_prefix="/api/v1", tag="Access")


def _service() -> Reservations:
    service: Reservations | None = ctx().reservations
    return needed(service, Text("the OCPP server is not running"))


@bp.post("/charge-points/<cp_id>/reservations")
@bp.auth_required(auth, roles=["operator"])
@bp.input(ReservationIn, arg_name="body")
@bp.output(ReservationOut, status_code=201)
@bp.doc(summary="Hold a connector for a badge (ReserveNow); the hub enforces it too",
        description="status Accepted: held until expires_at; Occupied, Faulted, "
                    "Unavailable, Rejected: the charge point's refusal; offline.",
        responses=[201, 400, 404])
def reserve(cp_id: str, body: dict[str, Any]) -> Any:
    c = ctx()
    known_charge_point(cp_id)
    return c.call(_service().make(cp_id, body["connector_id"], body["id_tag"],
                                  float(body["minutes"]), principal().name), timeout_s=40)


@bp.get("/reservations")
@bp.auth_required(auth, roles=["operator"])
@bp.input(ReservationQuery, location="query", arg_name="query")
@bp.output(ReservationOut(many=True))
@bp.doc(summary="Reservations, newest first")
def reservations(query: dict[str, Any]) -> Any:
    return _service().list(query.get("active"), query["limit"])


@bp.delete("/reservations/<int:reservation_id>")
@bp.auth_required(auth, roles=["operator"])
@bp.output(ReservationOut)
@bp.doc(summary="Cancel a reservation (CancelReservation)", responses=[200, 404])
def cancel(reservation_id: int) -> Any:
    found = ctx().call(_service().cancel(reservation_id, principal().name), timeout_s=40) \
        if reservation_id < 2**63 else None
    if found is None:
        raise ApiError(404, Text("no reservation {id}", id=reservation_id))
    return found
