"""Bearer tokens on every route but a few public ones; roles enforced by the server.

A role grants every lower one (admin ⊃ operator ⊃ reader), so a route names the least
role it needs. The same :class:`~hub_engine.api.accounts.Principal` reaches the command
layer, which checks the command's own role again.
"""

from __future__ import annotations

from typing import Any

from apiflask import HTTPTokenAuth
from flask import current_app

from hub_engine.api.accounts import RANK, ROLES, Principal
from hub_engine.api.errors import ApiError
from hub_engine.i18n import Text

__all__ = ["auth", "ctx", "principal"]

auth = HTTPTokenAuth(scheme="Bearer", description="a session token from POST "
                     "/api/v1/auth/login, or an API token created by an administrator")


def ctx() -> Any:
    return current_app.config["HUB"]


@auth.verify_token  # type: ignore[untyped-decorator]
def _verify(token: str) -> Principal | None:
    if not token:
        return None
    return ctx().accounts.principal(token)  # type: ignore[no-any-return]


@auth.get_user_roles  # type: ignore[untyped-decorator]
def _roles(user: Principal) -> list[str]:
    return [r for r in ROLES if RANK[r] <= RANK[user.role]]


@auth.error_processor
def _refused(error: Any) -> Any:
    if error.status_code == 403:
        return current_app.error_callback(  # type: ignore[attr-defined]
            ApiError(403, Text("your role does not allow this"), "forbidden"))
    return current_app.error_callback(  # type: ignore[attr-defined]
        ApiError(401, Text("sign in first: Authorization: Bearer <token>"), "unauthorized",
                 headers={"WWW-Authenticate": "Bearer"}))


def principal() -> Principal:
    user = auth.current_user
    assert isinstance(user, Principal)
    return user
