"""Charge points: state, capabilities, configuration, OCPP log; and commands to them.

A command goes through the one command layer (:class:`~hub_engine.ocpp.commands.
CommandService`): the same schema, the same role checks and the same exclusions as the
bus (no raw charging profiles, no configuration key the hub owns). It is answered
``202`` with a job to poll, or ``200`` with the outcome if it ends within ``wait_s``.
"""

from __future__ import annotations

import contextlib
import json
from concurrent.futures import TimeoutError as FutureTimeout
from datetime import UTC, datetime
from typing import Any

from apiflask import APIBlueprint
from flask import request
from ocpp.v16 import call

from hub_engine.api.errors import ApiError
from hub_engine.api.schemas import (
    CommandTypeOut,
    CpDetailOut,
    CpOut,
    JobOut,
    LogOut,
    LogQuery,
    RegistrationIn,
    WaitQuery,
)
from hub_engine.api.security import auth, ctx, principal
from hub_engine.clock import iso_utc
from hub_engine.i18n import Text
from hub_engine.ocpp import repo
from hub_engine.ocpp.commands import COMMANDS, CommandResult

__all__ = ["bp", "known_charge_point"]

bp = APIBlueprint("charge_points", __name__, url_prefix="/api/v1", tag="Charge points")

_CP = ("SELECT id, registration, vendor, model, serial, firmware, last_seen, capabilities,"
       " configuration, last_boot FROM charge_points")


def _facts(cp_id: str | None = None) -> tuple[set[str], dict[str, list[dict[str, Any]]],
                                             dict[tuple[str, str, str], str]]:
    """What every description needs, in one query each (all charge points, or one):
    the configured ids, the connectors by charge point, the models' fail-safe results."""
    c = ctx()
    where, params = (" WHERE charge_point_id = ?", (cp_id,)) if cp_id else ("", ())
    conns: dict[str, list[dict[str, Any]]] = {}
    for r in c.rows("SELECT charge_point_id, connector_id, status, error_code, updated_at"
                    f" FROM connectors{where} ORDER BY charge_point_id, connector_id", params):
        conns.setdefault(r[0], []).append({"connector_id": r[1], "status": r[2],
                                           "error_code": r[3], "updated_at": r[4]})
    models = {(r[0], r[1], r[2]): str(r[3]) for r in c.rows(
        "SELECT vendor, model, firmware, failsafe FROM models")}
    return {cp.id for cp in c.config.charge_points()}, conns, models


def _describe(cp_id: str, row: Any | None, detail: bool,
              facts: tuple[set[str], dict[str, list[dict[str, Any]]],
                           dict[tuple[str, str, str], str]]) -> dict[str, Any]:
    c = ctx()
    configured, conns, models = facts
    online = c.ocpp is not None and cp_id in c.ocpp.stations
    out: dict[str, Any] = {"id": cp_id, "configured": cp_id in configured, "online": online,
                           "connectors": conns.get(cp_id, []), "registration": None,
                           "vendor": None, "model": None, "serial": None, "firmware": None,
                           "last_seen": None, "failsafe": None}
    if row is not None:
        out.update(registration=row[1], vendor=row[2], model=row[3], serial=row[4],
                   firmware=row[5], last_seen=row[6],
                   failsafe=models.get((row[2] or "", row[3] or "", row[5] or "")))
    if detail:
        out["capabilities"] = json.loads(row[7]) if row is not None else {}
        out["configuration"] = json.loads(row[8]) if row is not None else {}
        out["last_boot"] = row[9] if row is not None else None
    return out


@bp.get("/charge-points")
@bp.auth_required(auth, roles=["reader"])
@bp.output(CpOut(many=True))
@bp.doc(summary="Every charge point configured or seen, with its connectors")
def charge_points() -> Any:
    rows = {r[0]: r for r in ctx().rows(_CP)}
    facts = _facts()
    ids = sorted(set(rows) | facts[0])
    return [_describe(cp_id, rows.get(cp_id), False, facts) for cp_id in ids]


def known_charge_point(cp_id: str) -> Any | None:
    """Its row (None: configured, never seen); 404 for a charge point neither configured
    nor seen."""
    c = ctx()
    rows = c.rows(_CP + " WHERE id = ?", (cp_id,))
    if not rows and cp_id not in {cp.id for cp in c.config.charge_points()}:
        raise ApiError(404, Text("no charge point {cp!r}", cp=cp_id))
    return rows[0] if rows else None


@bp.get("/charge-points/<cp_id>")
@bp.auth_required(auth, roles=["reader"])
@bp.output(CpDetailOut)
@bp.doc(responses=[200, 404])
def charge_point(cp_id: str) -> Any:
    row = known_charge_point(cp_id)
    return _describe(cp_id, row, True, _facts(cp_id))


