"""The ``hub`` command: ``hub run``, ``hub check-config FILE``, ``hub --version``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Sequence

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
    return parser


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
        return _run(args.config)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    except HubError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
