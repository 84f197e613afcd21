"""Backups: made while charge points write, verified, split for FAT32, rotated, restored
onto an empty folder by `hub restore`; the daily job on a fake clock; failures alerted."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from ocpp.v16 import call

from hub_engine.cli import main as hub_cli
from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.ops.backups import BackupService, next_backup_at
from hub_engine.store.backup import (
    BackupError,
    BackupSource,
    list_backups,
    make_backup,
    restore_backup,
    rotate_backups,
    verify_backup,
)
from tests.integration.api_fixtures import Hub, site
from tests.ocpp_client import boot_until_accepted, connected

NOW = datetime(2026, 12, 4, 2, 0, tzinfo=UTC)


def _rows(db: Path, sql: str) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


async def _charge_and_meter(url: str, cp_id: str, stop: threading.Event, acked: list[int]
                            ) -> None:
    """A session whose MeterValues go on as fast as the hub answers them, until ``stop``;
    ``acked`` counts the ones the hub acknowledged."""
    async with connected(url, cp_id) as cp:
        await boot_until_accepted(cp)
        start = await cp.call(call.StartTransaction(
            connector_id=1, id_tag=f"TAG-{cp_id}", meter_start=0,
            timestamp=(NOW - timedelta(hours=3)).isoformat()))
        base = NOW - timedelta(hours=2)
        i = 0
        while not stop.is_set():
            ts = base + timedelta(seconds=i)
            await cp.call(call.MeterValues(connector_id=1, transaction_id=start.transaction_id,
                                           meter_value=[{"timestamp": ts.isoformat(),
                                                         "sampledValue": [{
                                                             "value": str(i * 10),
                                                             "measurand":
                                                                 "Energy.Active.Import.Register",
                                                             "unit": "Wh"}]}]))
            acked.append(i)
            i += 1
        await cp.call(call.StopTransaction(meter_stop=i * 10, transaction_id=start.transaction_id,
                                           timestamp=(base + timedelta(seconds=i)).isoformat()))


def test_a_backup_made_while_charge_points_write_loses_nothing_and_restores_elsewhere(
        tmp_path: Path) -> None:
    old, new, usb = tmp_path / "old", tmp_path / "new", tmp_path / "usb"
    old.mkdir()
    # The data next to the configuration (data_dir: .), as on a box restored elsewhere.
    text = (site(more=f"store: {{backup_dir: {usb}, backup_keep: 3}}\n") % (".", "null"))
    (old / "hub.yaml").write_text(text)
    hub = Hub(old)
    try:
        def history(db: object) -> None:  # a year of a meter: the copy takes a while
            db.execute("INSERT INTO series (source, measurand, unit) VALUES ('old/1', 'P', 'W')")
            db.conn.executemany(  # type: ignore[attr-defined]
                "INSERT INTO samples (series_id, ts_ms, value) VALUES (last_insert_rowid(), ?, ?)",
                ((i * 60_000, float(i % 7000)) for i in range(400_000)))
        hub.app.store.samples.submit(history).result(60)
        url = f"ws://127.0.0.1:{hub.app.ocpp.ports['ws']}"
        stop = threading.Event()
        acked: dict[str, list[int]] = {"CP1": [], "CP2": []}

        async def writers() -> None:
            await asyncio.gather(*(_charge_and_meter(url, cp, stop, acked[cp]) for cp in acked))
        thread = threading.Thread(target=lambda: asyncio.run(writers()))
        thread.start()
        deadline = time.monotonic() + 30
        while min(len(v) for v in acked.values()) < 50 and time.monotonic() < deadline:
            time.sleep(0.05)
        before = {cp: len(v) for cp, v in acked.items()}
        assert hub.send("POST", "/system/backups").status_code == 202
        while hub.get("/system/backups").json()["running"] and time.monotonic() < deadline:
            time.sleep(0.05)
        during = {cp: len(v) - before[cp] for cp, v in acked.items()}
        took_s = hub.get("/system/backups").json()["last"]["duration_s"]
        time.sleep(0.5)
        stop.set()
        thread.join(30)
        state = hub.get("/system/backups").json()
        assert state["last"]["ok"], state
        assert [b["file"] for b in state["backups"]] == [state["last"]["file"]]
        assert state["last"]["counts"]["transactions"] == 2
        # The charge points were answered all along, and every acknowledged value is kept.
        assert all(n > 0 for n in during.values()), (during, took_s)
        for cp, values in acked.items():
            kept = hub.app.store.rows(
                "SELECT COUNT(*) FROM samples JOIN series ON series.id = series_id"
                " WHERE source = ? AND measurand = 'Energy.Active.Import.Register'",
                [f"{cp}/1"], db="samples")[0][0]
            assert kept == len(values), (cp, kept, len(values))
        password = hub.admin_password
    finally:
        hub.stop()
    backup = usb / state["last"]["file"]
    # A new box: an empty folder, one command.
    assert hub_cli(["restore", str(backup), "--config", str(new / "hub.yaml")]) == 0
    assert (new / "hub.yaml").read_text() == text
    sessions = "SELECT id, id_tag, meter_start_wh FROM transactions ORDER BY id"
    assert _rows(new / "core.db", sessions) == _rows(old / "core.db", sessions)
    in_backup = _rows(new / "samples.db", "SELECT COUNT(*) FROM samples")[0][0]
    assert in_backup >= sum(before.values())  # what was acknowledged before it began
    # It refuses to overwrite a hub's data without --force.
    assert hub_cli(["restore", str(backup), "--config", str(new / "hub.yaml")]) == 1
    restored = Hub(new)
    try:  # the same accounts and sessions
        signed = restored.login("admin", password)
        assert signed.status_code == 200
        assert len(requests.get(f"{restored.url}/sessions", timeout=10, headers={
            "Authorization": f"Bearer {signed.json()['token']}"}).json()) == 2
    finally:
        restored.stop()


def _database(path: Path, rows: int) -> None:
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE transactions (id INTEGER PRIMARY KEY, blob BLOB)")
    conn.executemany("INSERT INTO transactions (blob) VALUES (randomblob(1000))",
                     [()] * rows)
    conn.commit()
    conn.close()


def test_a_large_backup_is_cut_into_parts_and_any_damage_is_found(tmp_path: Path) -> None:
    data, usb = tmp_path / "data", tmp_path / "usb"
    data.mkdir()
    _database(data / "core.db", 400)  # random: about 400 KB even compressed
    source = BackupSource(data, with_samples=False, config_text="hub: {}\n")
    result = make_backup(source, usb, NOW, part_bytes=64 * 1024)
    assert len(result.parts) >= 6
    assert [p.name for p in result.parts][:2] == ["hub-backup-20261204T020000Z.tar.gz.001",
                                                  "hub-backup-20261204T020000Z.tar.gz.002"]
    assert all(p.stat().st_size <= 64 * 1024 for p in result.parts)
    assert verify_backup(result.path)["counts"] == {"transactions": 400}
    assert list_backups(usb)[0]["parts"] == len(result.parts)
    # Restored from its first part, joined back.
    manifest = restore_backup(result.path, tmp_path / "restored")
    assert manifest["config_text"] == "hub: {}\n"
    assert _rows(tmp_path / "restored" / "core.db", "SELECT COUNT(*) FROM transactions") == [
        (400,)]
    # One flipped byte in a middle part, or a lost last part: refused, not restored.
    middle = result.parts[2]
    raw = bytearray(middle.read_bytes())
    raw[1000] ^= 0xFF
    middle.write_bytes(bytes(raw))
    with pytest.raises(BackupError):
        verify_backup(result.path)
    middle.write_bytes(bytes(raw[:1000]) + bytes([raw[1000] ^ 0xFF]) + bytes(raw[1001:]))
    verify_backup(result.path)
    result.parts[-1].unlink()
    with pytest.raises(BackupError):
        verify_backup(result.path)
    with pytest.raises(BackupError):
        restore_backup(result.path, tmp_path / "other")
    assert not (tmp_path / "other" / "core.db").exists()


def test_rotation_keeps_the_newest(tmp_path: Path) -> None:
    data, usb = tmp_path / "data", tmp_path / "usb"
    data.mkdir()
    _database(data / "core.db", 3)
    for day in range(5):
        make_backup(BackupSource(data, with_samples=False), usb, NOW + timedelta(days=day))
    removed = rotate_backups(usb, keep=2)
    assert removed == ["hub-backup-20261206T020000Z.tar.gz", "hub-backup-20261205T020000Z.tar.gz",
                       "hub-backup-20261204T020000Z.tar.gz"]
    assert [b["stamp"] for b in list_backups(usb)] == ["20261208T020000Z", "20261207T020000Z"]


@pytest.mark.parametrize(("now", "expected"), [
    ("2026-12-04T01:59:00+00:00", "2026-12-04T02:00:00+00:00"),  # 03:00 Paris, winter
    ("2026-12-04T02:00:00+00:00", "2026-12-05T02:00:00+00:00"),
    ("2026-07-01T00:30:00+00:00", "2026-07-01T01:00:00+00:00"),  # 03:00 Paris, summer
    # 02:30 does not exist on the night the clocks go forward: an hour later, 03:30 local.
    ("2026-03-28T12:00:00+00:00", "2026-03-29T01:30:00+00:00"),
])
def test_the_daily_time_is_local(now: str, expected: str) -> None:
    at = "02:30" if now.startswith("2026-03") else "03:00"
    got = next_backup_at(datetime.fromisoformat(now), at, "Europe/Paris")
    assert got.astimezone(UTC) == datetime.fromisoformat(expected)


CONFIG = """
hub: {data_dir: %s}
store: {backup_dir: %s, backup_time: "03:00", backup_keep: 2}
sites: [{id: s1, grid: {id: grid, limit_a: 63}}]
"""


async def test_the_daily_backup_runs_on_time_and_a_failure_is_alerted(tmp_path: Path) -> None:
    data, usb = tmp_path / "data", tmp_path / "usb"
    data.mkdir()
    _database(data / "core.db", 3)
    _database(data / "samples.db", 0)
    clock = FakeClock(datetime(2026, 12, 4, 1, 0, tzinfo=UTC))  # 02:00 in Paris
    alerts: list[tuple[str, str, dict[str, object]]] = []
    config = parse_config(CONFIG % (data, usb))
    service = BackupService(config, clock, lambda: "hub: {}\n",
                            alert=lambda *a: alerts.append(a))
    await service.start()
    try:
        await asyncio.sleep(0.05)
        assert service.next_at is not None and service.next_at.hour == 3
        clock.advance(3599)
        await asyncio.sleep(0.2)
        assert list_backups(usb) == []  # not before its time
        clock.advance(1)
        for _ in range(100):
            if service.last is not None:
                break
            await asyncio.sleep(0.05)
        assert service.last is not None and service.last["ok"], service.last
        assert [b["stamp"] for b in list_backups(usb)] == ["20261204T020000Z"]
        assert alerts[-1][0] == "backup_ok"
        # The key pulled out (a file where the folder was): alerted, and tried next day.
        for path in usb.iterdir():
            path.unlink()
        usb.rmdir()
        usb.write_text("not a folder")
        clock.advance(24 * 3600)
        for _ in range(100):
            if service.last["at"].startswith("2026-12-05"):
                break
            await asyncio.sleep(0.05)
        assert service.last["ok"] is False and alerts[-1][0] == "backup_failed"
        assert "usb" in str(alerts[-1][2]["error"])
        assert service.next_at is not None and service.next_at.day == 6
    finally:
        await service.stop()


def test_the_api_says_what_it_refuses(tmp_path: Path) -> None:
    hub = Hub(tmp_path)  # no backup_dir
    try:
        resp = requests.post(f"{hub.url}/system/backups", timeout=10,
                             headers={**hub.auth("admin"), "Accept-Language": "fr"})
        assert resp.status_code == 409
        assert resp.json()["error"]["message"] == (
            "store.backup_dir n'est pas réglé : donnez un dossier")
        assert hub.send("POST", "/system/backups", "operator").status_code == 403
        assert hub.get("/system/backups").json()["folder"] is None
    finally:
        hub.stop()
