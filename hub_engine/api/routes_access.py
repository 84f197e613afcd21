"""Access control: members (windows, charge points, credit), badges, the credit ledger,
badges seen but unknown (to enrol), CSV import (all or nothing) and export."""

from __future__ import annotations

import json
from typing import Any

from apiflask import APIBlueprint
from flask import Response, request

from hub_engine.access import repo
from hub_engine.access.csvio import (
    CsvError,
    export_csv,
    parse_csv,
    parse_windows,
    windows_text,
)
from hub_engine.access.policy import Window
from hub_engine.api.errors import ApiError, said
from hub_engine.api.schemas import csv_doc
from hub_engine.api.schemas_access import (
    BadgeIn,
    BadgeOut,
    LedgerOut,
    MemberIn,
    MemberOut,
    UnknownBadgeOut,
)
from hub_engine.api.security import auth, ctx
from hub_engine.clock import iso_utc
from hub_engine.errors import ConfigError
from hub_engine.i18n import Text, message_of
from hub_engine.typed import build

__all__ = ["bp"]

bp = APIBlueprint("access", __name__, url_prefix="/api/v1", tag="Access control")
_BADGES = "SELECT id_tag, member_id, status, expiry, parent_id_tag, label FROM badges"


def _members() -> list[dict[str, Any]]:
    c = ctx()
    badges: dict[int, list[str]] = {}
    for r in c.rows("SELECT id_tag, member_id FROM badges WHERE member_id IS NOT NULL"):
        badges.setdefault(r[1], []).append(r[0])
    out = []
    for r in c.rows("SELECT id, name, grp, blocked, charge_points, windows, credit_wh,"
                    " refill_period, refill_mode, refill_wh, ceiling_wh, on_exhausted,"
                    " priority, last_refill, min_current_a, solar_mode, departure_time,"
                    " energy_need_wh FROM members"
                    " ORDER BY name"):
        out.append({"name": r[1], "group": r[2], "blocked": bool(r[3]),
                    "charge_points": json.loads(r[4]), "windows": json.loads(r[5]),
                    "credit_wh": r[6], "refill_period": r[7], "refill_mode": r[8],
                    "refill_wh": r[9], "ceiling_wh": r[10], "on_exhausted": r[11],
                    "priority": r[12], "last_refill": r[13], "min_current_a": r[14],
                    "solar_mode": r[15], "departure_time": r[16], "energy_need_wh": r[17],
                    "windows_text": windows_text(json.loads(r[5])),
                    "badges": sorted(badges.get(r[0], []))})
    return out


def _changed(blocked: bool = False) -> None:
    access = ctx().access
    if access is not None:
        ctx().on_loop(lambda: access.changed(blocked))


def _places() -> set[str]:
    access = ctx().access
    return {p for places in access.places.values() for p in places} if access else set()


@bp.get("/members")
@bp.auth_required(auth, roles=["reader"])
@bp.output(MemberOut(many=True))
@bp.doc(summary="Members with their rights, credit and badges")
def members() -> Any:
    return _members()


@bp.put("/members/<name>")
@bp.auth_required(auth, roles=["operator"])
@bp.input(MemberIn, arg_name="body")
@bp.output(MemberOut)
@bp.doc(summary="Create or change a member (credit changes are booked in the ledger)",
        responses=[200, 400, 422])
def put_member(name: str, body: dict[str, Any]) -> Any:
    c = ctx()
    if "windows_text" in body:  # as people write them: "lun-ven 7h-19h | Sat 08:00-12:00"
        try:
            body["windows"] = parse_windows(body.pop("windows_text"))
        except ValueError as exc:
            raise ApiError(422, message_of(exc), detail={
                "json": {"windows_text": [said(message_of(exc))]}}) from None
    unknown = [p for p in body.get("charge_points", []) if p not in _places()]
    if unknown:
        raise ApiError(400, Text(
            "charge_points: no charge point or node {place!r}", place=unknown[0]), "refused")
    for i, window in enumerate(body.get("windows", [])):
        try:
            build(Window, window, f"windows[{i}]")
        except ConfigError as exc:
            raise ApiError(422, message_of(exc), detail={"json": {exc.path: [said(exc.message)]}}
                           ) from None
    data = {("grp" if k == "group" else k): v for k, v in body.items()}
    if "blocked" in data:
        data["blocked"] = int(data["blocked"])
    if data.pop("pv_only", False) and "solar_mode" not in data:  # before solar modes
        data["solar_mode"] = "surplus"
    c.store.core.submit(repo.save_member({"name": name, **data}, c.clock.now())).result(30)
    _changed(blocked=bool(body.get("blocked")))
    return next(m for m in _members() if m["name"] == name)


@bp.get("/members/<name>/ledger")
@bp.auth_required(auth, roles=["reader"])
@bp.output(LedgerOut(many=True))
@bp.doc(summary="Every debit and refill of the member's credit, newest first",
        responses=[200, 404])
def ledger(name: str) -> Any:
    rows = ctx().rows("SELECT l.ts, l.delta_wh, l.balance_wh, l.reason, l.transaction_id"
                      " FROM member_ledger l JOIN members m ON m.id = l.member_id WHERE"
                      " m.name = ? ORDER BY l.id DESC LIMIT 1000", (name,))
    if not rows and not ctx().rows("SELECT 1 FROM members WHERE name = ?", (name,)):
        raise ApiError(404, Text("no member {name!r}", name=name))
    return [{"ts": r[0], "delta_wh": r[1], "balance_wh": r[2], "reason": r[3],
             "transaction_id": r[4]} for r in rows]


