"""Running as a service: systemd notification and watchdog, the unit file, clock trust,
the daily backup, the heap kept off the cycle collector."""

from hub_engine.ops.backups import BackupService
from hub_engine.ops.clock_trust import ClockTrust
from hub_engine.ops.heap import HeapKeeper
from hub_engine.ops.sdnotify import Notifier, Watchdog

__all__ = ["BackupService", "ClockTrust", "HeapKeeper", "Notifier", "Watchdog"]
