"""The ``hub`` command: ``run``, ``sim``, ``check-config``, ``charge-points``, ``approve``,
``ca-cert``, ``devices read|serve``, ``admin create-user|set-password``,
``install-service``."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path

from hub_engine import __version__
from hub_engine.config import HubConfig, load_config
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
    sim = sub.add_parser("sim", help="run a simulated site against a hub")
    sim.add_argument("--url", default="ws://127.0.0.1:9000",
                     help="the hub's OCPP endpoint (default ws://127.0.0.1:9000)")
    sim.add_argument("--config", help="site to simulate (default: the embedded demo)")
    sim.add_argument("--scenario", help="arrivals and building load: office, condominium,"
                     " fleet, island, campus (default: the configuration's simulation."
                     "scenario, else office)")
    sim.add_argument("--speed", type=float, default=1.0,
                     help="simulated seconds per real second (charge point clocks then run"
                          " fast and are not set by the hub)")
    sim.add_argument("--hours", type=float, default=24.0)
    sim.add_argument("--seed", type=int, default=1)
    sim.add_argument("--quirks", default="",
                     help="quirk mix: name[:fraction],… e.g. w_only:0.2,ignores_limits:0.05"
                          " (no fraction: every charge point)")
    ca = sub.add_parser("ca-cert", help="print the local CA certificate to install on "
                                        "charge points (wss)")
    ca.add_argument("--config")
    approve = sub.add_parser("approve", help="accept a pending charge point (or reject it)")
    approve.add_argument("id")
    approve.add_argument("--reject", action="store_true")
    approve.add_argument("--config")
    from hub_engine import cli_admin as admin_cli
    from hub_engine import cli_backup
    from hub_engine.devices import tool
    from hub_engine.ops import service

    tool.add_parsers(sub)
    admin_cli.add_parsers(sub)
    cli_backup.add_parsers(sub)
    service.add_parser(sub)
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


def _sim(args: argparse.Namespace) -> int:
    import json

    from hub_engine.sim.quirks import parse_quirk_mix
    from hub_engine.sim.scenario import run_scenario

    config = load_config(args.config)
    scenario = args.scenario or (config.simulation.scenario if config.simulation else "office")
    configure_logging("warning")
    try:
        quirks = parse_quirk_mix(args.quirks)
    except ValueError as exc:
        raise HubError(str(exc)) from None
    print(f"simulating {len(config.charge_points())} charge points of "
          f"{config.sites[0].id!r} against {args.url} for {args.hours:g} h "
          f"at ×{args.speed:g}…", file=sys.stderr)
    reports = asyncio.run(run_scenario(config, args.url, speed=args.speed, hours=args.hours,
                                       seed=args.seed, quirks=quirks, scenario=scenario))
    print(json.dumps({site: {
        "trips": [{"node": n, "at_h": round(t / 3600, 2)} for n, t in r.trips],
        "max_import_a": round(r.max_import_a, 1), "max_import_va": round(r.max_import_va),
        "limit_a": r.limit_a, "limit_va": r.limit_va,
        "max_overshoot_pct": r.max_overshoot_pct,
        "minutes_over_limit": round(r.seconds_over_limit / 60, 1),
        "energy_delivered_kwh": round(r.energy_wh / 1000, 1)} for site, r in reports.items()},
        indent=2))
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


def _check_devices(config: HubConfig) -> None:
    """Templates load and every RS-485 poll plan fits its bus (nothing is opened)."""
    from hub_engine.clock import SystemClock
    from hub_engine.devices import build_devices
    from hub_engine.devices.build import StaticMeter, StaticOptions

    build_devices(config, SystemClock(), lambda _id: StaticMeter(StaticOptions((0, 0, 0))))


def _run(config_path: str | None) -> int:
    from hub_engine.app import App  # deferred: check-config must not need the whole engine

    config = load_config(config_path)
    configure_logging(config.hub.log_level, config.hub.log_format)
    # Databases, password files and keys are the hub's alone, whatever the umask of the
    # shell or the unit that started it (files 0600, folders 0700).
    os.umask(0o077)
    app = App(config)
    app.api.ctx.config_path = config_path or os.environ.get("HUB_CONFIG") or None
    app.api.ctx.restart = app.request_restart
    asyncio.run(app.run())
    if app.restart_requested:
        # The same process (its pid, its service, `make run`'s wait) on the saved
        # configuration: the charge points keep their limits through the gap.
        logging.getLogger(__name__).warning("restarting the engine")
        logging.shutdown()
        os.execv(sys.executable, [sys.executable, "-m", "hub_engine", *sys.argv[1:]])
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "check-config":
            config = load_config(args.file)
            _check_devices(config)
            for warning in config.warnings():
                print(f"{args.file}: warning: {warning}")
            print(f"{args.file}: OK ({len(config.sites)} site(s), "
                  f"{len(config.charge_points())} charge point(s))")
            return 0
        if args.command == "charge-points":
            return _charge_points(args.config)
        if args.command == "sim":
            return _sim(args)
        if args.command == "ca-cert":
            return _ca_cert(args.config)
        if args.command == "approve":
            return _approve(args.config, args.id, args.reject)
        if args.command == "devices":
            from hub_engine.devices.tool import run

            return run(args)
        if args.command == "install-service":
            from hub_engine.ops.service import run as install

            return install(args)
        if args.command in ("backup", "restore", "verify-backup"):
            from hub_engine.cli_backup import run as backups

            return backups(args)
        if args.command == "admin":
            from hub_engine.cli_admin import run as admin

            return admin(args)
        return _run(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130