def _badges() -> list[dict[str, Any]]:
    names = {r[0]: r[1] for r in ctx().rows("SELECT id, name FROM members")}
    return [{"id_tag": r[0], "member": names.get(r[1]), "status": r[2], "expiry": r[3],
             "parent_id_tag": r[4], "label": r[5]} for r in ctx().rows(_BADGES)]


@bp.get("/badges")
@bp.auth_required(auth, roles=["reader"])
@bp.output(BadgeOut(many=True))
def badges() -> Any:
    return _badges()


@bp.put("/badges/<id_tag>")
@bp.auth_required(auth, roles=["operator"])
@bp.input(BadgeIn, arg_name="body")
@bp.output(BadgeOut)
@bp.doc(summary="Enrol or change a badge (idTag, compared case-insensitively)",
        responses=[200, 400, 422])
def put_badge(id_tag: str, body: dict[str, Any]) -> Any:
    c = ctx()
    if not 1 <= len(id_tag) <= 20:
        raise ApiError(400, Text("an idTag has 1 to 20 characters"), "refused")
    member = c.rows("SELECT id FROM members WHERE name = ?", (body["member"],)) if body.get(
        "member") else [(None,)]
    if not member:
        raise ApiError(400, Text("member: no member {name!r}", name=body["member"]),
                       "refused")
    expiry = iso_utc(body["expiry"]) if body.get("expiry") else None

    def job(db: Any) -> None:
        repo.save_badge(db, id_tag, member[0][0], body["status"], expiry,
                        body.get("parent_id_tag"), body["label"])
    c.store.core.submit(job).result(30)
    _changed(blocked=body["status"] == "Blocked")
    return next(b for b in _badges() if b["id_tag"] == id_tag)


@bp.delete("/badges/<id_tag>")
@bp.auth_required(auth, roles=["operator"])
@bp.output({}, status_code=204)
@bp.doc(responses=[204, 404])
def delete_badge(id_tag: str) -> Any:
    def job(db: Any) -> int:
        return int(db.execute("DELETE FROM badges WHERE id_tag = ? COLLATE NOCASE",
                              [id_tag]).rowcount)
    if not ctx().store.core.submit(job).result(30):
        raise ApiError(404, Text("no badge {tag!r}", tag=id_tag))
    _changed(blocked=True)  # a removed badge must not stay in a charge point's cache
    return ""


@bp.get("/unknown-badges")
@bp.auth_required(auth, roles=["operator"])
@bp.output(UnknownBadgeOut(many=True))
@bp.doc(summary="Badges presented but not enrolled, newest first (enrol with PUT /badges)")
def unknown() -> Any:
    return [{"id_tag": r[0], "charge_point": r[1], "first_seen": r[2], "last_seen": r[3],
             "attempts": r[4]} for r in ctx().rows(
                 "SELECT id_tag, charge_point_id, first_seen, last_seen, attempts FROM"
                 " unknown_badges ORDER BY last_seen DESC LIMIT 500")]


@bp.post("/access/import")
@bp.auth_required(auth, roles=["operator"])
@bp.doc(summary="Import members and badges from CSV (text/csv body): all or nothing",
        responses={200: "what was imported", 422: "the bad lines, by number; nothing imported"})
def import_csv() -> Any:
    c = ctx()
    text = request.get_data(as_text=True)
    try:
        rows = parse_csv(text, _places())
    except CsvError as exc:
        lines = [said(Text("line {line}: {message}", line=n, message=m)) for n, m in exc.errors]
        raise ApiError(422, Text("nothing imported: {why}", why="; ".join(lines[:10])),
                       "invalid_csv", detail={"lines": [
                           {"line": n, "message": said(m)} for n, m in exc.errors]}) from None
    now = c.clock.now()

    def job(db: Any) -> int:
        for row in rows:
            member_id = repo.save_member(row.member, now)(db)
            repo.save_badge(db, row.badge["id_tag"], member_id, row.badge["status"],
                            row.badge["expiry"], row.badge["parent_id_tag"])
        return len(rows)
    try:
        count = c.store.core.submit(job).result(60)
    except ConfigError as exc:
        raise ApiError(422, Text("nothing imported: {why}", why=message_of(exc)),
                       "invalid_csv") from None
    _changed(blocked=True)
    return {"badges": count, "members": len({r.member["name"] for r in rows})}


_CSV = csv_doc("one line per badge")


@bp.get("/access/export")
@bp.auth_required(auth, roles=["reader"])
@bp.doc(summary="Members and badges as CSV (the import's format)", responses=_CSV)
def export() -> Any:
    by_name = {m["name"]: m for m in _members()}
    rows = []
    for b in _badges():
        m = by_name.get(b["member"] or "", {})
        rows.append({"member": b["member"] or "", "group": m.get("group", ""),
                     "id_tag": b["id_tag"], "parent_id_tag": b["parent_id_tag"],
                     "badge_status": b["status"], "expiry": b["expiry"],
                     "charge_points": " ".join(m.get("charge_points", [])),
                     "windows": windows_text(m.get("windows", [])),
                     **{k: m.get(k) for k in ("credit_wh", "refill_period", "refill_mode",
                                              "refill_wh", "ceiling_wh", "on_exhausted",
                                              "priority", "min_current_a")},
                     "solar_mode": m.get("solar_mode") or "",
                     "departure_time": m.get("departure_time") or "",
                     "energy_need_wh": m.get("energy_need_wh"),
                     "member_blocked": "yes" if m.get("blocked") else ""})
    return Response(export_csv(rows), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=badges.csv"})
