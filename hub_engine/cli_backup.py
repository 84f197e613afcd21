"""``hub backup`` and ``hub restore``: a copy of a running hub onto a USB key, and a new
box rebuilt from it (databases, local CA, configuration) in one command."""

from __future__ import annotations

import argparse
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub_engine.errors import CommandError
from hub_engine.i18n import Text

__all__ = ["add_parsers", "run"]


def add_parsers(sub: Any) -> None:
    backup = sub.add_parser("backup", help="back up the databases, the configuration and the "
                                           "local CA now (the hub may be running)")
    backup.add_argument("--config", help="the hub's hub.yaml (default: $HUB_CONFIG, the demo)")
    backup.add_argument("--to", help="folder (default: store.backup_dir)")
    restore = sub.add_parser("restore", help="rebuild a hub's data folder and configuration "
                                             "from a backup (stop the hub first)")
    restore.add_argument("file", help="hub-backup-….tar.gz, or its first part (….001)")
    restore.add_argument("--config", help="where the configuration goes (default: "
                                           "$HUB_CONFIG); its data_dir receives the data")
    restore.add_argument("--force", action="store_true",
                         help="replace an existing data folder and configuration file")
    verify = sub.add_parser("verify-backup", help="read a backup back whole and check it")
    verify.add_argument("file")


def _backup(args: argparse.Namespace) -> int:
    from hub_engine.config import load_config
    from hub_engine.config.loader import config_text
    from hub_engine.ops.backups import backup_now

    path = args.config or os.environ.get("HUB_CONFIG") or None
    config = load_config(path)
    result = backup_now(config, config_text(path), datetime.now(UTC),
                        Path(args.to) if args.to else None)
    names = ", ".join(p.name for p in result.parts)
    counts = ", ".join(f"{k} {v}" for k, v in result.counts.items())
    print(f"{names}: {result.size_bytes / 1e6:.1f} MB in {result.duration_s:.1f} s, "
          f"verified ({counts})")
    return 0


def _restore(args: argparse.Namespace) -> int:
    from hub_engine.config import parse_config
    from hub_engine.store.backup import restore_backup

    target = args.config or os.environ.get("HUB_CONFIG")
    if not target:
        raise CommandError(Text("give --config PATH: where the restored configuration goes"))
    config_file = Path(target).resolve()
    if config_file.exists() and not args.force:
        raise CommandError(Text("{path} exists: give --force to replace it",
                                path=str(config_file)))
    saved = _config_of(Path(args.file))
    if saved is None:
        raise CommandError(Text("this backup holds no configuration"))
    config = parse_config(saved, source=str(config_file), base_dir=config_file.parent, env={})
    data_dir = Path(config.hub.data_dir)
    manifest = restore_backup(Path(args.file), data_dir, force=args.force)  # verified first
    config_file.parent.mkdir(parents=True, exist_ok=True)
    tmp = config_file.with_suffix(".yaml.new")
    tmp.write_text(saved, encoding="utf-8")
    os.replace(tmp, config_file)
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"restored the backup of {manifest['created_at']} (hub {manifest['hub_version']}) "
          f"into {data_dir} and {config_file}: {counts}")
    print(f"start it with: hub run --config {config_file}")
    return 0


def _config_of(path: Path) -> str | None:
    import tarfile

    from hub_engine.store.backup_io import PartsReader, parts_of

    with PartsReader(parts_of(path)) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
        for info in tar:
            if info.name == "hub.yaml":
                data = tar.extractfile(info)
                return data.read().decode("utf-8") if data is not None else None
    return None


def _verify(args: argparse.Namespace) -> int:
    from hub_engine.store.backup import verify_backup

    manifest = verify_backup(Path(args.file))
    counts = ", ".join(f"{k} {v}" for k, v in manifest["counts"].items())
    print(f"{args.file}: OK, made {manifest['created_at']} by hub {manifest['hub_version']}"
          f" ({counts})")
    return 0


def run(args: argparse.Namespace) -> int:
    return {"backup": _backup, "restore": _restore, "verify-backup": _verify}[args.command](args)
