"""The EMS: its last cycle (tree, capacity, setpoints), external limits, the devices."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import Response

from hub_engine.api.errors import ApiError, needed, said
from hub_engine.api.schemas import DevicesOut, EmsOut, LimitIn, LimitOut, LimitQuery, csv_doc
from hub_engine.api.schemas_ops import EvidenceQuery, SignalsOut, SolarOut
from hub_engine.api.security import auth, ctx, principal
from hub_engine.ems.external import LimitRequest
from hub_engine.i18n import Text
from hub_engine.signals.evidence import evidence, evidence_csv

__all__ = ["bp"]

bp = APIBlueprint("ems", __name__, url_prefix="/api/v1", tag="EMS")


def _ems() -> Any:
    return needed(ctx().ems, Text("the EMS is not running"))


@bp.get("/ems")
@bp.auth_required(auth, roles=["reader"])
@bp.output(EmsOut)
@bp.doc(summary="The last EMS cycle: per node the meter, the non-charging load, the "
                "capacity left for charging; per connector its limit and why")
def ems_state() -> Any:
    ems = _ems()
    return {"cycles": ems.cycles, "record": ctx().on_loop(lambda: dict(ems.record))}


@bp.get("/ems/limits")
@bp.auth_required(auth, roles=["reader"])
@bp.output(LimitOut(many=True))
@bp.doc(summary="External limits in force (and expired ones held)")
def limits() -> Any:
    ems = _ems()
    return ctx().on_loop(ems.external.describe)


@bp.put("/ems/limits")
@bp.auth_required(auth, roles=["operator"])
@bp.input(LimitIn, arg_name="body")
@bp.output(LimitOut)
@bp.doc(summary="Put a limit on a node or connector until an expiry (at most 7 days)",
        description="On expiry, `release` drops it and `hold` keeps fallback_a/fallback_w "
                    "(a shedding order must not loosen by itself). Kept across restarts.",
        responses=[200, 400])
def set_limit(body: dict[str, Any]) -> Any:
    ems = _ems()
    source = body.pop("source", None) or f"api:{principal().name}"
    req = LimitRequest(source=source, **body)

    def put() -> dict[str, Any]:
        ems.external.set(req)
        ems.wake()
        return next(d for d in ems.external.describe()
                    if d["target"] == req.target and d["source"] == source)
    return ctx().on_loop(put)


@bp.delete("/ems/limits/<target>")
@bp.auth_required(auth, roles=["operator"])
@bp.input(LimitQuery, location="query", arg_name="query")
@bp.output({}, status_code=204)
@bp.doc(summary="Withdraw a limit (by target and source)", responses=[204, 404])
def clear_limit(target: str, query: dict[str, Any]) -> Any:
    ems = _ems()

    def clear() -> bool:
        done: bool = ems.external.clear(target, query["source"])
        ems.wake()
        return done
    if not ctx().on_loop(clear):
        raise ApiError(404, Text("no limit on {target!r} from {source!r}", target=target,
                                 source=query["source"]))
    return ""


@bp.get("/devices")
@bp.auth_required(auth, roles=["reader"])
@bp.output(DevicesOut)
@bp.doc(summary="Meters, inverters, batteries, I/O modules: values, age, errors; inputs")
def devices() -> Any:
    devs = ctx().devices
    if devs is None:
        return {"devices": {}, "inputs": {}}
    return ctx().on_loop(devs.describe)


@bp.get("/signals")
@bp.auth_required(auth, roles=["reader"])
@bp.output(SignalsOut)
@bp.doc(summary="Grid signals: EDF-SEI's ZNI signal in force (or assumed), until when, "
                "the last fetch or its error, the slots ahead; Tempo's colour of the "
                "tariff day and the limit it puts on the site")
def signals() -> Any:
    c = ctx()
    zni = c.on_loop(c.signals.describe) if c.signals is not None else {"configured": False}
    tempo = c.on_loop(c.tempo.describe) if c.tempo is not None else {"configured": False}
    ecowatt = (c.on_loop(c.ecowatt.describe) if c.ecowatt is not None
               else {"configured": False})
    offpeak = (c.on_loop(c.offpeak.describe) if c.offpeak is not None
               else {"configured": False})
    return {**zni, "tempo": tempo, "ecowatt": ecowatt, "offpeak": offpeak}


@bp.get("/solar")
@bp.auth_required(auth, roles=["reader"])
@bp.output(SolarOut)
@bp.doc(summary="Solar charging and PV per site: the mode, the last decision (surplus, "
                "each solar car), the PV forecast and the inverters' measured power")
def solar() -> Any:
    c = ctx()
    record = c.ems.record if c.ems is not None else {}
    pv = c.on_loop(c.pv.describe) if c.pv is not None else {}
    return {"sites": {site.id: {"mode": site.solar.mode,
                                "solar": (record.get("solar") or {}).get(site.id),
                                "pv": pv.get(site.id)} for site in c.config.sites}}


EVIDENCE_MAX = timedelta(days=93)


@bp.get("/signals/zni/evidence")
@bp.auth_required(auth, roles=["reader"])
@bp.input(EvidenceQuery, location="query", arg_name="query")
@bp.doc(summary="Advenir evidence (CSV): per 10-minute slot, the EDF-SEI signal and, per "
                "connector, the limit sent, the current offered and the power drawn after the "
                "reaction window, and whether the slot complies",
        responses=csv_doc("one line per slot and connector"))
def zni_evidence(query: dict[str, Any]) -> Any:
    c = ctx()
    until = query.get("until") or datetime.now(UTC)
    since = query.get("since") or until - timedelta(days=7)
    if not since < until <= since + EVIDENCE_MAX:
        reason = Text("since must be before until, at most {days} days before",
                      days=EVIDENCE_MAX.days)
        raise ApiError(422, reason, detail={"query": {"until": [said(reason)]}})
    rows = evidence(c.rows, c.config, since, until, c.config.ems.reaction_window_s)
    name = f"advenir-zni-{since.date().isoformat()}-{until.date().isoformat()}.csv"
    return Response(evidence_csv(rows, c.config.hub.timezone), mimetype="text/csv",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
