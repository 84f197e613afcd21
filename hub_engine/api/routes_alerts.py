"""Alerts (list, acknowledge) and the mail server (its settings, a test send)."""

from __future__ import annotations

import logging
from typing import Any

from apiflask import APIBlueprint

from hub_engine.alerts import AlertService, as_dict
from hub_engine.alerts.service import COLUMNS
from hub_engine.api.errors import ApiError, needed, said
from hub_engine.api.schemas_ops import AlertOut, AlertQuery, MailOut, MailTestIn
from hub_engine.api.security import auth, ctx, principal
from hub_engine.i18n import Text, message_of
from hub_engine.ops.mail import Mail, Mailer, MailError

__all__ = ["bp"]

bp = APIBlueprint("alerts", __name__, url_prefix="/api/v1", tag="Alerts")
log = logging.getLogger(__name__)


def _said(alert: dict[str, Any]) -> dict[str, Any]:
    return {**alert, "message": said(alert["message"])}


@bp.get("/alerts")
@bp.auth_required(auth, roles=["reader"])
@bp.input(AlertQuery, location="query", arg_name="query")
@bp.output(AlertOut(many=True))
@bp.doc(summary="Alerts, newest first: those in force and the history")
def alerts(query: dict[str, Any]) -> Any:
    where, params = [], []
    if "active" in query:
        where.append("cleared_at IS NULL" if query["active"] else "cleared_at IS NOT NULL")
    if query.get("kind"):
        where.append("kind = ?")
        params.append(query["kind"])
    sql = (f"SELECT {COLUMNS} FROM alerts" + (" WHERE " + " AND ".join(where) if where else "")
           + " ORDER BY id DESC LIMIT ?")
    return [_said(as_dict(r)) for r in ctx().rows(sql, (*params, query["limit"]))]


def _service() -> AlertService:
    service: AlertService | None = ctx().alerts
    return needed(service, Text("this engine raises no alerts"))


@bp.post("/alerts/<int:alert_id>/ack")
@bp.auth_required(auth, roles=["operator"])
@bp.output(AlertOut)
@bp.doc(summary="Acknowledge an alert (it stays until its condition ends)",
        responses=[200, 404])
def ack(alert_id: int) -> Any:
    service = _service()
    # Beyond SQLite's integers there is no such alert (and no 500 from the driver).
    alert = ctx().call(service.ack(alert_id, principal().name)) if alert_id < 2**63 else None
    if alert is None:
        raise ApiError(404, Text("no alert {id}", id=alert_id))
    return _said(alert)


@bp.get("/system/mail")
@bp.auth_required(auth, roles=["admin"])
@bp.output(MailOut)
@bp.doc(summary="The mail server's settings (without the password) and what was sent")
def mail_settings() -> Any:
    c = ctx()
    cfg, queue = c.config.mail, c.mail
    return {"configured": cfg is not None, "host": cfg and cfg.host, "port": cfg and cfg.port,
            "security": cfg and cfg.security, "username": cfg and cfg.username,
            "from_address": cfg and cfg.from_address,
            "password_set": bool(cfg and (cfg.password or cfg.password_file)),
            "alerts_to": list(c.config.alerts.email_to), "reports_to": list(c.config.reports.to),
            "sent": queue.sent if queue else 0, "failed": queue.failed if queue else []}


@bp.post("/system/mail/test")
@bp.auth_required(auth, roles=["admin"])
@bp.input(MailTestIn, arg_name="body")
@bp.doc(summary="Send a test e-mail now; the mail server's refusal comes back as a 502",
        responses={200: "sent", 409: "no mail server configured",
                   502: "the mail server refused or could not be reached"})
def mail_test(body: dict[str, Any]) -> Any:
    c = ctx()
    if c.config.mail is None:
        raise ApiError(409, Text("no mail server is configured (mail: in hub.yaml)"), "refused")
    site = c.config.sites[0].name or c.config.sites[0].id
    mail = Mail((body["to"],), said(Text("[{site}] test e-mail", site=site)),
                said(Text("This test e-mail was sent by the charging hub at the request of "
                          "{user}.", user=principal().name)))
    try:
        Mailer(c.config.mail).send(mail)
    except MailError as exc:
        raise ApiError(502, message_of(exc), "mail_failed") from None
    log.info("test e-mail sent to %s by %s", body["to"], principal().name)
    return {"sent": True}
