"""The store never loses a committed row, whatever instant the process is killed at."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _kill_after(data_dir: Path, acknowledged: int, writers: int) -> dict[int, int]:
    """Run the child until it acknowledged ``acknowledged`` rows, SIGKILL it, return them."""
    proc = subprocess.Popen(
        [sys.executable, "-u", str(ROOT / "tests/integration/store_child.py"), str(data_dir),
         str(writers)],
        stdout=subprocess.PIPE, text=True, cwd=ROOT,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    seen: dict[int, int] = {}
    for line in proc.stdout:
        n, rowid = line.split()
        seen[int(n)] = int(rowid)
        if len(seen) >= acknowledged:
            break
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    # Lines already written to the pipe were acknowledged too.
    for line in proc.stdout.read().splitlines():
        if line.strip():
            n, rowid = line.split()
            seen[int(n)] = int(rowid)
    return seen


@pytest.mark.parametrize("seed", range(6))
def test_sigkill_never_loses_a_committed_row(tmp_path: Path, seed: int) -> None:
    rng = random.Random(seed)
    total: dict[int, int] = {}
    # Several kills on the same files: recovery after a kill must itself be safe.
    for _ in range(2):
        total.update(_kill_after(tmp_path, rng.randint(1, 400), writers=rng.choice([1, 8, 32])))
    conn = sqlite3.connect(tmp_path / "core.db")
    rows = dict(conn.execute("SELECT id, id_tag FROM transactions").fetchall())
    lost = [n for n, rowid in total.items() if rows.get(rowid) != f"tag{n}"]
    assert not lost, f"{len(lost)} acknowledged rows lost, e.g. {lost[:5]}"
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    # Transaction ids are never reused: AUTOINCREMENT keeps the high-water mark.
    seq = conn.execute("SELECT seq FROM sqlite_sequence WHERE name='transactions'").fetchone()[0]
    assert seq >= max(total.values())


def test_sqlite3_cli_reads_the_store(tmp_path: Path) -> None:
    """An operator can inspect the live files with Debian's sqlite3 tool."""
    _kill_after(tmp_path, 20, writers=4)
    out = subprocess.run(
        ["sqlite3", str(tmp_path / "core.db"),
         "PRAGMA journal_mode; SELECT count(*) >= 20 FROM transactions;"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == ["wal", "1"]
