"""Diagnostics of charge points, fetched through the built-in FTP server.

:meth:`DiagnosticsService.request` gives the charge point a transfer ticket
(:mod:`hub_engine.maintenance.ftp`) and sends GetDiagnostics with its own FTP URL; its
DiagnosticsStatusNotifications (Uploading, Uploaded, UploadFailed) and the file's
arrival move the request on. A file received is moved out of the FTP tree (the charge
point can no longer touch it), hashed, and kept under ``<data_dir>/diagnostics/<id>/``.
Each step is a row of table ``diagnostics`` (core.db), newest first in the API.
"""

from __future__ import annotations

import hashlib
import logging
import shutil
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from hub_engine.clock import Clock, iso_utc
from hub_engine.errors import CommandError
from hub_engine.i18n import Text
from hub_engine.maintenance.ftp import FtpService, Received
from hub_engine.store import Store
from hub_engine.store.rows import insert_row, stored_file

__all__ = ["DIAGNOSTICS_COLUMNS", "DiagnosticsService"]

log = logging.getLogger(__name__)
DIAGNOSTICS_COLUMNS = ("id", "charge_point_id", "requested_at", "requested_by", "status",
                       "file_name", "size_bytes", "sha256", "received_at", "error")
_OPEN = ("requested", "accepted", "Uploading", "Uploaded")
_STATUSES = {"Uploading", "Uploaded", "UploadFailed"}


class _Station(Protocol):
    async def request(self, payload: Any, timeout_s: float | None = None,
                      trusted: bool = False) -> Any: ...


class DiagnosticsService:
    name = "diagnostics"

    def __init__(self, ftp: FtpService, stations: Mapping[str, _Station], store: Store,
                 root: Path, clock: Clock) -> None:
        self.ftp, self.stations, self.store = ftp, stations, store
        self.root, self.clock = root, clock
        ftp.on_received.append(self.on_received)

    async def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True, mode=0o750)

    async def stop(self) -> None:
        return None

    async def request(self, cp_id: str, who: str, start: datetime | None = None,
                      stop: datetime | None = None) -> dict[str, Any]:
        """Ask ``cp_id`` for its diagnostics (between ``start`` and ``stop`` if given);
        returns the request's row once the charge point has answered."""
        if not self.ftp.config.enabled:
            raise CommandError(Text("the FTP server is off: set maintenance.ftp.enabled"))
        station = self.stations.get(cp_id)
        if station is None:
            raise CommandError(Text("{cp} is not connected", cp=cp_id))
        location = self.ftp.url(cp_id, self.ftp.ticket(cp_id))
        now = iso_utc(self.clock.now())
        row_id = await self.store.core.write(lambda db: insert_row(db, "diagnostics", {
            "charge_point_id": cp_id, "requested_at": now, "requested_by": who,
            "status": "requested"}))
        payload: dict[str, Any] = {"location": location, "retries": 2, "retry_interval": 30}
        if start is not None:
            payload["start_time"] = iso_utc(start)
        if stop is not None:
            payload["stop_time"] = iso_utc(stop)
        try:
            resp = await station.request(call.GetDiagnostics(**payload), timeout_s=60)
        except (TimeoutError, OCPPError, ConnectionError) as exc:
            await self._update(row_id, status="failed", error=type(exc).__name__)
            raise CommandError(Text("{cp} did not take the request: {why}", cp=cp_id,
                                    why=type(exc).__name__)) from None
        name = getattr(resp, "file_name", None)
        if name:
            await self._update(row_id, status="accepted", file_name=str(name)[:255])
        else:  # OCPP: no file name = nothing to upload
            await self._update(row_id, status="none")
        log.info("%s: diagnostics asked by %s: %s", cp_id, who, name or "nothing to send")
        return self.get(row_id) or {}

    def on_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        """An OCPP event (its DiagnosticsStatusNotification): the open request moves on."""
        status = data.get("status")
        if topic != "diagnostics_status" or status not in _STATUSES:
            return
        self.store.core.submit(lambda db: _set_open(db, cp_id, {"status": status}))

    def on_received(self, got: Received) -> None:
        """A file came over FTP: moved out of the charge point's reach, hashed, kept."""
        digest = hashlib.sha256()
        with got.path.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                digest.update(chunk)
        folder = self.root / got.cp_id
        folder.mkdir(parents=True, exist_ok=True, mode=0o750)
        stamp = self.clock.now().strftime("%Y%m%dT%H%M%SZ")
        target = folder / f"{stamp}-{got.path.name}"
        shutil.move(str(got.path), target)
        target.chmod(0o640)
        fields = {"status": "received", "stored_as": str(target.relative_to(self.root)),
                  "size_bytes": got.size_bytes, "sha256": digest.hexdigest(),
                  "received_at": iso_utc(self.clock.now())}
        log.info("%s: diagnostics received: %s (%d bytes)", got.cp_id, got.path.name,
                 got.size_bytes)

        def job(db: Any) -> None:
            if not _set_open(db, got.cp_id, fields):  # sent unasked (a retry, a ticket)
                insert_row(db, "diagnostics", {"charge_point_id": got.cp_id,
                                               "file_name": got.path.name, **fields})
        self.store.core.submit(job)

    def list(self, cp_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        where, params = ("WHERE charge_point_id = ?", [cp_id]) if cp_id else ("", [])
        rows = self.store.read(f"SELECT {', '.join(DIAGNOSTICS_COLUMNS)} FROM diagnostics "
                               f"{where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return [dict(zip(DIAGNOSTICS_COLUMNS, r, strict=True)) for r in rows]

    def get(self, row_id: int) -> dict[str, Any] | None:
        rows = self.store.read(f"SELECT {', '.join(DIAGNOSTICS_COLUMNS)} FROM diagnostics "
                               "WHERE id = ?", [row_id])
        return dict(zip(DIAGNOSTICS_COLUMNS, rows[0], strict=True)) if rows else None

    def file(self, row_id: int) -> Path | None:
        """The stored file of request ``row_id`` (None: none received)."""
        rows = self.store.read("SELECT stored_as FROM diagnostics WHERE id = ?", [row_id])
        return stored_file(self.root, rows[0][0]) if rows else None

    async def _update(self, row_id: int, **fields: Any) -> None:
        await self.store.core.write(lambda db: db.table("diagnostics").update(row_id, fields))


def _set_open(db: Any, cp_id: str, fields: dict[str, Any]) -> bool:
    """Update the newest open request of ``cp_id``; False when it has none."""
    marks = ", ".join("?" for _ in _OPEN)
    found = db.conn.execute(
        f"SELECT id FROM diagnostics WHERE charge_point_id = ? AND status IN ({marks}) "
        "ORDER BY id DESC LIMIT 1", [cp_id, *_OPEN]).fetchone()
    if found is None:
        return False
    db.table("diagnostics").update(found[0], fields)
    return True

