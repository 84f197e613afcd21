"""Health (no sign-in: for monitoring), the system's state, the local CA certificate, the
engine's restart (to apply a saved configuration) and its backups."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint
from flask import Response

from hub_engine import __version__
from hub_engine.api.errors import ApiError, needed
from hub_engine.api.schemas import HealthOut, RestartOut, SystemOut
from hub_engine.api.schemas_ops import BackupsOut, BackupStartedOut
from hub_engine.api.security import auth, ctx, principal
from hub_engine.i18n import Text

__all__ = ["bp"]

bp = APIBlueprint("system", __name__, url_prefix="/api/v1", tag="System")
log = logging.getLogger(__name__)
RESTART_DELAY_S = 0.5  # the answer leaves before the server stops


@bp.get("/health")
@bp.output(HealthOut)
@bp.doc(summary="Liveness, without signing in", security=[])
def health() -> Any:
    return {"status": "ok", "version": __version__,
            "started_at": ctx().started_at.isoformat()}


@bp.get("/system")
@bp.auth_required(auth, roles=["reader"])
@bp.output(SystemOut)
def system() -> Any:
    c = ctx()
    online = len(c.ocpp.stations) if c.ocpp is not None else 0
    return {"version": __version__, "started_at": c.started_at.isoformat(),
            "uptime_s": (c.clock.now() - c.started_at).total_seconds(),
            "charge_points_configured": len(c.config.charge_points()),
            "charge_points_online": online,
            "ems_cycles": c.ems.cycles if c.ems is not None else 0,
            "sites": [s.id for s in c.config.sites]}


_PEM: dict[int | str, dict[str, str | dict[str, dict[str, Any]]]] = {
    200: {"description": "the PEM certificate",
          "content": {"application/x-pem-file": {"schema": {"type": "string"}}}},
    404: {"description": "no local CA (ocpp.tls is off or operator)"}}


@bp.get("/system/ca-certificate")
@bp.doc(summary="The hub's local CA certificate (PEM), to install on charge points (wss)",
        security=[], responses=_PEM)
def ca_certificate() -> Any:
    c = ctx()
    path = Path(c.config.hub.data_dir) / "tls" / "ca.pem"
    if not path.exists():  # made by wss (ocpp.tls: local_ca) or HTTPS without own files
        raise ApiError(404, Text("this hub has no local CA"))
    return Response(path.read_bytes(), mimetype="application/x-pem-file",
                    headers={"Content-Disposition": "attachment; filename=hub-ca.pem"})


@bp.post("/system/restart")
@bp.auth_required(auth, roles=["admin"])
@bp.output(RestartOut, status_code=202)
@bp.doc(summary="Restart the engine on its saved configuration",
        description="The engine stops cleanly and starts again in the same process. "
                    "Charging goes on meanwhile: every charge point keeps its last "
                    "dynamic limit (valid `ems.profile_validity_s`) and its fallback. "
                    "Poll `/health` until it answers with the new `started_at`.",
        responses=[202, 503])
def restart() -> Any:
    c = ctx()
    restart_now, loop = c.restart, c.loop
    if restart_now is None or loop is None:
        raise ApiError(503, Text(
            "this engine was not started by `hub run` and cannot restart itself: restart its "
            "service"))
    log.warning("engine restart requested by %s", principal().name)
    loop.call_soon_threadsafe(lambda: loop.call_later(RESTART_DELAY_S, restart_now))
    return {"restarting": True, "started_at": c.started_at.isoformat()}


def _backups() -> Any:
    return needed(ctx().backups, Text("this engine makes no backups"))


@bp.get("/system/backups")
@bp.auth_required(auth, roles=["admin"])
@bp.output(BackupsOut)
@bp.doc(summary="The daily backup: folder, next run, the latest attempt, the copies kept",
        responses=[200, 503])
def backups() -> Any:
    service = _backups()
    return {**ctx().on_loop(service.describe), "running": service.running}


@bp.post("/system/backups")
@bp.auth_required(auth, roles=["admin"])
@bp.output(BackupStartedOut, status_code=202)
@bp.doc(summary="Back up now (into store.backup_dir); poll GET /system/backups for the end",
        responses=[202, 409, 503])
def backup_now() -> Any:
    service = _backups()
    if service.folder is None:
        raise ApiError(409, Text("store.backup_dir is not set: give a folder"), "refused")
    if service.running:
        raise ApiError(409, Text("a backup is already running"), "refused")
    future = ctx().submit(service.run_now())
    future.add_done_callback(lambda f: f.exception())  # said by the service; not re-raised
    log.warning("backup requested by %s", principal().name)
    return {"started": True}
