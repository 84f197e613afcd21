"""What the API's views reach: the engine's parts, and a way into its event loop.

Views run on the HTTP server's threads; the engine lives on one asyncio loop. Reads of
the databases use each thread's own read-only connection; anything that touches the
engine's live state (an external limit, an OCPP command) runs on the loop through
:meth:`ApiContext.on_loop` / :meth:`ApiContext.call`, never from the thread directly.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections import OrderedDict
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from hub_engine.api.accounts import Accounts
from hub_engine.api.ratelimit import LoginLimiter
from hub_engine.clock import Clock, iso_utc
from hub_engine.config import HubConfig
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.access import AccessService
    from hub_engine.access.reservations import Reservations
    from hub_engine.alerts import AlertService
    from hub_engine.devices import SiteDevices
    from hub_engine.ems.loop import EmsLoop
    from hub_engine.history.reports import ReportService
    from hub_engine.maintenance.campaigns import CampaignService
    from hub_engine.maintenance.config_keys import ConfigKeys
    from hub_engine.maintenance.diagnostics import DiagnosticsService
    from hub_engine.maintenance.firmware import FirmwareFiles
    from hub_engine.ocpp.commands import CommandService
    from hub_engine.ocpp.cpo import CpoRelay
    from hub_engine.ocpp.server import OcppServer
    from hub_engine.ops.backups import BackupService
    from hub_engine.ops.mail import MailQueue
    from hub_engine.signals import SignalService
    from hub_engine.signals.ecowatt import EcoWattService
    from hub_engine.signals.offpeak import OffPeakService
    from hub_engine.signals.pv_service import PvForecastService
    from hub_engine.signals.tempo_service import TempoService

__all__ = ["ApiContext", "CommandJobs"]

T = TypeVar("T")
MAX_JOBS = 1000


class CommandJobs:
    """OCPP commands sent from the API: answered 202 with an id, polled until done."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._jobs: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def add(self, cp_id: str, command: str, by: str, future: Future[Any]) -> dict[str, Any]:
        job_id = uuid.uuid4().hex
        job: dict[str, Any] = {"id": job_id, "charge_point": cp_id, "command": command, "by": by,
               "created_at": iso_utc(self.clock.now()), "state": "pending", "result": None}
        with self._lock:
            self._jobs[job_id] = job
            while len(self._jobs) > MAX_JOBS:
                self._jobs.popitem(last=False)
        future.add_done_callback(lambda f: self._done(job, f))
        return job

    def _done(self, job: dict[str, Any], future: Future[Any]) -> None:
        exc = future.exception()
        with self._lock:
            job["state"] = "done"
            job["result"] = ({"outcome": "error", "error": str(exc)} if exc is not None
                             else future.result())

    def get(self, job_id: str) -> dict[str, Any] | None:
        with self._lock:
            job = self._jobs.get(job_id)
            return dict(job) if job is not None else None

    def recent(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(j) for j in reversed(self._jobs.values())]


@dataclass
class ApiContext:
    config: HubConfig
    store: Store
    clock: Clock
    accounts: Accounts
    started_at: datetime
    limiter: LoginLimiter
    jobs: CommandJobs
    ocpp: OcppServer | None = None
    commands: CommandService | None = None
    access: AccessService | None = None
    ems: EmsLoop | None = None
    devices: SiteDevices | None = None
    loop: asyncio.AbstractEventLoop | None = None
    config_path: str | None = None  # the file the engine was started with (None: demo)
    # Stops the engine and starts it again on the saved configuration (`hub run` sets
    # it; an engine embedded elsewhere cannot restart itself).
    restart: Callable[[], None] | None = None
    backups: BackupService | None = None  # the daily backup; None in a bare API server
    alerts: AlertService | None = None
    mail: MailQueue | None = None
    reports: ReportService | None = None
    signals: SignalService | None = None
    tempo: TempoService | None = None
    ecowatt: EcoWattService | None = None
    offpeak: OffPeakService | None = None
    pv: PvForecastService | None = None
    diagnostics: DiagnosticsService | None = None
    firmware: FirmwareFiles | None = None
    campaigns: CampaignService | None = None
    config_keys: ConfigKeys | None = None
    reservations: Reservations | None = None
    cpo: CpoRelay | None = None
    stopping: threading.Event = field(default_factory=threading.Event)  # ends live streams
    # The live state as last encoded, shared by every open stream: (monotonic time, JSON).
    live_cache: tuple[float, str] = (-1e18, "")
    live_lock: threading.Lock = field(default_factory=threading.Lock)
    # Each connector's energy today, re-read every TODAY_PERIOD_S (two reads each).
    today_cache: tuple[float, dict[str, float]] = (-1e18, {})

    def rows(self, sql: str, params: tuple[Any, ...] = (), db: str = "core") -> list[Any]:
        """A read on this thread's own read-only connection."""
        return self.store.read(sql, params, db)

    def submit(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        if self.loop is None:
            coro.close()
            raise RuntimeError("the engine loop is not running")
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def call(self, coro: Coroutine[Any, Any, T], timeout_s: float = 10.0) -> T:
        return self.submit(coro).result(timeout=timeout_s)

    def on_loop(self, fn: Callable[[], T], timeout_s: float = 10.0) -> T:
        """Run ``fn`` on the engine's loop (its state is not thread-safe) and return."""
        async def run() -> T:
            return fn()
        return self.call(run(), timeout_s)
