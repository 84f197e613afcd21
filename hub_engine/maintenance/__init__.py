"""Maintenance of charge points: the built-in FTP server and what goes through it."""

from hub_engine.maintenance.diagnostics import DiagnosticsService
from hub_engine.maintenance.ftp import FtpService, Received

__all__ = ["DiagnosticsService", "FtpService", "Received"]
