"""Composition root: builds every part of the engine from the configuration and runs them.

Components start in order and stop in reverse order, so the store is the first thing open
and the last thing closed: nothing a handler acknowledged can be cut off by shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from hub_engine import __version__
from hub_engine.access import AccessService
from hub_engine.access.reservations import Reservations
from hub_engine.alerts import AlertMail, AlertService
from hub_engine.api import ApiServer
from hub_engine.bus import BusServer
from hub_engine.clock import Clock, SystemClock, iso_utc, parse_iso
from hub_engine.config import HubConfig
from hub_engine.config.loader import config_text
from hub_engine.devices import build_devices
from hub_engine.ems.external import ExternalLimits, LimitRequest
from hub_engine.history.reports import ReportService
from hub_engine.maintenance.campaigns import CampaignService
from hub_engine.maintenance.config_keys import ConfigKeys
from hub_engine.maintenance.diagnostics import DiagnosticsService
from hub_engine.maintenance.firmware import FirmwareFiles
from hub_engine.maintenance.ftp import FtpService
from hub_engine.ocpp import CommandService, OcppServer
from hub_engine.ocpp.cpo import CpoCommands, CpoRelay
from hub_engine.ocpp.ems_port import attach_ems
from hub_engine.ops import BackupService, ClockTrust, HeapKeeper, Notifier, Watchdog
from hub_engine.ops.mail import Mailer, MailQueue
from hub_engine.plans import PlansKeeper
from hub_engine.signals import SignalService
from hub_engine.signals.ecowatt import EcoWattService
from hub_engine.signals.offpeak import OffPeakService
from hub_engine.signals.pv_service import PvForecastService
from hub_engine.signals.tempo_service import TempoService
from hub_engine.sim.demo import DemoSite
from hub_engine.store import Store
from hub_engine.store.limits import load_limits, save_limits
from hub_engine.tasks import cancel_and_wait

__all__ = ["App", "Component", "RetentionTask"]

log = logging.getLogger(__name__)


class Component(Protocol):
    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class _StoreComponent:
    name = "store"

    def __init__(self, store: Store) -> None:
        self.store = store

    async def start(self) -> None:
        await self.store.start()

    async def stop(self) -> None:
        await self.store.stop()


class RetentionTask:
    """Applies the store's retention rules once at start and then every ``period_s``."""

    name = "retention"

    def __init__(self, store: Store, clock: Clock, period_s: float = 3600.0,
                 on_pseudonymised: Callable[[], None] | None = None) -> None:
        self.store = store
        self.clock = clock
        self.period_s = period_s
        # Members made pseudonyms lose their badges: the charge points' lists must follow.
        self.on_pseudonymised = on_pseudonymised
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="retention")

    async def run_once(self) -> dict[str, int]:
        report = await self.store.apply_retention()
        if report.get("pseudonymised_members") and self.on_pseudonymised is not None:
            self.on_pseudonymised()
        return report

    async def _run(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("retention run failed; retrying next period")
            await self.clock.sleep(self.period_s)

    async def stop(self) -> None:
        await cancel_and_wait(self._task)


class LimitsKeeper:
    """External limits in ``core.db``: restored at start, saved on every change."""

    name = "external-limits"

    def __init__(self, store: Store, limits: ExternalLimits) -> None:
        self.store, self.limits = store, limits

    async def start(self) -> None:
        kept = []
        for data in load_limits(self.store.rows("SELECT request FROM external_limits")):
            expires = parse_iso(data.pop("expires_at"))
            if expires is not None:
                kept.append(LimitRequest(expires_at=expires, **data))
        if kept:
            log.info("external limits restored: %d in force", self.limits.restore(kept))
        self.limits.on_change = self._save

    def _save(self, requests: list[LimitRequest]) -> None:
        self.store.core.submit(save_limits([
            {**dataclasses.asdict(r), "expires_at": iso_utc(r.expires_at)} for r in requests]))

    async def stop(self) -> None:
        self.limits.on_change = None


class App:
    """The engine: one asyncio loop, components in order, clean stop on SIGTERM/SIGINT."""

    def __init__(self, config: HubConfig, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or SystemClock()
        self.data_dir = Path(config.hub.data_dir)
        self.store = Store(config.store, self.data_dir, self.clock)
        self.ocpp = OcppServer(config, self.store, self.clock)
        self.demo: DemoSite | None = None
        if config.simulation is not None:
            self.demo = DemoSite(config, lambda: self.ocpp.ports["ws"])
        self.devices = build_devices(config, self.clock,
                                     self.demo.sim_meter if self.demo is not None else None)
        self.ems = attach_ems(self.ocpp, config, self.devices.meters, self.clock)
        self.ems.site_inputs = self.devices
        self.ems.solar.batteries = self.devices.batteries
        self.devices.alert = self.ems._alert
        self.access = AccessService(config, self.store, self.clock)
        self.retention = RetentionTask(self.store, self.clock,
                                       on_pseudonymised=lambda: self.access.changed(True))
        commands = CommandService(self.ocpp)
        self.access.server, self.access.commands, self.access.ems = self.ocpp, commands, self.ems
        self.ocpp.ctx.access = self.access
        self.reservations = Reservations(commands, self.store, self.clock)
        self.ocpp.ctx.reservations = self.reservations
        self.ocpp.ctx.listeners.append(self.reservations.on_event)
        self.ocpp.ctx.listeners.append(self.access.on_event)
        self.ems.session_rights = self.access.rights
        self.cpo = CpoRelay(config, self.ocpp, self.store, self.clock)
        CpoCommands(self.cpo)
        self.cpo.attach_ems(self.ems.external)
        self.ocpp.ctx.cpo = self.cpo
        self.ocpp.ctx.listeners.append(self.cpo.on_event)
        self.cpo.on_list = lambda: self.access.changed(False)
        self.ems.clock_trusted = ClockTrust(config.ops.clock).trusted
        self.notifier = Notifier()
        self.ems.listeners.append(Watchdog(self.notifier))  # a completed cycle feeds it
        self.ftp = FtpService(config.maintenance.ftp, self.data_dir / "ftp", self.clock)
        self.diagnostics = DiagnosticsService(self.ftp, self.ocpp.stations, self.store,
                                              self.data_dir / "diagnostics", self.clock)
        self.ocpp.ctx.listeners.append(self.diagnostics.on_event)
        maintenance = config.maintenance
        self.firmware = FirmwareFiles(self.store, self.data_dir / "firmware", self.clock,
                                      maintenance.max_firmware_mb)
        self.campaigns = CampaignService(
            self.firmware, self.ftp, self.ocpp.stations, self.store, self.clock,
            lambda: {cp.id for cp in config.charge_points()},
            step_timeout_s=maintenance.firmware_step_timeout_s)
        self.ocpp.ctx.listeners.append(self.campaigns.on_event)
        self.api = ApiServer(config, self.store, self.clock)
        self.api.ctx.diagnostics = self.diagnostics
        self.api.ctx.firmware, self.api.ctx.campaigns = self.firmware, self.campaigns
        self.api.ctx.config_keys = ConfigKeys(commands, self.store, self.clock)
        self.api.ctx.reservations = self.reservations
        self.api.ctx.cpo = self.cpo
        self.api.ctx.ocpp, self.api.ctx.ems = self.ocpp, self.ems
        self.api.ctx.commands, self.api.ctx.devices = commands, self.devices
        self.api.ctx.access = self.access
        self.backups = BackupService(config, self.clock,
                                     lambda: config_text(self.api.ctx.config_path),
                                     alert=self.ems._alert)
        self.api.ctx.backups = self.backups
        self.signals = SignalService(config, self.store, self.clock)
        self.signals.ems, self.signals.alert = self.ems, self.ems._alert
        self.tempo = TempoService(config, self.store, self.clock)
        self.tempo.ems = self.ems
        self.ecowatt = EcoWattService(config, self.store, self.clock)
        self.ecowatt.ems = self.ems
        self.offpeak = OffPeakService(config, self.clock)
        self.offpeak.ems = self.ems
        self.api.ctx.ecowatt, self.api.ctx.offpeak = self.ecowatt, self.offpeak
        self.api.ctx.signals, self.api.ctx.tempo = self.signals, self.tempo
        self.pv = PvForecastService(config, self.store, self.clock)
        self.pv.alert, self.pv.measured = self.ems._alert, self.devices.pv_power_w
        self.ems.solar.forecast = self.pv.ahead
        self.api.ctx.pv = self.pv
        self.mail = MailQueue(Mailer(config.mail) if config.mail is not None else None)
        self.alerts = AlertService(config, self.store, self.clock)
        self.alerts.ems, self.alerts.devices = self.ems, self.devices
        self.alerts.cpo = self.cpo
        self.ems.alert_listeners.append(self.alerts.on_event)
        self.alerts.listeners.append(AlertMail(config, self.mail))
        self.api.ctx.alerts, self.api.ctx.mail = self.alerts, self.mail
        self.reports = ReportService(config, self.store, self.clock, self.mail)
        self.api.ctx.reports = self.reports
        self.bus = BusServer(config, self.api.ctx.accounts)
        self.bus.ems, self.bus.commands, self.bus.pv = self.ems, commands, self.pv
        self.bus.store, self.bus.clock = self.store, self.clock
        self.ocpp.ctx.listeners.append(self.bus.on_ocpp_event)
        self.ems.listeners.append(self.bus.on_ems_record)
        self.ems.alert_listeners.append(self.bus.on_alert)
        self.alerts.listeners.append(self.bus.on_alert_change)
        self.heap = HeapKeeper(self.clock)
        self.components: list[Component] = [
            self.heap,  # stops last: the collector is whole again once all is down
            _StoreComponent(self.store),
            self.retention,
            self.backups,
            self.ocpp,
            self.ftp,
            self.diagnostics,
            self.campaigns,
            self.reservations,
            self.devices,
            LimitsKeeper(self.store, self.ems.external),
            self.cpo,
            PlansKeeper(self.store, self.ems),
            self.ems,
            self.signals,
            self.tempo,
            self.ecowatt,
            self.offpeak,
            self.pv,
            self.mail,
            self.alerts,
            self.reports,
            self.access,
            self.bus,
            self.api,
        ]
        if self.demo is not None:  # after the OCPP server: needs its port
            self.demo.store, self.demo.access = self.store, self.access
            self.components.append(self.demo)
        self._started: list[Component] = []
        self._stop = asyncio.Event()
        self.restart_requested = False

    async def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Made earlier with a looser umask: closed to others now. The group may only
        # reach the bus sockets (0660, docs/bus.md); every file is the hub's (0600).
        self.data_dir.chmod(0o750)
        for component in self.components:
            await component.start()
            self._started.append(component)
            log.debug("started %s", component.name)

    async def stop(self) -> None:
        while self._started:
            component = self._started.pop()
            try:
                await component.stop()
            except Exception:
                log.exception("error while stopping %s", component.name)

    def request_stop(self) -> None:
        self._stop.set()

    def request_restart(self) -> None:
        """Stop, then let ``hub run`` start the engine again (``restart_requested``)."""
        self.restart_requested = True
        self._stop.set()

    async def run(self) -> None:
        """Start everything, serve until a stop is requested, then stop everything."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self.request_stop)
        try:
            await self.start()
            for warning in self.config.warnings():
                log.warning("configuration: %s", warning)
            sites = ", ".join(f"{s.id} ({s.name or 'unnamed'})" for s in self.config.sites)
            log.info(
                "hub %s running: sites %s; %d charge points configured; data in %s",
                __version__, sites, len(self.config.charge_points()), self.data_dir,
            )
            self.notifier.send(f"READY=1\nSTATUS=running, {len(self.config.charge_points())}"
                               " charge points configured")
            await self._stop.wait()
            log.info("stop requested; shutting down")
            self.notifier.send("STOPPING=1")
        finally:
            await self.stop()
            log.info("hub stopped")
