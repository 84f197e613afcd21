"""Firmware update campaigns: one firmware file to many charge points, paced.

A campaign holds each target charge point ``pending`` until its retrieve date, then sends
UpdateFirmware with the hub's own FTP location (the file offered read only in the charge
point's FTP folder, a ticket of its own), at most ``concurrency`` at once. The charge
point's FirmwareStatusNotifications move it on (Downloading, Downloaded, Installing,
Installed); DownloadFailed, InstallationFailed, a refused or unanswered call, or no news
for ``step_timeout_s`` send it back to ``pending`` for another try after
``retry_interval_s``, ``retries`` times, then ``failed``. An offline charge point waits
its turn without spending a try. Everything is in core.db: a hub restarted mid-campaign
goes on where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from ocpp.exceptions import OCPPError
from ocpp.v16 import call

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.errors import CommandError
from hub_engine.i18n import Text
from hub_engine.maintenance.firmware import FirmwareFiles
from hub_engine.maintenance.ftp import FtpService
from hub_engine.store import Store
from hub_engine.tasks import cancel_and_wait

__all__ = ["ACTIVE", "CampaignRequest", "CampaignService"]

log = logging.getLogger(__name__)
ACTIVE = ("sent", "Downloading", "Downloaded", "Installing")
_FAILED = ("DownloadFailed", "InstallationFailed")
_TARGET = ("charge_point_id", "status", "attempts", "next_try_at", "updated_at", "error",
           "firmware_before", "firmware_after")
_CAMPAIGN = ("id", "firmware_id", "created_at", "created_by", "retrieve_at", "concurrency",
             "retries", "retry_interval_s", "state", "ended_at")


class _Station(Protocol):
    async def request(self, payload: Any, timeout_s: float | None = None,
                      trusted: bool = False) -> Any: ...


@dataclass(frozen=True)
class CampaignRequest:
    firmware_id: int
    charge_points: tuple[str, ...]
    retrieve_at: datetime | None = None  # None: now
    concurrency: int = 5
    retries: int = 2
    retry_interval_s: float = 300.0


class CampaignService:
    name = "campaigns"

    def __init__(self, files: FirmwareFiles, ftp: FtpService, stations: Mapping[str, _Station],
                 store: Store, clock: Clock, known: Callable[[], set[str]],
                 step_timeout_s: float = 1800.0, tick_s: float = 2.0) -> None:
        self.files, self.ftp, self.stations = files, ftp, stations
        self.store, self.clock, self.known = store, clock, known
        self.step_timeout_s, self.tick_s = step_timeout_s, tick_s
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="campaigns")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    # -- the operator's side -----------------------------------------------------------
    async def create(self, req: CampaignRequest, who: str) -> dict[str, Any]:
        if not self.ftp.config.enabled:
            raise CommandError(Text("the FTP server is off: set maintenance.ftp.enabled"))
        if self.files.path(req.firmware_id) is None:
            raise CommandError(Text("firmware_id: no firmware {id}", id=req.firmware_id))
        cps = tuple(dict.fromkeys(req.charge_points))
        unknown = [c for c in cps if c not in self.known()]
        if not cps or unknown:
            raise CommandError(Text("charge_points: no charge point {cp!r}",
                                    cp=unknown[0] if unknown else ""))
        now = self.clock.now()
        at = iso_utc(max(req.retrieve_at, now) if req.retrieve_at else now)
        before = {r[0]: r[1] for r in self.store.read(
            f"SELECT id, firmware FROM charge_points WHERE id IN ({', '.join('?' for _ in cps)})",
            list(cps))}

        def insert(db: Any) -> int:
            cur = db.conn.execute(
                "INSERT INTO campaigns (firmware_id, created_at, created_by, retrieve_at, "
                "concurrency, retries, retry_interval_s, state) VALUES (?, ?, ?, ?, ?, ?, ?, "
                "'running')", [req.firmware_id, iso_utc(now), who, at, req.concurrency,
                               req.retries, req.retry_interval_s])
            cid = int(cur.lastrowid)
            db.conn.executemany(
                "INSERT INTO campaign_targets (campaign_id, charge_point_id, status, "
                "next_try_at, updated_at, firmware_before) VALUES (?, ?, 'pending', ?, ?, ?)",
                [(cid, cp, at, iso_utc(now), before.get(cp)) for cp in cps])
            return cid
        cid = await self.store.core.write(insert)
        log.info("campaign %d by %s: firmware %d to %d charge point(s) from %s", cid, who,
                 req.firmware_id, len(cps), at)
        self._wake.set()
        return self.get(cid) or {}

    async def cancel(self, campaign_id: int) -> dict[str, Any] | None:
        """Targets not sent yet are cancelled; those under way finish."""
        def job(db: Any) -> None:
            db.conn.execute("UPDATE campaign_targets SET status = 'cancelled' WHERE "
                            "campaign_id = ? AND status = 'pending'", [campaign_id])
        await self.store.core.write(job)
        self._wake.set()
        return self.get(campaign_id)

    def list(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.store.read("SELECT id FROM campaigns ORDER BY id DESC "
                                             "LIMIT 200")]
        return [c for i in ids if (c := self.get(i)) is not None]

    def get(self, campaign_id: int) -> dict[str, Any] | None:
        rows = self.store.read(f"SELECT {', '.join(_CAMPAIGN)} FROM campaigns WHERE id = ?",
                               [campaign_id])
        if not rows:
            return None
        out = dict(zip(_CAMPAIGN, rows[0], strict=True))
        targets = [dict(zip(_TARGET, r, strict=True)) for r in self.store.read(
            f"SELECT {', '.join(_TARGET)} FROM campaign_targets WHERE campaign_id = ? "
            "ORDER BY charge_point_id", [campaign_id])]
        summary: dict[str, int] = {}
        for t in targets:
            summary[t["status"]] = summary.get(t["status"], 0) + 1
        return {**out, "targets": targets, "summary": summary}

    # -- the charge points' side -------------------------------------------------------
    def on_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        """Its FirmwareStatusNotification (and the firmware a boot reports)."""
        now = iso_utc(self.clock.now())
        if topic == "firmware_status" and data.get("status") in (*ACTIVE, "Installed",
                                                                  *_FAILED):
            status = str(data["status"])
            self.store.core.submit(lambda db: self._status(db, cp_id, status, now))
            self._wake.set()
        elif topic == "boot" and data.get("firmware_version"):
            version = str(data["firmware_version"])[:50]
            self.store.core.submit(lambda db: db.conn.execute(
                "UPDATE campaign_targets SET firmware_after = ? WHERE charge_point_id = ? "
                f"AND status IN ({', '.join('?' for _ in (*ACTIVE, 'Installed'))}) AND "
                "campaign_id IN (SELECT id FROM campaigns WHERE state = 'running')",
                [version, cp_id, *ACTIVE, "Installed"]))

    def _status(self, db: Any, cp_id: str, status: str, now: str) -> None:
        found = db.conn.execute(
            "SELECT t.campaign_id, t.attempts, c.retries, c.retry_interval_s FROM "
            "campaign_targets t JOIN campaigns c ON c.id = t.campaign_id WHERE "
            f"t.charge_point_id = ? AND t.status IN ({', '.join('?' for _ in ACTIVE)}) "
            "ORDER BY t.campaign_id DESC LIMIT 1", [cp_id, *ACTIVE]).fetchone()
        if found is None:
            return  # not ours (an update sent by hand)
        cid, attempts, retries, interval = found
        if status in _FAILED:
            _retry_or_fail(db, cid, cp_id, attempts, retries, interval, status, now)
        else:
            db.conn.execute("UPDATE campaign_targets SET status = ?, updated_at = ?, error = "
                            "NULL WHERE campaign_id = ? AND charge_point_id = ?",
                            [status, now, cid, cp_id])

    # -- the runner --------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.tick_s)
            self._wake.clear()
            try:
                await self.step()
            except Exception:  # one bad round must not end the campaigns
                log.exception("firmware campaigns: a round failed")

    async def step(self) -> None:
        for (cid,) in self.store.read("SELECT id FROM campaigns WHERE state = 'running'"):
            await self._campaign(int(cid))

    async def _campaign(self, cid: int) -> None:
        c = self.get(cid)
        if c is None:
            return
        now = self.clock.now()
        stale = now - timedelta(seconds=self.step_timeout_s)
        for t in c["targets"]:
            updated = parse_iso(t["updated_at"])
            if t["status"] in ACTIVE and updated is not None and updated < stale:
                await self._timed_out(c, t, iso_utc(now))
        c = self.get(cid) or c
        busy = sum(1 for t in c["targets"] if t["status"] in ACTIVE)
        due = [t for t in c["targets"] if t["status"] == "pending"
               and (parse_iso(t["next_try_at"]) or now) <= now]
        for t in due:
            if busy >= c["concurrency"]:
                break
            if await self._send(c, t["charge_point_id"], t["attempts"], now):
                busy += 1
        if not any(t["status"] in (*ACTIVE, "pending") for t in (self.get(cid) or c)["targets"]):
            await self.store.core.write(lambda db: db.conn.execute(
                "UPDATE campaigns SET state = 'done', ended_at = ? WHERE id = ?",
                [iso_utc(now), cid]))
            log.info("campaign %d done: %s", cid, (self.get(cid) or {}).get("summary"))

    async def _timed_out(self, c: dict[str, Any], t: dict[str, Any], now: str) -> None:
        why = f"no news for {self.step_timeout_s:.0f} s"
        await self.store.core.write(lambda db: _retry_or_fail(
            db, c["id"], t["charge_point_id"], t["attempts"], c["retries"],
            c["retry_interval_s"], why, now))

    async def _send(self, c: dict[str, Any], cp_id: str, attempts: int, now: datetime
                    ) -> bool:
        cid = c["id"]
        station = self.stations.get(cp_id)
        path = self.files.path(c["firmware_id"])
        if station is None or path is None:
            await self.store.core.write(lambda db: db.conn.execute(
                "UPDATE campaign_targets SET error = ? WHERE campaign_id = ? AND "
                "charge_point_id = ?", ["offline: waits its turn" if path else
                                        "firmware file missing", cid, cp_id]))
            return False
        location = self.ftp.url(cp_id, self.ftp.ticket(cp_id), self.ftp.offer(cp_id, path))
        try:
            await station.request(call.UpdateFirmware(
                location=location, retrieve_date=iso_utc(now), retries=1,
                retry_interval=60), timeout_s=30)
        except (TimeoutError, OCPPError, ConnectionError) as exc:
            why = f"UpdateFirmware: {type(exc).__name__}"
            await self.store.core.write(lambda db: _retry_or_fail(
                db, cid, cp_id, attempts + 1, c["retries"], c["retry_interval_s"], why,
                iso_utc(now), counted=True))
            return False
        await self.store.core.write(lambda db: db.conn.execute(
            "UPDATE campaign_targets SET status = 'sent', attempts = attempts + 1, "
            "updated_at = ?, error = NULL WHERE campaign_id = ? AND charge_point_id = ?",
            [iso_utc(now), cid, cp_id]))
        log.info("campaign %d: UpdateFirmware sent to %s (try %d)", cid, cp_id, attempts + 1)
        return True


def _retry_or_fail(db: Any, cid: int, cp_id: str, attempts: int, retries: int,
                   interval_s: float, why: str, now: str, counted: bool = False) -> None:
    """Back to ``pending`` for another try after ``interval_s``, or ``failed`` once the
    tries are spent (``attempts`` already counts this one when ``counted``)."""
    if attempts <= retries:
        at = parse_iso(now)
        assert at is not None
        db.conn.execute(
            "UPDATE campaign_targets SET status = 'pending', next_try_at = ?, updated_at = ?, "
            f"error = ?{', attempts = ?' if counted else ''} WHERE campaign_id = ? AND "
            "charge_point_id = ?", [iso_utc(at + timedelta(seconds=interval_s)), now, why,
                                    *([attempts] if counted else []), cid, cp_id])
    else:
        db.conn.execute(
            "UPDATE campaign_targets SET status = 'failed', updated_at = ?, error = ?"
            f"{', attempts = ?' if counted else ''} WHERE campaign_id = ? AND "
            "charge_point_id = ?", [now, why, *([attempts] if counted else []), cid, cp_id])
    log.warning("campaign %d: %s: %s (try %d of %d)", cid, cp_id, why, attempts, retries + 1)
