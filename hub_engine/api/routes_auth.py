"""Signing in and out, users and API tokens (administrators only for accounts)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from apiflask import APIBlueprint
from flask import request

from hub_engine.api.accounts import RANK, SESSION_TTL
from hub_engine.api.errors import ApiError
from hub_engine.api.ratelimit import client_address, login_keys
from hub_engine.api.schemas import (
    LoginIn,
    MeOut,
    NewTokenOut,
    TokenIn,
    TokenInfoOut,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from hub_engine.api.security import auth, ctx, principal
from hub_engine.clock import iso_utc
from hub_engine.i18n import Text

__all__ = ["bp"]

bp = APIBlueprint("auth", __name__, url_prefix="/api/v1", tag="Accounts")


@bp.post("/auth/login")
@bp.input(LoginIn, arg_name="body")
@bp.output(TokenOut)
@bp.doc(summary="Sign in: a session token valid 12 h", responses=[200, 401, 429])
def login(body: dict[str, Any]) -> Any:
    c = ctx()
    address = client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                             c.config.http.trusted_proxies)
    keys = login_keys(body["login"], address)
    wait = c.limiter.retry_after_s(*keys)
    if wait > 0:
        raise ApiError(429, Text("too many failed sign-ins; retry in {wait:.0f} s", wait=wait),
                       headers={"Retry-After": str(int(wait) + 1)})
    found = c.accounts.authenticate(body["login"], body["password"])
    if found is None:
        c.limiter.failed(*keys)
        raise ApiError(401, Text("wrong login or password"))
    c.limiter.succeeded(keys[0])
    user_id, role = found
    _, token = c.accounts.issue(f"session {body['login']}", role, "session",
                                body["login"], user_id, SESSION_TTL)
    return {"token": token, "login": body["login"], "role": role,
            "expires_at": iso_utc(c.clock.now() + SESSION_TTL)}


@bp.post("/auth/logout")
@bp.auth_required(auth, roles=["reader"])
@bp.output({}, status_code=204)
@bp.doc(summary="Sign out: the session token is revoked")
def logout() -> Any:
    ctx().accounts.revoke(principal().token_id, "session")
    return ""


@bp.get("/auth/me")
@bp.auth_required(auth, roles=["reader"])
@bp.output(MeOut)
def me() -> Any:
    return {"name": principal().name, "role": principal().role}


@bp.get("/users")
@bp.auth_required(auth, roles=["admin"])
@bp.output(UserOut(many=True))
def users() -> Any:
    return ctx().accounts.users()


@bp.post("/users")
@bp.auth_required(auth, roles=["admin"])
@bp.input(UserIn, arg_name="body")
@bp.output(UserOut, status_code=201)
@bp.doc(responses=[201, 400])
def create_user(body: dict[str, Any]) -> Any:
    c = ctx()
    c.accounts.create_user(body["login"], body["password"], body["role"], body["name"])
    return c.accounts.user(body["login"])


@bp.patch("/users/<login>")
@bp.auth_required(auth, roles=["admin"])
@bp.input(UserPatch, arg_name="body")
@bp.output(UserOut)
@bp.doc(summary="Change a user: password, role, name, disabled (signs their sessions out)",
        responses=[200, 400, 404])
def update_user(login: str, body: dict[str, Any]) -> Any:
    c = ctx()
    try:
        c.accounts.update_user(login, **body)
    except KeyError:
        raise ApiError(404, Text("no user {login!r}", login=login)) from None
    return c.accounts.user(login)


@bp.get("/tokens")
@bp.auth_required(auth, roles=["admin"])
@bp.output(TokenInfoOut(many=True))
def tokens() -> Any:
    return ctx().accounts.tokens()


@bp.post("/tokens")
@bp.auth_required(auth, roles=["admin"])
@bp.input(TokenIn, arg_name="body")
@bp.output(NewTokenOut, status_code=201)
@bp.doc(summary="Create an API token for a program; its role is at most yours")
def create_token(body: dict[str, Any]) -> Any:
    c, me_ = ctx(), principal()
    if RANK[body["role"]] > RANK[me_.role]:
        raise ApiError(403, Text("a token cannot have a higher role than its creator"))
    ttl = timedelta(days=body["expires_days"]) if body["expires_days"] else None
    token_id, token = c.accounts.issue(body["name"], body["role"], "api", me_.name, None, ttl)
    return {"id": token_id, "token": token, "name": body["name"], "role": body["role"],
            "expires_at": iso_utc(c.clock.now() + ttl) if ttl else None}


@bp.delete("/tokens/<int:token_id>")
@bp.auth_required(auth, roles=["admin"])
@bp.output({}, status_code=204)
@bp.doc(summary="Revoke an API token", responses=[204, 404])
def revoke_token(token_id: int) -> Any:
    if token_id >= 2**63 or not ctx().accounts.revoke(token_id):
        raise ApiError(404, Text("no active API token {token}", token=token_id))
    return ""
