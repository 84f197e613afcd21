"""Alerts: each raised once, cleared when its condition ends, acknowledged by an operator.

Every ``alerts.check_interval_s`` the service reads the live state (the dashboard's
composition), the devices and the disks, and compares what is wrong with the alerts in
force: a condition that has lasted its hold time (:func:`~hub_engine.alerts.kinds.hold_s`)
is raised, one that is gone is cleared. Events the checks cannot see again (a backup that
failed, a charge point found ignoring its limit) are raised and cleared by their own
events. Alerts live in ``core.db`` (``alerts``), so a restart neither repeats nor loses
them; listeners (the bus, e-mail) hear ``raised``, ``cleared`` and ``acked``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub_engine.alerts.checks import Condition, cpo_conditions, site_conditions, stalled
from hub_engine.alerts.kinds import KINDS, LATCHED, describe, hold_s
from hub_engine.clock import Clock, iso_utc
from hub_engine.config import HubConfig
from hub_engine.live import compose, gather
from hub_engine.store import Store
from hub_engine.tasks import cancel_and_wait

if TYPE_CHECKING:
    from hub_engine.devices import SiteDevices
    from hub_engine.ems.loop import EmsLoop

__all__ = ["COLUMNS", "AlertService", "as_dict"]

log = logging.getLogger(__name__)
Listener = Callable[[str, dict[str, Any]], None]
Key = tuple[str, str]
COLUMNS = "id, kind, target, severity, raised_at, cleared_at, acked_at, acked_by, data"


def as_dict(row: tuple[Any, ...]) -> dict[str, Any]:
    """An ``alerts`` row (``COLUMNS``) for the API, the bus and e-mail."""
    keys = ("id", "kind", "target", "severity", "raised_at", "cleared_at", "acked_at",
            "acked_by")
    out = dict(zip(keys, row[:8], strict=True))
    out["data"] = json.loads(row[8])
    out["message"] = describe(out["kind"], out["target"], out["data"])
    return out


class AlertService:
    name = "alerts"

    def __init__(self, config: HubConfig, store: Store, clock: Clock) -> None:
        self.config, self.store, self.clock = config, store, clock
        self.ems: EmsLoop | None = None
        self.devices: SiteDevices | None = None
        self.cpo: Any = None  # the CPO relay (hub_engine.ocpp.cpo.CpoRelay), when any
        self.listeners: list[Listener] = []
        self._active: dict[Key, int] = {}
        self._first: dict[Key, float] = {}  # when each condition was first seen
        self._progress: dict[str, tuple[float, float]] = {}
        self._task: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[Any]] = set()

    async def start(self) -> None:
        rows = self.store.rows(f"SELECT {COLUMNS} FROM alerts WHERE cleared_at IS NULL")
        self._active = {(r[1], r[2]): r[0] for r in rows}
        # The EMS learns again after a restart whether a charge point obeys: its event
        # alerts are cleared now and raised again if it still does not.
        for key in [k for k in self._active if k[0] in ("limit_not_applied", "limit_ignored")]:
            await self.clear(*key)
        self._task = asyncio.create_task(self._run(), name="alerts")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, *self._pending)

    async def _run(self) -> None:
        while True:
            await self.clock.sleep(self.config.alerts.check_interval_s)
            try:
                await self.check()
            except Exception:
                log.exception("alert check failed; trying again next time")

    def on_event(self, kind: str, target: str, data: dict[str, object]) -> None:
        """The engine's raw alert events (EMS, backups), on the loop: latched alerts."""
        latched = LATCHED.get(kind)
        if latched is None:
            return
        alert, raised = latched
        job = self.raise_(alert, target, dict(data)) if raised else self.clear(alert, target)
        task = asyncio.get_running_loop().create_task(job)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def check(self) -> None:
        """One comparison of what is wrong now with the alerts in force."""
        now = self.clock.now()
        now_s = now.timestamp()
        got = gather(self.ems)
        live = await asyncio.to_thread(self._compose, got, now)
        devices = self.devices.describe()["devices"] if self.devices is not None else {}
        cfg = self.config.alerts
        found: Condition = site_conditions(live, devices, self._disks(), cfg.disk_free_min_pct)
        self._progress, stuck = stalled(self._progress, live, now_s, cfg.stalled_after_s)
        found.update(stuck)
        if self.cpo is not None:
            found.update(cpo_conditions(self.cpo.describe()))
        for key, data in found.items():
            first = self._first.setdefault(key, now_s)
            if key not in self._active and now_s - first >= hold_s(key[0], cfg):
                await self.raise_(key[0], key[1], data)
        self._first = {k: v for k, v in self._first.items() if k in found}
        for key in [k for k in self._active if k not in found and not KINDS[k[0]].latched]:
            await self.clear(*key)

    def _compose(self, got: Any, now: Any) -> dict[str, Any]:
        """The live state, read on connections of this check's own (closed after)."""
        readers: dict[str, Any] = {}

        def rows(sql: str, params: Any = (), db: str = "core") -> list[Any]:
            if db not in readers:
                readers[db] = self.store.reader(db)
            return list(readers[db].execute(sql, list(params)).fetchall())
        try:
            return compose(self.config, got, rows, now, energy=True)
        finally:
            for reader in readers.values():
                reader.conn.close()

    def _disks(self) -> dict[str, float]:
        folders = [self.config.hub.data_dir, self.config.store.backup_dir]
        out = {}
        for folder in folders:
            if folder and Path(folder).is_dir():
                usage = shutil.disk_usage(folder)
                out[folder] = 100.0 * usage.free / usage.total if usage.total else 100.0
        return out

    async def raise_(self, kind: str, target: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """Raise (kind, target) unless it is in force already; the new alert, or None."""
        if (kind, target) in self._active:
            return None
        now = iso_utc(self.clock.now())
        severity = KINDS[kind].severity

        def job(db: Any) -> tuple[Any, ...] | None:
            cur = db.execute("INSERT INTO alerts (kind, target, severity, raised_at, data)"
                             " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
                             [kind, target, severity, now, json.dumps(data, default=str)])
            if not cur.rowcount:
                return None
            return tuple(db.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = ?",
                                    [cur.lastrowid]).fetchone())
        row = await self.store.core.write(job)
        if row is None:
            return None
        alert = as_dict(row)
        self._active[(kind, target)] = alert["id"]
        log.warning("alert raised: %s", alert["message"])
        self._tell("raised", alert)
        return alert

    async def clear(self, kind: str, target: str) -> dict[str, Any] | None:
        alert_id = self._active.pop((kind, target), None)
        if alert_id is None:
            return None
        now = iso_utc(self.clock.now())

        def job(db: Any) -> tuple[Any, ...]:
            db.execute("UPDATE alerts SET cleared_at = ? WHERE id = ?", [now, alert_id])
            return tuple(db.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = ?",
                                    [alert_id]).fetchone())
        alert = as_dict(await self.store.core.write(job))
        log.info("alert cleared: %s", alert["message"])
        self._tell("cleared", alert)
        return alert

    async def ack(self, alert_id: int, by: str) -> dict[str, Any] | None:
        """Acknowledge an alert (once: the first operator's name stays); None: no alert."""
        now = iso_utc(self.clock.now())

        def job(db: Any) -> tuple[Any, ...] | None:
            db.execute("UPDATE alerts SET acked_at = ?, acked_by = ? WHERE id = ?"
                       " AND acked_at IS NULL", [now, by, alert_id])
            row = db.execute(f"SELECT {COLUMNS} FROM alerts WHERE id = ?",
                             [alert_id]).fetchone()
            return tuple(row) if row else None
        row = await self.store.core.write(job)
        if row is None:
            return None
        alert = as_dict(row)
        if alert["acked_at"] == now:
            self._tell("acked", alert)
        return alert

    def _tell(self, what: str, alert: dict[str, Any]) -> None:
        for listener in self.listeners:
            try:
                listener(what, alert)
            except Exception:  # a subscriber's bug must not lose the alert
                log.exception("alert listener failed")
