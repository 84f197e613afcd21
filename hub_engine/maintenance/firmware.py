"""Firmware files the hub keeps for its charge points (``<data_dir>/firmware``).

A file is stored under its SHA-256 and its own name, once (uploading the same bytes again
gives the same file back); table ``firmware`` lists them. A campaign
(:mod:`hub_engine.maintenance.campaigns`) offers one to each charge point through the
FTP server.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hub_engine.clock import Clock, iso_utc
from hub_engine.errors import CommandError
from hub_engine.i18n import Text
from hub_engine.store import Store
from hub_engine.store.rows import insert_row, stored_file

__all__ = ["FIRMWARE_COLUMNS", "FirmwareFiles"]

FIRMWARE_COLUMNS = ("id", "name", "size_bytes", "sha256", "uploaded_at", "uploaded_by")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$")


class FirmwareFiles:
    def __init__(self, store: Store, root: Path, clock: Clock, max_mb: float) -> None:
        self.store, self.root, self.clock = store, root, clock
        self.max_bytes = int(max_mb * 1024 * 1024)

    def check_name(self, name: str) -> None:
        if not _NAME.match(name):
            raise CommandError(Text("name: 1-100 characters, letters, digits and . _ + - "
                                    "(not first)"))

    def receive(self, name: str, chunks: Iterable[bytes]) -> tuple[Path, int, str]:
        """Write ``chunks`` to a temporary file as they come (a firmware file need not
        fit in memory), at most ``max_bytes``; returns it, its size and its SHA-256. Run
        in the API's thread: blocking I/O."""
        self.check_name(name)
        self.root.mkdir(parents=True, exist_ok=True, mode=0o750)
        digest, size = hashlib.sha256(), 0
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".part")
        try:
            with os.fdopen(fd, "wb") as f:
                for chunk in chunks:
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise CommandError(Text("the file is larger than {mb} MB",
                                                mb=self.max_bytes // (1024 * 1024)))
                    digest.update(chunk)
                    f.write(chunk)
            if size == 0:
                raise CommandError(Text("the file is empty"))
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return Path(tmp), size, digest.hexdigest()

    async def add(self, name: str, tmp: Path, size: int, digest: str, who: str
                  ) -> dict[str, Any]:
        """Keep the file :meth:`receive` wrote as firmware ``name``; its row (the one
        there is already for the same bytes and name)."""
        same = self.store.read("SELECT id FROM firmware WHERE sha256 = ? AND name = ?",
                               [digest, name])
        if same:
            tmp.unlink(missing_ok=True)
            return self.get(int(same[0][0])) or {}
        folder = self.root / digest[:16]
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        path = folder / name
        tmp.replace(path)  # whole or not at all
        path.chmod(0o640)
        row = {"name": name, "stored_as": str(path.relative_to(self.root)),
               "size_bytes": size, "sha256": digest,
               "uploaded_at": iso_utc(self.clock.now()), "uploaded_by": who}
        return self.get(await self.store.core.write(
            lambda db: insert_row(db, "firmware", row))) or {}

    def list(self) -> list[dict[str, Any]]:
        rows = self.store.read(f"SELECT {', '.join(FIRMWARE_COLUMNS)} FROM firmware "
                               "ORDER BY id DESC")
        return [dict(zip(FIRMWARE_COLUMNS, r, strict=True)) for r in rows]

    def get(self, firmware_id: int) -> dict[str, Any] | None:
        rows = self.store.read(f"SELECT {', '.join(FIRMWARE_COLUMNS)} FROM firmware "
                               "WHERE id = ?", [firmware_id])
        return dict(zip(FIRMWARE_COLUMNS, rows[0], strict=True)) if rows else None

    def path(self, firmware_id: int) -> Path | None:
        rows = self.store.read("SELECT stored_as FROM firmware WHERE id = ?", [firmware_id])
        return stored_file(self.root, rows[0][0]) if rows else None
