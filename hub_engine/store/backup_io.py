"""A file cut into parts of at most N bytes, written and read back as one stream.

FAT32, the usual file system of USB keys, refuses files of 4 GiB or more: a large backup
is written as ``NAME.001``, ``NAME.002``…; one that fits stays ``NAME``.
"""

from __future__ import annotations

import io
import os
import re
from pathlib import Path
from typing import IO, Any

__all__ = ["PartsReader", "PartsWriter", "parts_of"]

_PART = re.compile(r"^(.*)\.(\d{3})$")


def parts_of(path: Path) -> list[Path]:
    """The files of one archive, in order, from its name or its first part's."""
    m = _PART.match(path.name)
    if m is None and path.exists():
        return [path]
    base = path.with_name(m.group(1)) if m else path
    parts = sorted(base.parent.glob(base.name + ".[0-9][0-9][0-9]"))
    if not parts:
        raise FileNotFoundError(f"no file {path}")
    return parts


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class PartsWriter(io.RawIOBase):
    """Write-only stream to ``base``, cut every ``part_bytes``; each part synced to disk."""

    def __init__(self, base: Path, part_bytes: int) -> None:
        super().__init__()
        if part_bytes <= 0:
            raise ValueError("part_bytes must be > 0")
        self.base, self.part_bytes = base, part_bytes
        self.paths: list[Path] = []
        self._file: IO[bytes] | None = None
        self._left = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = memoryview(data).cast("B")
        total = len(view)
        while view:
            if self._left == 0:
                self._next()
            assert self._file is not None
            n = min(self._left, len(view))
            self._file.write(view[:n])
            self._left -= n
            view = view[n:]
        return total

    def _next(self) -> None:
        self._close_part()
        path = self.base.with_name(f"{self.base.name}.{len(self.paths) + 1:03d}")
        self._file = path.open("xb")
        self.paths.append(path)
        self._left = self.part_bytes

    def _close_part(self) -> None:
        if self._file is not None:
            self._file.flush()
            os.fsync(self._file.fileno())
            self._file.close()
            self._file = None

    def finish(self) -> list[Path]:
        """Close; a single part takes the plain name. Returns the files in order."""
        self._close_part()
        if not self.paths:
            self._next()
            self._close_part()
        if len(self.paths) == 1:
            os.replace(self.paths[0], self.base)
            self.paths = [self.base]
        _fsync_dir(self.base.parent)
        return list(self.paths)

    def discard(self) -> None:
        """Remove what was written (a failed backup leaves nothing half-made)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        for path in self.paths:
            path.unlink(missing_ok=True)
        self.paths = []


class PartsReader(io.RawIOBase):
    """The parts read back as one stream."""

    def __init__(self, paths: list[Path]) -> None:
        super().__init__()
        self._paths = list(paths)
        self._file: io.BufferedReader | None = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while True:
            if self._file is None:
                if not self._paths:
                    return 0
                self._file = io.BufferedReader(io.FileIO(self._paths.pop(0), "rb"))
            n = self._file.readinto(buffer)
            if n:
                return n
            self._file.close()
            self._file = None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()
