"""The ``hub`` command: ``run``, ``check-config``, ``charge-points``, ``approve``, ``ca-cert``."""

from __future__ import annotations

import argparse
import asyncio
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from hub_engine import __version__
from hub_engine.config import load_config
from hub_engine.errors import ConfigError, HubError
from hub_engine.logs import configure_logging

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hub", description="Local energy manager and OCPP 1.6J central system.")
    parser.add_argument("--version", action="version", version=f"hub {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run the hub (embedded demo site without --config)")
    run.add_argument("--config", help="hub.yaml to run (default: $HUB_CONFIG, else the demo)")
    check = sub.add_parser("check-config", help="validate a configuration file and exit")
    check.add_argument("file")
    cps = sub.add_parser("charge-points", help="list the charge points the hub has seen")
    cps.add_argument("--config")
    ca = sub.add_parser("ca-cert", help="print the local CA certificate to install on "
                                        "charge points (wss)")
    ca.add_argument("--config")
    approve = sub.add_parser("approve", help="accept a pending charge point (or reject it)")
    approve.add_argument("id")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--config")
    return parser


def _core_db(config_path: str | None) -> sqlite3.Connection:
    config = load_config(config_path)
    path = Path(config.hub.data_dir) / config.store.core_db
    if not path.exists():
        raise HubError(f"no database at {path}: has the hub run with this configuration?")
    conn = sqlite3.connect(path, timeout=10)
    conn.execute("PRAGMA synchronous=FULL")
    return conn


def _charge_points(config_path: str | None) -> int:
    rows = _core_db(config_path).execute(
        "SELECT id, registration, vendor, model, firmware, last_seen FROM charge_points"
        " ORDER BY registration != 'pending', id").fetchall()
    print(f"{'id':<20} {'registration':<12} {'vendor / model':<30} {'last seen'}")
    for cp_id, reg, vendor, model, _fw, seen in rows:
        label = f"{vendor or '-'} {model or '-'}"
        print(f"{cp_id:<20} {reg:<12} {label:<30} {seen}")
    return 0


def _ca_cert(config_path: str | None) -> int:
    from hub_engine.ocpp.tls import LocalCa, hub_addresses

    config = load_config(config_path)
    if config.ocpp.tls != "local_ca":
        raise HubError(f"ocpp.tls is {config.ocpp.tls!r}: the hub has no local CA")
    ca = LocalCa(Path(config.hub.data_dir) / "tls")
    ca.ensure(hub_addresses(config.ocpp.host))  # the same files `hub run` uses
    sys.stdout.write(ca.ca_cert.read_text())
    return 0


def _approve(config_path: str | None, cp_id: str, reject: bool) -> int:
    conn = _core_db(config_path)
    with conn:
        cur = conn.execute("UPDATE charge_points SET registration = ? WHERE id = ?",
                           ["rejected" if reject else "accepted", cp_id])
    if cur.rowcount == 0:
        raise HubError(f"no charge point {cp_id!r} has connected yet")
    verb = "rejected" if reject else "accepted at its next BootNotification"
    print(f"{cp_id}: {verb}")
    return 0


def _run(config_path: str | None) -> int:
    from hub_engine.app import App  # deferred: check-config must not need the whole engine

    config = load_config(config_path)
    configure_logging(config.hub.log_level, config.hub.log_format)
    app = App(config)
    asyncio.run(app.run())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            config = load_config(args.file)
            print(f"{args.file}: OK ({len(config.sites)} site(s), "
                  f"{len(config.charge_points())} charge point(s))")
            return 0
        if args.command == "charge-points":
            return _charge_points(args.config)
        if args.command == "ca-cert":
            return _ca_cert(args.config)
        if args.command == "approve":
            return _approve(args.config, args.id, args.reject)
        return _run(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
