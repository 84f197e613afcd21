"""Backups: the databases, the configuration and the local CA in one verified archive.

A backup is a ``.tar.gz`` made while the hub runs: each database is copied with SQLite's
online backup API in one step, from a read-only connection, so the copy is one consistent
instant and the single writer (WAL) goes on committing meanwhile. The archive starts with
``manifest.json`` (hub version, time, each file's size and SHA-256, row counts); above
``part_bytes`` it is cut into ``NAME.001``, ``NAME.002``… so a FAT32 USB key (4 GiB per
file) takes it. :func:`verify_backup` reads a copy back whole: hashes, ``PRAGMA
integrity_check``, row counts. :func:`restore_backup` rebuilds a data folder from it.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import shutil
import sqlite3
import tarfile
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from hub_engine import __version__
from hub_engine.clock import iso_utc
from hub_engine.errors import StoreError
from hub_engine.i18n import Text
from hub_engine.store.backup_io import PartsReader, PartsWriter, parts_of

__all__ = ["BackupError", "BackupResult", "BackupSource", "list_backups", "make_backup",
           "restore_backup", "rotate_backups", "verify_backup"]

NAME = re.compile(r"^hub-backup-(\d{8}T\d{6}Z)\.tar\.gz(\.001)?$")
# What a user reads in a backup's manifest and in `hub restore`'s summary.
COUNTED = {"core.db": ("transactions", "charge_points", "users", "members", "badges",
                       "config_history"),
           "samples.db": ("samples", "samples_agg")}


class BackupError(StoreError):
    """A backup could not be made, verified or restored; the message says why."""


@dataclass(frozen=True)
class BackupSource:
    """What to save: the data folder's databases and CA, and the configuration file."""

    data_dir: Path
    core_db: str = "core.db"
    samples_db: str = "samples.db"
    config_text: str | None = None
    with_samples: bool = True


@dataclass(frozen=True)
class BackupResult:
    path: Path  # the first part (or the one file)
    parts: tuple[Path, ...]
    size_bytes: int
    created_at: datetime
    counts: dict[str, int]
    duration_s: float

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.path.name, "parts": len(self.parts), "size_bytes": self.size_bytes,
                "created_at": iso_utc(self.created_at), "counts": self.counts,
                "duration_s": round(self.duration_s, 2)}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _snapshot(src: Path, dst: Path) -> None:
    """One consistent copy: a read-only connection and one backup step (a stepped copy
    restarts each time the writer commits, and the writer never stops)."""
    source = sqlite3.connect(f"file:{src}?mode=ro", uri=True, timeout=30)
    target = sqlite3.connect(dst)
    try:
        source.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        target.close()
        source.close()


def _counts(db: Path, tables: tuple[str, ...]) -> dict[str, int]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        have = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        return {t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                for t in tables if t in have}
    finally:
        conn.close()


def _check(db: Path) -> None:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        result = conn.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(Text("{name}: not a sound database ({why})", name=db.name,
                               why=str(exc))) from None
    finally:
        conn.close()
    if result != "ok":
        raise BackupError(Text("{name}: integrity check failed ({why})", name=db.name,
                               why=result))


def make_backup(source: BackupSource, dest: Path, now: datetime,
                part_bytes: int = 1 << 30) -> BackupResult:
    """Write ``dest/hub-backup-<UTC time>.tar.gz`` (in parts above ``part_bytes``).
    Blocking: run it in a thread. A failed backup leaves no file behind."""
    started = time.monotonic()
    dest.mkdir(parents=True, exist_ok=True)
    base = dest / f"hub-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"
    names = [source.core_db] + ([source.samples_db] if source.with_samples else [])
    need = sum((source.data_dir / n).stat().st_size for n in names
               if (source.data_dir / n).exists())
    free = shutil.disk_usage(source.data_dir).free
    if free < need * 1.1:
        raise BackupError(Text("not enough room in {folder} for the copies ({need} MB needed, "
                               "{free} MB free)", folder=str(source.data_dir),
                               need=need >> 20, free=free >> 20))
    with tempfile.TemporaryDirectory(prefix=".backup-", dir=source.data_dir) as tmp:
        work = Path(tmp)
        files: dict[str, Path] = {}
        if source.config_text is not None:  # first: `hub restore` reads it without the rest
            (work / "hub.yaml").write_text(source.config_text, encoding="utf-8")
            files["hub.yaml"] = work / "hub.yaml"
        for name in names:
            if not (source.data_dir / name).exists():
                raise BackupError(Text("no database {name} in {folder}", name=name,
                                       folder=str(source.data_dir)))
            _snapshot(source.data_dir / name, work / name)
            files[name] = work / name
        tls = source.data_dir / "tls"
        for path in sorted(tls.rglob("*")) if tls.is_dir() else []:
            if path.is_file():
                files[str(path.relative_to(source.data_dir))] = path
        counts: dict[str, int] = {}
        for name, tables in COUNTED.items():
            if name in files:
                counts.update(_counts(files[name], tables))
        manifest = {"format": 1, "hub_version": __version__, "created_at": iso_utc(now),
                    "counts": counts, "files": {
                        name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
                        for name, p in files.items()}}
        writer = PartsWriter(base, part_bytes)
        try:
            with tarfile.open(fileobj=writer, mode="w|gz") as tar:
                body = json.dumps(manifest, indent=1).encode()
                info = tarfile.TarInfo("manifest.json")
                info.size, info.mtime, info.mode = len(body), int(now.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(body))
                for name, path in files.items():
                    tar.add(path, arcname=name, recursive=False)
            parts = writer.finish()
        except BaseException:
            writer.discard()
            raise
    return BackupResult(parts[0], tuple(parts), sum(p.stat().st_size for p in parts), now,
                        counts, time.monotonic() - started)


