"""Running as a service: systemd notification and watchdog, the unit file, clock trust,
the daily backup."""

from hub_engine.ops.backups import BackupService
from hub_engine.ops.clock_trust import ClockTrust
from hub_engine.ops.sdnotify import Notifier, Watchdog

__all__ = ["BackupService", "ClockTrust", "Notifier", "Watchdog"]
