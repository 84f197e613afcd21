"""People and programs: users with hashed passwords, session and API tokens, roles.

Passwords are hashed with argon2id; tokens are 256-bit random strings of which only the
SHA-256 is stored (a stolen database gives no token), shown once at creation. Roles:
``reader`` (reads everything but secrets), ``operator`` (supervises and commands),
``admin`` (configures everything, manages accounts). An API token carries a role no
higher than its creator's. No default password: the first run creates ``admin`` with a
random password written to a file only root and the hub can read.

Reads run on the calling thread's own read-only connection (the API's thread pool);
writes go through the core database's writer thread.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.errors import CommandError
from hub_engine.i18n import Text
from hub_engine.store import Store

__all__ = ["RANK", "ROLES", "Accounts", "Principal", "Role"]

log = logging.getLogger(__name__)
Role = Literal["reader", "operator", "admin"]
ROLES: tuple[Role, ...] = ("reader", "operator", "admin")
RANK = {"reader": 0, "operator": 1, "admin": 2}
SESSION_TTL = timedelta(hours=12)
_LOGIN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
MIN_PASSWORD = 12


@dataclass(frozen=True)
class Principal:
    """Who is calling: a signed-in user (session token) or a program (API token)."""

    name: str  # the user's login, or "token:<name>"
    role: Role
    token_id: int
    user_id: int | None

    def can(self, role: Role) -> bool:
        return RANK[self.role] >= RANK[role]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Accounts:
    def __init__(self, store: Store, clock: Clock) -> None:
        self.store, self.clock = store, clock
        self.hasher = PasswordHasher()

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return self.store.read(sql, params)

    def _write(self, sql: str, params: tuple[Any, ...], insert: bool = False) -> int:
        """Rows changed, or the new row's id for an insert."""
        def job(db: Any) -> int:
            cur = db.conn.execute(sql, params)
            return int(cur.lastrowid if insert else cur.rowcount)
        return self.store.core.submit(job).result(timeout=30)

    # -- users ----------------------------------------------------------------------
    def users(self) -> list[dict[str, Any]]:
        return [{"login": r[0], "name": r[1], "role": r[2], "created_at": r[3],
                 "disabled": bool(r[4])} for r in self._rows(
                     "SELECT login, name, role, created_at, disabled FROM users"
                     " WHERE password_hash IS NOT NULL ORDER BY login")]

    def user(self, login: str) -> dict[str, Any] | None:
        return next((u for u in self.users() if u["login"] == login), None)

    def _check_password(self, password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise CommandError(Text("password: at least {count} characters", count=MIN_PASSWORD))

    def create_user(self, login: str, password: str, role: Role, name: str = "") -> None:
        if not _LOGIN.match(login):
            raise CommandError(Text("login: 2-32 characters: a-z 0-9 . _ - (lower case)"))
        if role not in ROLES:
            raise CommandError(Text("role: one of {roles}", roles=", ".join(ROLES)))
        self._check_password(password)
        if self._rows("SELECT 1 FROM users WHERE login = ?", (login,)):
            raise CommandError(Text("login: {login!r} exists already", login=login))
        self._write("INSERT INTO users (login, name, password_hash, role, created_at)"
                    " VALUES (?, ?, ?, ?, ?)", (login, name, self.hasher.hash(password),
                                                role, iso_utc(self.clock.now())), insert=True)

    def update_user(self, login: str, *, password: str | None = None, role: Role | None = None,
                    disabled: bool | None = None, name: str | None = None) -> None:
        user = self.user(login)
        if user is None:
            raise KeyError(login)
        demoted = (role is not None and role != "admin") or bool(disabled)
        if user["role"] == "admin" and not user["disabled"] and demoted and len(
                [u for u in self.users() if u["role"] == "admin" and not u["disabled"]]) < 2:
            raise CommandError(Text(
                "the last active administrator cannot be demoted or disabled"))
        changes: dict[str, Any] = {"role": role, "name": name}
        if password is not None:
            self._check_password(password)
            changes["password_hash"] = self.hasher.hash(password)
        if disabled is not None:
            changes["disabled"] = int(disabled)
        changes = {k: v for k, v in changes.items() if v is not None}
        sign_out = password is not None or role is not None or bool(disabled)
        now = iso_utc(self.clock.now())

        def job(db: Any) -> None:  # one transaction: all of the change or none of it
            if changes:
                db.execute(f"UPDATE users SET {', '.join(f'{k} = ?' for k in changes)}"
                           " WHERE login = ?", [*changes.values(), login])
            if sign_out:
                db.execute("UPDATE api_tokens SET revoked_at = ? WHERE kind = 'session' AND"
                           " revoked_at IS NULL AND user_id = (SELECT id FROM users WHERE"
                           " login = ?)", [now, login])
        self.store.core.submit(job).result(timeout=30)

    def ensure_first_admin(self, data_dir: Path) -> Path | None:
        """No administrator yet: create ``admin`` with a random password in a 0600 file."""
        if self._rows("SELECT 1 FROM users WHERE role = 'admin' AND password_hash IS NOT NULL"):
            return None
        password = secrets.token_urlsafe(18)
        path = data_dir / "initial-admin-password"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(password + "\n")
        self.create_user("admin", password, "admin", "first administrator")
        log.warning("no administrator yet: created 'admin'; its password is in %s "
                    "(sign in, change it, delete the file)", path)
        return path

    def authenticate(self, login: str, password: str) -> tuple[int, Role] | None:
        rows = self._rows("SELECT id, password_hash, role, disabled FROM users WHERE login = ?",
                          (login,))
        if not rows or rows[0][1] is None or rows[0][3]:
            self.hasher.hash(password)  # same time whether the login exists or not
            return None
        try:
            self.hasher.verify(rows[0][1], password)
        except (VerificationError, InvalidHashError):
            return None
        return int(rows[0][0]), rows[0][2]

    # -- tokens ---------------------------------------------------------------------
    def issue(self, name: str, role: Role, kind: Literal["api", "session"],
              created_by: str, user_id: int | None = None,
              ttl: timedelta | None = None) -> tuple[int, str]:
        """A new token: (id, the token itself — shown once, never stored)."""
        token = "hub_" + secrets.token_urlsafe(32)
        expires = iso_utc(self.clock.now() + ttl) if ttl is not None else None
        token_id = self._write(
            "INSERT INTO api_tokens (name, token_hash, role, created_at, kind, user_id,"
            " created_by, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (name, _digest(token), role, iso_utc(self.clock.now()), kind, user_id,
             created_by, expires), insert=True)
        return token_id, token

    def principal(self, token: str) -> Principal | None:
        rows = self._rows(
            "SELECT t.id, t.name, t.role, t.kind, t.user_id, t.expires_at, u.login, u.role,"
            " u.disabled FROM api_tokens t LEFT JOIN users u ON u.id = t.user_id"
            " WHERE t.token_hash = ? AND t.revoked_at IS NULL", (_digest(token),))
        if not rows:
            return None
        tid, name, role, kind, user_id, expires, login, user_role, disabled = rows[0]
        until = parse_iso(expires) if expires is not None else None
        if expires is not None and (until is None or until <= self.clock.now()):
            return None
        if kind == "session":
            if login is None or disabled:
                return None
            return Principal(login, user_role, tid, user_id)
        return Principal(f"token:{name}", role, tid, None)

    def tokens(self) -> list[dict[str, Any]]:
        return [{"id": r[0], "name": r[1], "role": r[2], "created_at": r[3],
                 "created_by": r[4], "expires_at": r[5], "revoked": r[6] is not None}
                for r in self._rows("SELECT id, name, role, created_at, created_by,"
                                    " expires_at, revoked_at FROM api_tokens"
                                    " WHERE kind = 'api' ORDER BY id")]

    def revoke(self, token_id: int, kind: str = "api") -> bool:
        return self._write("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND kind = ?"
                           " AND revoked_at IS NULL",
                           (iso_utc(self.clock.now()), token_id, kind)) > 0
