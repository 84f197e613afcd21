"""One writer thread per SQLite file, with group commit.

The event loop never touches SQLite for writing: a blocking fsync would stall the EMS.
Callers hand a function to :meth:`DbWriter.write`; the writer runs every queued function in
one transaction (each in its own savepoint, so one failing job does not undo the others),
commits once, and only then resolves the callers' futures. An OCPP handler that awaits
``write`` therefore answers the charge point only after its data is on disk.

Batches form by themselves: while one commit's fsync runs, new jobs queue up and go into
the next transaction, so latency stays one commit (a few ms) and throughput grows with load.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

import sqlite_utils

from hub_engine.errors import StoreClosedError, StoreError
from hub_engine.store.migrations import Migration, migrate

__all__ = ["DbWriter", "open_reader"]

T = TypeVar("T")
Job = tuple[Callable[[sqlite_utils.Database], Any], "concurrent.futures.Future[Any]"]
_STOP = object()
log = logging.getLogger(__name__)


def _connect(path: Path, synchronous: str) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=5000")
    return conn


def open_reader(path: Path | str) -> sqlite_utils.Database:
    """A read-only connection (one per reading thread); never blocks the writer."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout=5000")
    return sqlite_utils.Database(conn, execute_plugins=False)


class DbWriter:
    """The single writer of one SQLite database file."""

    def __init__(
        self,
        path: Path,
        *,
        synchronous: Literal["FULL", "NORMAL"],
        migrations: Sequence[Migration],
        max_batch: int = 500,
    ) -> None:
        self.path = path
        self.synchronous = synchronous
        self._migrations = migrations
        self._max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | object] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._start_error: BaseException | None = None
        self._closed = False
        self.commits = 0

    def start(self) -> None:
        """Open the file, apply pending migrations, and start accepting writes."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"db-writer:{self.path.name}",
                                        daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._start_error is not None:
            self._thread.join()
            raise StoreError(f"cannot open {self.path}: {self._start_error}") from self._start_error

    def submit(self, fn: Callable[[sqlite_utils.Database], T]) -> concurrent.futures.Future[T]:
        """Queue ``fn``; the future resolves after the transaction holding it committed."""
        if self._closed or self._thread is None:
            raise StoreClosedError(f"{self.path.name} is not open for writing")
        fut: concurrent.futures.Future[T] = concurrent.futures.Future()
        self._queue.put((fn, fut))
        return fut

    async def write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run ``fn`` in the writer thread and wait until it is committed to disk."""
        return await asyncio.wrap_future(self.submit(fn))

    def stop(self) -> None:
        """Commit what is queued, then close the file."""
        if self._thread is None or self._closed:
            return
        self._closed = True
        self._queue.put(_STOP)
        self._thread.join()

    def _run(self) -> None:
        try:
            conn = _connect(self.path, self.synchronous)
            db = sqlite_utils.Database(conn, execute_plugins=False)
            migrate(db, self._migrations)
        except BaseException as exc:  # reported to start()
            self._start_error = exc
            self._ready.set()
            return
        self._ready.set()
        stopping = False
        try:
            while not stopping:
                first = self._queue.get()
                if first is _STOP:
                    break
                batch: list[Job] = [first]  # type: ignore[list-item]
                while len(batch) < self._max_batch:
                    try:
                        item = self._queue.get_nowait()
                    except queue.Empty:
                        break
                    if item is _STOP:
                        stopping = True
                        break
                    batch.append(item)  # type: ignore[arg-type]
                self._commit_batch(conn, db, batch)
        finally:
            conn.execute("PRAGMA optimize")
            conn.close()

    def _commit_batch(self, conn: sqlite3.Connection, db: sqlite_utils.Database,
                      batch: list[Job]) -> None:
        done: list[tuple[concurrent.futures.Future[Any], Any]] = []
        conn.execute("BEGIN IMMEDIATE")
        for index, (fn, fut) in enumerate(batch):
            if not fut.set_running_or_notify_cancel():
                continue
            conn.execute("SAVEPOINT job")
            try:
                result = fn(db)
            except BaseException as exc:
                if not conn.in_transaction:
                    # The error destroyed the whole transaction: nothing of this batch is kept.
                    fut.set_exception(exc)
                    aborted = StoreError(f"transaction aborted by another job: {exc}")
                    self._fail(done, aborted)
                    for _, rest in batch[index + 1:]:
                        if rest.set_running_or_notify_cancel():
                            rest.set_exception(aborted)
                    return
                conn.execute("ROLLBACK TO job")
                conn.execute("RELEASE job")
                fut.set_exception(exc)
            else:
                conn.execute("RELEASE job")
                done.append((fut, result))
        try:
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            log.error("commit failed on %s: %s", self.path.name, exc)
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            self._fail(done, StoreError(f"commit failed: {exc}"))
            return
        self.commits += 1
        for fut, result in done:
            fut.set_result(result)

    @staticmethod
    def _fail(done: list[tuple[concurrent.futures.Future[Any], Any]], exc: Exception) -> None:
        for fut, _ in done:
            fut.set_exception(exc)