def _members(path: Path) -> Iterator[tuple[tarfile.TarInfo, tarfile.TarFile]]:
    with PartsReader(parts_of(path)) as raw, tarfile.open(fileobj=raw, mode="r|gz") as tar:
        yield from ((info, tar) for info in tar)


def _unpack(path: Path, into: Path) -> dict[str, Any]:
    """Every file of the archive into ``into``, checked against the manifest."""
    try:
        return _unpack_checked(path, into)
    except (tarfile.TarError, OSError, EOFError, zlib.error, ValueError) as exc:
        raise BackupError(Text("{name}: unreadable archive ({why})", name=path.name,
                               why=str(exc))) from None


def _unpack_checked(path: Path, into: Path) -> dict[str, Any]:
    manifest: dict[str, Any] | None = None
    seen: set[str] = set()
    for info, tar in _members(path):
        name = info.name
        if name.startswith("/") or ".." in Path(name).parts or not info.isfile():
            raise BackupError(Text("{name}: unexpected entry {entry!r}", name=path.name,
                                   entry=name))
        data = tar.extractfile(info)
        assert data is not None
        if name == "manifest.json":
            manifest = json.loads(data.read())
            continue
        if manifest is None or name not in manifest["files"]:
            raise BackupError(Text("{name}: {entry!r} is not in its manifest", name=path.name,
                                   entry=name))
        out = into / name
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as f:
            shutil.copyfileobj(data, f, 1 << 20)
        if _sha256(out) != manifest["files"][name]["sha256"]:
            raise BackupError(Text("{name}: {entry} differs from what was saved",
                                   name=path.name, entry=name))
        seen.add(name)
    if manifest is None or seen != set(manifest["files"]):
        raise BackupError(Text("{name}: incomplete archive", name=path.name))
    return manifest


def _verified(path: Path, work: Path) -> dict[str, Any]:
    manifest = _unpack(path, work)
    counts: dict[str, int] = {}
    for name, tables in COUNTED.items():
        if (work / name).exists():
            _check(work / name)
            counts.update(_counts(work / name, tables))
    if counts != manifest["counts"]:
        raise BackupError(Text("{name}: row counts differ from its manifest", name=path.name))
    return manifest


def verify_backup(path: Path, work_dir: Path | None = None) -> dict[str, Any]:
    """Read a backup back whole (unpacked in a temporary folder under ``work_dir``, the
    system's by default); return its manifest or raise :class:`BackupError`."""
    with tempfile.TemporaryDirectory(prefix=".verify-", dir=work_dir) as tmp:
        return _verified(path, Path(tmp))


def restore_backup(path: Path, data_dir: Path, force: bool = False) -> dict[str, Any]:
    """Rebuild ``data_dir`` (databases, CA) from a verified backup; return its manifest,
    with the saved configuration's text as ``config_text`` (None if it had none)."""
    if (data_dir / "core.db").exists() and not force:
        raise BackupError(Text("{folder} already holds a hub's data: stop that hub and give "
                               "--force to replace it", folder=str(data_dir)))
    data_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".restore-", dir=data_dir) as tmp:
        work = Path(tmp)
        manifest = _verified(path, work)
        for name in manifest["files"]:
            if name == "hub.yaml":
                continue
            target = data_dir / name
            target.parent.mkdir(parents=True, exist_ok=True)
            for stale in (target.with_name(target.name + "-wal"),
                          target.with_name(target.name + "-shm")):
                stale.unlink(missing_ok=True)
            os.replace(work / name, target)  # each file whole or not at all
            target.chmod(0o600)
        config = work / "hub.yaml"
        manifest["config_text"] = config.read_text("utf-8") if config.exists() else None
    return manifest


def list_backups(dest: Path) -> list[dict[str, Any]]:
    """The backups in ``dest``, newest first: file, parts, bytes."""
    found: dict[str, list[Path]] = {}
    for path in dest.iterdir() if dest.is_dir() else []:
        m = NAME.match(path.name)
        if m:
            found[m.group(1)] = parts_of(path)
    return [{"file": parts[0].name, "stamp": stamp, "parts": len(parts),
             "size_bytes": sum(p.stat().st_size for p in parts)}
            for stamp, parts in sorted(found.items(), reverse=True)]


def rotate_backups(dest: Path, keep: int) -> list[str]:
    """Delete all but the ``keep`` newest backups (every part); return what was removed."""
    removed = []
    for old in list_backups(dest)[keep:]:
        for part in parts_of(dest / old["file"]):
            part.unlink(missing_ok=True)
        removed.append(old["file"])
    return removed
