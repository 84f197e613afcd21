"""Pseudo-terminal pairs from socat: a serial line with a device end and a hub end."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["pty_pair"]


@pytest.fixture
def pty_pair(tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(device end, hub end): bytes written to one are read from the other."""
    if shutil.which("socat") is None:
        pytest.fail("socat is missing: `make test` installs it (tests/debian-packages.txt)")
    a, b = tmp_path / "device", tmp_path / "hub"
    proc = subprocess.Popen(["socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}"],
                            stderr=subprocess.DEVNULL)
    for _ in range(100):
        if a.exists() and b.exists():
            break
        time.sleep(0.05)
    assert a.exists() and b.exists(), "socat did not create the pty pair"
    try:
        yield str(a), str(b)
    finally:
        proc.terminate()
        proc.wait(timeout=5)