@bp.get("/charge-points/<cp_id>/log")
@bp.auth_required(auth, roles=["reader"])
@bp.input(LogQuery, location="query", arg_name="query")
@bp.output(LogOut(many=True))
@bp.doc(summary="The OCPP messages exchanged, newest first", responses=[200, 404])
def log(cp_id: str, query: dict[str, Any]) -> Any:
    known_charge_point(cp_id)
    before = query["before_ms"] if query["before_ms"] is not None else 2**62
    rows = ctx().rows("SELECT ts_ms, direction, message FROM ocpp_log WHERE"
                      " charge_point_id = ? AND ts_ms < ? ORDER BY ts_ms DESC, id DESC"
                      " LIMIT ?", (cp_id, before, query["limit"]), db="samples")
    return [{"ts": iso_utc(datetime.fromtimestamp(r[0] / 1000, UTC)), "direction": r[1],
             "message": r[2]} for r in rows]


@bp.put("/charge-points/<cp_id>/registration")
@bp.auth_required(auth, roles=["admin"])
@bp.input(RegistrationIn, arg_name="body")
@bp.output(CpOut)
@bp.doc(summary="Approve (accepted) or refuse (rejected) a charge point that asked to join",
        description="An online charge point held in Pending is asked to boot again at once "
                    "(TriggerMessage), so an approval takes effect in seconds.",
        responses=[200, 404, 422])
def set_registration(cp_id: str, body: dict[str, Any]) -> Any:
    c = ctx()
    if not c.rows("SELECT 1 FROM charge_points WHERE id = ?", (cp_id,)):
        raise ApiError(404, Text("no charge point {cp!r} has connected yet", cp=cp_id))
    c.store.core.submit(repo.set_registration(cp_id, body["registration"])).result(30)
    if c.ocpp is not None and body["registration"] == "accepted":
        server = c.ocpp

        async def boot_again() -> None:
            station = server.stations.get(cp_id)  # on the loop: the stations are its own
            with contextlib.suppress(Exception):  # best effort: it boots again within 60 s
                if station is not None:
                    await station.call(call.TriggerMessage(requested_message="BootNotification"))
        c.submit(boot_again())
    rows = c.rows(_CP + " WHERE id = ?", (cp_id,))
    return _describe(cp_id, rows[0], False, _facts(cp_id))


@bp.get("/command-types")
@bp.auth_required(auth, roles=["reader"])
@bp.output(CommandTypeOut(many=True))
@bp.doc(summary="The commands that can be sent, with the role each needs")
def command_types() -> Any:
    return [{"name": s.name, "role": s.role, "description": s.description}
            for s in COMMANDS.values() if s.role != "engine"]


@bp.post("/charge-points/<cp_id>/commands/<name>")
@bp.auth_required(auth, roles=["operator"])
@bp.input(WaitQuery, location="query", arg_name="query")
@bp.output(JobOut, status_code=202)
@bp.doc(summary="Send a command (body: the OCPP call's fields in snake_case)",
        description="e.g. POST …/commands/remote_start {\"id_tag\": \"ABC\", "
                    "\"connector_id\": 1}. Raw charging profiles and the configuration keys"
                    " the hub owns are refused: ask the EMS for a limit instead.",
        responses=[200, 202, 400, 403, 404])
def command(cp_id: str, name: str, query: dict[str, Any]) -> Any:
    c, who = ctx(), principal()
    known_charge_point(cp_id)
    params = request.get_json(silent=True)
    if params is None:
        params = {}
    if not isinstance(params, dict):
        raise ApiError(400, Text("the body is a JSON object of the command's fields"))
    spec = COMMANDS.get(name)
    if spec is None or spec.role == "engine":
        raise ApiError(404, Text("no command {name!r}; see /api/v1/command-types",
                                 name=name))
    if not who.can(spec.role):
        raise ApiError(403, Text("{name} needs the {role} role", name=name, role=spec.role))
    service = c.commands
    if service is None:
        raise ApiError(503, Text("the OCPP server is not running"))
    service.check(name, params, who.role)  # a bad field is a 400 before anything is sent

    async def run() -> dict[str, Any]:
        r: CommandResult = await service.run(cp_id, name, params, who.role)
        return {"outcome": r.outcome, "status": r.status, "error": r.error,
                "payload": json.loads(json.dumps(r.payload, default=str))}

    future = c.submit(run())
    job = c.jobs.add(cp_id, name, who.name, future)
    if query["wait_s"] > 0:
        with contextlib.suppress(FutureTimeout):
            future.result(timeout=query["wait_s"])
        done = c.jobs.get(job["id"])
        if done is not None and done["state"] == "done":
            return done, 200
    return c.jobs.get(job["id"]), 202


@bp.get("/commands")
@bp.auth_required(auth, roles=["operator"])
@bp.output(JobOut(many=True))
@bp.doc(summary="Recent commands sent through the API (newest first, last 1000)")
def jobs() -> Any:
    return ctx().jobs.recent()


@bp.get("/commands/<job_id>")
@bp.auth_required(auth, roles=["operator"])
@bp.output(JobOut)
@bp.doc(responses=[200, 404])
def job(job_id: str) -> Any:
    found = ctx().jobs.get(job_id)
    if found is None:
        raise ApiError(404, Text("no command {name!r}", name=job_id))
    return found
