"""The durable store: a core database (FULL sync) and a samples/log database (NORMAL sync)."""

from __future__ import annotations

import functools
import logging
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

import sqlite_utils

from hub_engine.clock import Clock, iso_utc
from hub_engine.config import StoreConfig
from hub_engine.store.gdpr import pseudonymise_before
from hub_engine.store.journal import Journal
from hub_engine.store.migrations import CORE_MIGRATIONS, SAMPLES_MIGRATIONS
from hub_engine.store.retention import (
    downsample_samples,
    fold_aggregates,
    purge_before,
    purge_oldest,
    used_mb,
)
from hub_engine.store.writer import DbWriter, open_reader

__all__ = ["RetentionReport", "Store"]

log = logging.getLogger(__name__)

RetentionReport = dict[str, int]


class Store:
    """Owns both databases' writer threads.

    ``core`` holds what must survive a power cut: charge points, sessions, transaction ids,
    users, the credit ledger, configuration history (``synchronous=FULL``). ``samples``
    holds meter samples, the OCPP message log and events: high volume, lighter settings
    (``synchronous=NORMAL``: a power cut may lose the last instants, never corrupt).
    """

    def __init__(self, config: StoreConfig, data_dir: Path, clock: Clock) -> None:
        self.config = config
        self.clock = clock
        self.core_path = data_dir / config.core_db
        self.samples_path = data_dir / config.samples_db
        self.core = DbWriter(self.core_path, synchronous="FULL", migrations=CORE_MIGRATIONS,
                             max_batch=config.group_commit_max_batch)
        self.samples = DbWriter(self.samples_path, synchronous="NORMAL",
                                migrations=SAMPLES_MIGRATIONS,
                                max_batch=config.group_commit_max_batch)
        self.journal = Journal(self.samples)
        self._readers = threading.local()  # a read-only connection per thread and file

    async def start(self) -> None:
        self.core.start()
        self.samples.start()
        await self.journal.start()
        log.info("store open: core=%s samples=%s", self.core_path, self.samples_path)

    async def stop(self) -> None:
        for db in ("core", "samples"):  # the loop thread's readers; others close with it
            conn = getattr(self._readers, db, None)
            if conn is not None:
                conn.conn.close()
                delattr(self._readers, db)
        await self.journal.stop()
        self.core.stop()
        self.samples.stop()

    def reader(self, which: str = "core") -> sqlite_utils.Database:
        """A new read-only connection; use one per thread."""
        return open_reader(self.core_path if which == "core" else self.samples_path)

    def read(self, sql: str, params: list[Any] | tuple[Any, ...] = (), db: str = "core"
             ) -> list[Any]:
        """A read on the calling thread's own read-only connection, opened once: for
        the engine's loop (badge decisions) and the API's threads alike."""
        conn = getattr(self._readers, db, None)
        if conn is None:
            conn = self.reader(db)
            setattr(self._readers, db, conn)
        return list(conn.execute(sql, list(params)).fetchall())

    def rows(self, sql: str, params: list[Any] | None = None, db: str = "core"
             ) -> list[Any]:
        """One read on a connection of its own (tools and tests, not hot paths)."""
        reader = self.reader(db)
        try:
            return list(reader.execute(sql, params or []).fetchall())
        finally:
            reader.conn.close()

    async def apply_retention(self) -> RetentionReport:
        """Run every retention rule to completion, chunk by chunk; return rows touched."""
        now = self.clock.now()
        now_ms = int(now.timestamp() * 1000)
        day_ms = 86_400_000
        cfg = self.config
        report: RetentionReport = {"ocpp_log": 0, "events": 0, "samples": 0, "hourly": 0,
                                   "daily": 0, "purged": 0}
        limits = {
            "ocpp_log": now_ms - cfg.ocpp_log_retention_days * day_ms,
            "events": now_ms - cfg.events_retention_days * day_ms,
        }
        for table, before in limits.items():
            job = functools.partial(purge_before, table=table, before_ms=before)
            report[table] += await self._repeat(job)
        for action in ("MeterValues", "Heartbeat"):
            report["ocpp_log"] += await self._repeat(functools.partial(
                purge_before, table="ocpp_log", action=action,
                before_ms=now_ms - cfg.ocpp_log_routine_days * day_ms))
        report["samples"] = await self._repeat(functools.partial(
            downsample_samples, before_ms=now_ms - cfg.samples_full_resolution_days * day_ms,
            interval_s=cfg.samples_downsample_interval_s))
        report["hourly"] = await self._repeat(functools.partial(
            fold_aggregates, before_ms=now_ms - cfg.samples_hourly_after_days * day_ms,
            from_s=cfg.samples_downsample_interval_s, interval_s=3600))
        report["daily"] = await self._repeat(functools.partial(
            fold_aggregates, before_ms=now_ms - cfg.samples_daily_after_days * day_ms,
            from_s=3600, interval_s=86_400))
        if cfg.samples_max_mb is not None:
            cap = cfg.samples_max_mb
            while await self.samples.write(used_mb) > cap:
                n = await self.samples.write(purge_oldest)
                if not n:
                    break
                report["purged"] += n
            if report["purged"]:
                log.warning("samples.db over store.samples_max_mb (%d MB): the %d oldest rows"
                            " of curves and log were deleted", cap, report["purged"])
        if cfg.pseudonymise_after_years is not None:
            cutoff = now - timedelta(days=round(365.25 * cfg.pseudonymise_after_years))
            while any((done := await self.core.write(functools.partial(
                    pseudonymise_before, before_iso=iso_utc(cutoff)))).values()):
                for key, n in done.items():
                    report[f"pseudonymised_{key}"] = report.get(f"pseudonymised_{key}", 0) + n
        if any(report.values()):
            log.info("retention applied: %s", report)
        return report

    async def _repeat(self, job: Any) -> int:
        total = 0
        while n := await self.samples.write(job):
            total += n
        return total
