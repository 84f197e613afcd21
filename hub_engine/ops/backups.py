"""The daily backup: made, read back and verified, rotated, in a thread of its own.

Runs at ``store.backup_time`` (local, ``hub.timezone``) into ``store.backup_dir`` (the USB
key's mount point). The copy, its compression and its verification run off the event loop
(SQLite and zlib release the GIL), so the EMS cycle and the OCPP handlers go on; a failure
raises the ``backup_failed`` alert and the next day tries again. ``run_now`` serves
``POST /api/v1/system/backups`` and ``hub backup``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.clock import Clock, iso_utc
from hub_engine.config import HubConfig
from hub_engine.i18n import Text
from hub_engine.store.backup import (
    BackupError,
    BackupResult,
    BackupSource,
    list_backups,
    make_backup,
    rotate_backups,
    verify_backup,
)
from hub_engine.tasks import cancel_and_wait

__all__ = ["BackupService", "next_backup_at"]

log = logging.getLogger(__name__)
Alert = Callable[[str, str, dict[str, object]], None]


def next_backup_at(now: datetime, at: str, timezone: str) -> datetime:
    """The next local ``at`` (HH:MM) after ``now``, as an aware UTC-comparable time; a
    time that a DST change skips is taken an hour later, as the clock on the wall does."""
    tz = ZoneInfo(timezone)
    local = now.astimezone(tz)
    hour, minute = (int(x) for x in at.split(":"))
    day = local.date()
    while True:
        candidate = datetime.combine(day, time(hour, minute), tz)
        if candidate > local:
            return candidate
        day += timedelta(days=1)


def source_of(config: HubConfig, config_text: str | None) -> BackupSource:
    return BackupSource(Path(config.hub.data_dir), config.store.core_db,
                        config.store.samples_db, config_text, config.store.backup_samples)


def backup_now(config: HubConfig, config_text: str | None, now: datetime,
               dest: Path | None = None) -> BackupResult:
    """Make, verify and rotate one backup (blocking: the CLI, or a thread)."""
    folder = dest or (Path(config.store.backup_dir) if config.store.backup_dir else None)
    if folder is None:
        raise BackupError(Text("store.backup_dir is not set: give a folder"))
    cfg = config.store
    result = make_backup(source_of(config, config_text), folder, now,
                         part_bytes=cfg.backup_part_mb << 20)
    try:
        verify_backup(result.path, work_dir=Path(config.hub.data_dir))
    except BackupError:
        for part in result.parts:  # a copy that does not read back is no backup
            part.unlink(missing_ok=True)
        raise
    removed = rotate_backups(folder, cfg.backup_keep)
    if removed:
        log.info("backups rotated: removed %s", ", ".join(removed))
    return result


class BackupService:
    name = "backups"

    def __init__(self, config: HubConfig, clock: Clock,
                 config_text: Callable[[], str | None], alert: Alert | None = None) -> None:
        self.config, self.clock = config, clock
        self.config_text = config_text
        self.alert = alert
        self.last: dict[str, Any] | None = None
        self.next_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._lock.locked()

    @property
    def folder(self) -> Path | None:
        return Path(self.config.store.backup_dir) if self.config.store.backup_dir else None

    async def start(self) -> None:
        if self.folder is not None:
            self._task = asyncio.create_task(self._daily(), name="backups")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _daily(self) -> None:
        cfg = self.config
        while True:
            self.next_at = next_backup_at(self.clock.now(), cfg.store.backup_time,
                                          cfg.hub.timezone)
            await self.clock.sleep((self.next_at - self.clock.now()).total_seconds())
            with contextlib.suppress(BackupError):  # said by run_now; tried again tomorrow
                await self.run_now()

    async def run_now(self) -> BackupResult:
        """One backup, verified and rotated; raises :class:`BackupError` on failure."""
        async with self._lock:
            now = self.clock.now()
            try:
                text = self.config_text()
                result = await asyncio.to_thread(backup_now, self.config, text, now)
            except Exception as exc:
                why = str(exc)
                self.last = {"ok": False, "at": iso_utc(now), "error": why}
                log.error("backup failed: %s", why)
                if self.alert is not None:
                    self.alert("backup_failed", "backup", {"error": why})
                raise exc if isinstance(exc, BackupError) else BackupError(why) from exc
            self.last = {"ok": True, "at": iso_utc(now), **result.as_dict()}
            log.info("backup written and verified: %s (%d bytes, %.1f s)", result.path,
                     result.size_bytes, result.duration_s)
            if self.alert is not None:
                self.alert("backup_ok", "backup", {"file": result.path.name})
            return result

    def describe(self) -> dict[str, Any]:
        folder = self.folder
        return {"folder": str(folder) if folder else None,
                "time": self.config.store.backup_time, "keep": self.config.store.backup_keep,
                "next_at": iso_utc(self.next_at) if self.next_at else None,
                "last": self.last,
                "backups": list_backups(folder) if folder is not None else []}
