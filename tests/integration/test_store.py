"""Store behaviour: PRAGMAs, group commit, isolation of failing jobs, retention."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import StoreConfig
from hub_engine.errors import StoreClosedError
from hub_engine.store import Store


@pytest.fixture
async def store(tmp_path: Path):  # type: ignore[no-untyped-def]
    clock = FakeClock(datetime(2026, 6, 1, tzinfo=UTC))
    s = Store(StoreConfig(), tmp_path, clock)
    await s.start()
    yield s
    await s.stop()


def _pragma(store: Store, which: str, name: str) -> object:
    writer = store.core if which == "core" else store.samples
    return writer.submit(lambda db: db.execute(f"PRAGMA {name}").fetchone()[0]).result(5)


async def test_pragmas(store: Store) -> None:
    assert _pragma(store, "core", "journal_mode") == "wal"
    assert _pragma(store, "core", "synchronous") == 2  # FULL
    assert _pragma(store, "samples", "journal_mode") == "wal"
    assert _pragma(store, "samples", "synchronous") == 1  # NORMAL
    assert _pragma(store, "core", "foreign_keys") == 1


async def test_concurrent_writes_are_grouped(store: Store) -> None:
    before = store.samples.commits

    async def one(i: int) -> int:
        return await store.samples.write(
            lambda db: db.execute("INSERT INTO events (ts_ms, topic, data) VALUES (?, 't', '{}')",
                                  [i]).lastrowid)

    ids = await asyncio.gather(*(one(i) for i in range(1000)))
    assert len(set(ids)) == 1000
    commits = store.samples.commits - before
    assert commits < 200, f"{commits} commits for 1000 writes: no grouping"


async def test_failing_job_does_not_undo_others(store: Store) -> None:
    def good(db):  # type: ignore[no-untyped-def]
        db.execute("INSERT INTO events (ts_ms, topic, data) VALUES (1, 'good', '{}')")

    def bad(db):  # type: ignore[no-untyped-def]
        db.execute("INSERT INTO events (ts_ms, topic, data) VALUES (1, 'bad', '{}')")
        raise ValueError("boom")

    results = await asyncio.gather(store.samples.write(good), store.samples.write(bad),
                                   store.samples.write(good), return_exceptions=True)
    assert isinstance(results[1], ValueError)
    topics = await store.samples.write(
        lambda db: [r[0] for r in db.execute("SELECT topic FROM events").fetchall()])
    assert topics == ["good", "good"]


async def test_write_after_stop_is_refused(tmp_path: Path) -> None:
    s = Store(StoreConfig(), tmp_path, FakeClock())
    await s.start()
    await s.stop()
    with pytest.raises(StoreClosedError):
        await s.core.write(lambda db: None)


async def test_reader_sees_committed_data_read_only(store: Store) -> None:
    await store.core.write(lambda db: db.execute(
        "INSERT INTO config_history (ts, author, text) VALUES ('t', 'me', 'x')"))
    reader = store.reader("core")
    assert reader.execute("SELECT author FROM config_history").fetchone()[0] == "me"
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        reader.execute("DELETE FROM config_history")


async def test_retention(store: Store) -> None:
    now = store.clock.now()
    ms = lambda dt: int(dt.timestamp() * 1000)  # noqa: E731

    def seed(db):  # type: ignore[no-untyped-def]
        db.execute("INSERT INTO series (source, measurand, unit) VALUES ('CP1', 'Power', 'W')")
        for days in (1, 100):
            db.execute("INSERT INTO ocpp_log (ts_ms, charge_point_id, direction, message)"
                       " VALUES (?, 'CP1', 'in', '[]')", [ms(now - timedelta(days=days))])
        old = now - timedelta(days=40)
        old = old.replace(hour=10, minute=0, second=0, microsecond=0)
        # 15 samples at 1-minute steps in one 15-min bucket, values 0..14; plus a recent one.
        for i in range(15):
            db.execute("INSERT INTO samples VALUES (1, ?, ?)",
                       [ms(old + timedelta(minutes=i)), float(i)])
        db.execute("INSERT INTO samples VALUES (1, ?, 99)", [ms(now - timedelta(days=1))])

    await store.samples.write(seed)
    report = await store.apply_retention()
    assert report == {"ocpp_log": 1, "events": 0, "samples": 15, "hourly": 0, "daily": 0,
                      "purged": 0}
    agg = await store.samples.write(
        lambda db: db.execute("SELECT avg, min, max, n FROM samples_agg").fetchall())
    assert agg == [(7.0, 0.0, 14.0, 15)]
    left = await store.samples.write(lambda db: db.execute("SELECT value FROM samples").fetchall())
    assert left == [(99.0,)]
    assert not any((await store.apply_retention()).values())


async def test_series_ids_never_leak_between_two_stores(tmp_path: Path) -> None:
    """Two stores in one process (a restart in-process, or tests) keep their own series."""
    from hub_engine.ocpp import repo
    from hub_engine.store.samples import Sample

    now = datetime(2026, 6, 1, tzinfo=UTC)
    stores = []
    for name in ("a", "b"):
        s = Store(StoreConfig(), tmp_path / name, FakeClock())
        await s.start()
        stores.append(s)
    a, b = stores
    await a.samples.write(repo.samples("X/1", [Sample(now, "Voltage", "L1", "V", 230.0, "")]))
    await b.samples.write(repo.samples("Y/1", [Sample(now, "SoC", "", "Percent", 55.0, "")]))
    await b.samples.write(repo.samples("X/1", [Sample(now, "Voltage", "L1", "V", 231.0, "")]))
    rows = await b.samples.write(lambda db: db.execute(
        "SELECT source, measurand, value FROM samples JOIN series ON series.id = series_id"
        " ORDER BY value").fetchall())
    assert rows == [("Y/1", "SoC", 55.0), ("X/1", "Voltage", 231.0)]
    for s in stores:
        await s.stop()
