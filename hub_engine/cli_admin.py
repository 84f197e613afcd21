"""``hub admin create-user``, ``set-password`` and ``create-token``: accounts from the
console (the machine's own administrator needs no sign-in). The password is read from
the terminal (asked twice) or, with ``--password-stdin``, from standard input. A token
(for Node-RED's hub nodes, a supervision program) is printed once, or written to a file
only its owner can read."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from pathlib import Path
from typing import Any

from hub_engine.errors import CommandError
from hub_engine.i18n import Text

ROLES = ("reader", "operator", "admin")  # as hub_engine.api.accounts (loaded on use)

__all__ = ["add_parsers", "run"]


def add_parsers(sub: Any) -> None:
    admin = sub.add_parser("admin", help="accounts from the console: create-user, "
                                         "set-password, create-token")
    verbs = admin.add_subparsers(dest="verb", required=True)
    create = verbs.add_parser("create-user", help="create a user (admin, operator, reader)")
    create.add_argument("login")
    create.add_argument("--role", choices=ROLES, default="operator")
    create.add_argument("--name", default="")
    setpw = verbs.add_parser("set-password", help="set a user's password (signs them out)")
    setpw.add_argument("login")
    for verb in (create, setpw):
        verb.add_argument("--config")
        verb.add_argument("--password-stdin", action="store_true",
                          help="read the password from standard input")
    token = verbs.add_parser("create-token", help="create an API token (shown once)")
    token.add_argument("name")
    token.add_argument("--role", choices=ROLES, default="reader")
    token.add_argument("--out", help="write the token to this file (mode 0600) instead")
    token.add_argument("--config")


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("password (12 characters or more): ")
    if getpass.getpass("again: ") != first:
        raise CommandError(Text("the two passwords differ"))
    return first


async def _apply(args: argparse.Namespace, password: str) -> None:
    from hub_engine.api.accounts import Accounts
    from hub_engine.clock import SystemClock
    from hub_engine.config import load_config
    from hub_engine.store import Store

    config = load_config(args.config)
    Path(config.hub.data_dir).mkdir(parents=True, exist_ok=True)
    store = Store(config.store, Path(config.hub.data_dir), SystemClock())
    await store.start()
    try:
        accounts = Accounts(store, SystemClock())
        if args.verb == "create-token":
            _, token = await asyncio.to_thread(accounts.issue, args.name, args.role, "api",
                                               "console")
            if args.out:
                out = Path(args.out)
                out.parent.mkdir(parents=True, exist_ok=True)
                out.touch(mode=0o600)
                out.write_text(token + "\n")
            else:
                print(token)
        elif args.verb == "create-user":
            await asyncio.to_thread(accounts.create_user, args.login, password, args.role,
                                    args.name)
        else:
            try:
                await asyncio.to_thread(accounts.update_user, args.login, password=password)
            except KeyError:
                raise CommandError(Text("no user {login!r}", login=args.login)) from None
    finally:
        await store.stop()


def run(args: argparse.Namespace) -> int:
    if args.verb == "create-token":
        asyncio.run(_apply(args, ""))
        where = f"written to {args.out}" if args.out else "above, shown once"
        print(f"token {args.name!r} ({args.role}) {where}", file=sys.stderr)
        return 0
    password = _password(args.password_stdin)
    asyncio.run(_apply(args, password))
    done = "created" if args.verb == "create-user" else "password set for"
    print(f"{done} {args.login}; sign in at /api/v1/auth/login or in the web UI")
    return 0
