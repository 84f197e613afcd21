"""Buffered appends for the high-volume journals: the OCPP message log and events.

Neither acknowledges anything to anyone, so they are not written one job per line: lines
collect in memory and go to the samples database in one ``executemany`` every
``flush_s`` (or sooner when ``max_lines`` are waiting). A crash loses at most the last
``flush_s`` of log lines, never an acknowledged row.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_engine.store.writer import DbWriter
from hub_engine.tasks import cancel_and_wait

__all__ = ["Journal"]

log = logging.getLogger(__name__)


_CALL = re.compile(r'^\s*\[\s*2\s*,\s*"([^"]{1,64})"\s*,\s*"([A-Za-z]{1,40})"')
_ANSWER = re.compile(r'^\s*\[\s*[34]\s*,\s*"([^"]{1,64})"')


def _ms(ts: datetime) -> int:
    return int(ts.timestamp() * 1000)


class Journal:
    def __init__(self, writer: DbWriter, flush_s: float = 0.2, max_lines: int = 2000) -> None:
        self.writer = writer
        self.flush_s = flush_s
        self.max_lines = max_lines
        self._frames: list[tuple[int, str, str, str, str | None]] = []
        self._pending: dict[tuple[str, str], str] = {}
        self._events: list[tuple[int, str, str]] = []
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    def frame(self, cp_id: str, direction: str, message: str, ts: datetime) -> None:
        """One OCPP frame, with its action (a CALL's, and its answer's: MeterValues
        frames, the bulk of the log, expire sooner than the rest)."""
        action = None
        # The CPO link's frames (to_cpo, from_cpo) reuse the charge point's message ids.
        link = f"{cp_id}\x00cpo" if "cpo" in direction else cp_id
        if (call := _CALL.match(message)) is not None:
            action = call.group(2)
            self._pending[(link, call.group(1))] = action
            if len(self._pending) > 10_000:  # answers never logged: forget the oldest
                for key in list(self._pending)[:1000]:
                    del self._pending[key]
        elif (answer := _ANSWER.match(message)) is not None:
            action = self._pending.pop((link, answer.group(1)), None)
        self._frames.append((_ms(ts), cp_id, direction, message, action))
        self._maybe_wake()

    def event(self, topic: str, data: dict[str, Any], ts: datetime) -> None:
        self._events.append((_ms(ts), topic, json.dumps(data, default=str)))
        self._maybe_wake()

    def _maybe_wake(self) -> None:
        if len(self._frames) + len(self._events) >= self.max_lines:
            self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="journal")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)
        await self.flush()

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.flush_s)
            self._wake.clear()
            try:
                await self.flush()
            except Exception:
                log.exception("journal flush failed; lines kept for the next try")

    async def flush(self) -> None:
        frames, events = self._frames, self._events
        if not frames and not events:
            return
        self._frames, self._events = [], []

        def job(db: sqlite_utils.Database) -> None:
            db.conn.executemany("INSERT INTO ocpp_log (ts_ms, charge_point_id, direction,"
                                " message, action) VALUES (?, ?, ?, ?, ?)", frames)
            db.conn.executemany("INSERT INTO events (ts_ms, topic, data) VALUES (?, ?, ?)",
                                events)

        try:
            await self.writer.write(job)
        except Exception:
            self._frames[:0], self._events[:0] = frames, events
            raise
