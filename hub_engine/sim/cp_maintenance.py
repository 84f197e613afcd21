"""Maintenance calls of the simulated charge point, over real FTP (``ftplib``):

- GetConfiguration and ChangeConfiguration: unknown keys NotSupported, read-only ones and
  values of the wrong kind Rejected, a vendor key RebootRequired;
- GetDiagnostics, answered with a file name and followed by an upload of a diagnostics
  file to the location given (DiagnosticsStatusNotification Uploading, then Uploaded or
  UploadFailed);
- UpdateFirmware: at its retrieve date, the file downloaded from the location
  (FirmwareStatusNotification Downloading, Downloaded or DownloadFailed), installed
  (Installing), a BootNotification with the new firmware version (its name), Installed.
"""

from __future__ import annotations

import asyncio
import ftplib
import io
import logging
import posixpath
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.enums import Action

from hub_engine.clock import parse_iso
from hub_engine.sim.quirks import Quirk

if TYPE_CHECKING:
    from hub_engine.sim.chargepoint import Connector

__all__ = ["Maintenance", "ftp_download", "ftp_upload"]

log = logging.getLogger(__name__)


def ftp_upload(url: str, name: str, data: bytes, timeout_s: float = 10.0) -> None:
    """Store ``data`` as ``name`` in the directory of ``url`` (ftp://user:pass@host:port/dir)."""
    parts = urlsplit(url)
    if parts.scheme != "ftp" or parts.hostname is None:
        raise ValueError(f"not an FTP location: {parts.scheme}://{parts.hostname}")
    with ftplib.FTP(timeout=timeout_s) as ftp:
        ftp.connect(parts.hostname, parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
        if parts.path.strip("/"):
            ftp.cwd(parts.path)
        ftp.storbinary(f"STOR {name}", io.BytesIO(data))


def ftp_download(url: str, timeout_s: float = 10.0) -> bytes:
    """The file at ``url`` (ftp://user:pass@host:port/path)."""
    parts = urlsplit(url)
    if parts.scheme != "ftp" or parts.hostname is None:
        raise ValueError(f"not an FTP location: {parts.scheme}://{parts.hostname}")
    out = io.BytesIO()
    with ftplib.FTP(timeout=timeout_s) as ftp:
        ftp.connect(parts.hostname, parts.port or 21)
        ftp.login(unquote(parts.username or "anonymous"), unquote(parts.password or ""))
        ftp.retrbinary(f"RETR {unquote(parts.path)}", out.write)
    return out.getvalue()


_READONLY = frozenset({"SupportedFeatureProfiles", "ChargeProfileMaxStackLevel",
                       "ChargingScheduleAllowedChargingRateUnit", "NumberOfConnectors",
                       "MeterValuesSampledDataMaxLength", "ConnectorSwitch3to1PhaseSupported"})
_INTEGERS = frozenset({"HeartbeatInterval", "MeterValueSampleInterval", "ConnectionTimeOut",
                       "LightIntensity"})
_REBOOT = frozenset({"LightIntensity"})


class Maintenance:
    if TYPE_CHECKING:  # what the charge point provides
        id: str
        connectors: dict[int, Connector]

        async def call(self, payload: Any, *args: Any, **kwargs: Any) -> Any: ...
        async def boot(self) -> str: ...
        def has(self, quirk: Any) -> bool: ...
        clock: Any
        settings: dict[str, str]
        config_rejects: set[str]

    # Faults a test switches on: the upload fails; the diagnostics file's size.
    diagnostics_fail = False
    diagnostics_bytes = 4096
    diagnostics_uploaded: list[str]
    firmware_version = "1.0.0"
    firmware_fail_downloads = 0  # fault: this many downloads fail, then they work
    firmware_installed: list[tuple[str, int]]  # (version, its size)

    def _diagnostics_name(self) -> str:
        return f"{self.id}-diagnostics.log"

    @on(Action.get_configuration)
    def on_get_configuration(self, key: list[str] | None = None) -> Any:
        keys = key or list(self.settings)
        return call_result.GetConfiguration(
            configuration_key=[{"key": k, "readonly": k in _READONLY, "value": self.settings[k]}
                               for k in keys if k in self.settings],
            unknown_key=[k for k in keys if k not in self.settings] or None)

    @on(Action.change_configuration)
    def on_change_configuration(self, key: str, value: str) -> Any:
        if key not in self.settings:
            return call_result.ChangeConfiguration(status="NotSupported")
        if key in _READONLY or key in self.config_rejects or (
                key in _INTEGERS and not value.strip().isdigit()):
            return call_result.ChangeConfiguration(status="Rejected")
        if key in _REBOOT:
            self.settings[key] = value
            return call_result.ChangeConfiguration(status="RebootRequired")
        if key == "MeterValuesSampledData":
            items = value.split(",")
            if len(items) > int(self.settings["MeterValuesSampledDataMaxLength"]) or (
                    self.has(Quirk.NO_CURRENT_OFFERED) and "Current.Offered" in items):
                return call_result.ChangeConfiguration(status="Rejected")
        self.settings[key] = value
        return call_result.ChangeConfiguration(status="Accepted")

    @on(Action.get_diagnostics)
    def on_get_diagnostics(self, location: str, **_: Any) -> Any:
        return call_result.GetDiagnostics(file_name=self._diagnostics_name())

    @after(Action.get_diagnostics)
    async def after_get_diagnostics(self, location: str, retries: int | None = None,
                                    **_: Any) -> None:
        await self.call(call.DiagnosticsStatusNotification(status="Uploading"))
        lines = [f"{self.id} connector {c.id}: {c.status}, {c.current_a:.1f} A, "
                 f"{c.energy_wh:.0f} Wh" for c in self.connectors.values()]
        text = ("\n".join(lines) + "\n").encode()
        data = (text * (self.diagnostics_bytes // len(text) + 1))[: self.diagnostics_bytes]
        for attempt in range(1 + max(0, retries or 0)):
            try:
                if self.diagnostics_fail:
                    raise OSError("upload failed (simulated)")
                await asyncio.to_thread(ftp_upload, location, self._diagnostics_name(), data)
            except (OSError, EOFError, ftplib.Error, ValueError) as exc:
                log.info("%s: diagnostics upload %d failed: %s", self.id, attempt + 1, exc)
                continue
            self.diagnostics_uploaded.append(location.rsplit("@", 1)[-1])
            await self.call(call.DiagnosticsStatusNotification(status="Uploaded"))
            return
        await self.call(call.DiagnosticsStatusNotification(status="UploadFailed"))

    @on(Action.update_firmware)
    def on_update_firmware(self, location: str, retrieve_date: str, **_: Any) -> Any:
        return call_result.UpdateFirmware()

    @after(Action.update_firmware)
    async def after_update_firmware(self, location: str, retrieve_date: str, **_: Any
                                    ) -> None:
        at = parse_iso(retrieve_date)
        if at is not None:
            await asyncio.sleep(min(3600.0, max(0.0, (at - self.clock.now()).total_seconds())))
        await self.call(call.FirmwareStatusNotification(status="Downloading"))
        try:
            if self.firmware_fail_downloads > 0:
                self.firmware_fail_downloads -= 1
                raise OSError("download failed (simulated)")
            data = await asyncio.to_thread(ftp_download, location)
        except (OSError, EOFError, ftplib.Error, ValueError) as exc:
            log.info("%s: firmware download failed: %s", self.id, exc)
            await self.call(call.FirmwareStatusNotification(status="DownloadFailed"))
            return
        await self.call(call.FirmwareStatusNotification(status="Downloaded"))
        await self.call(call.FirmwareStatusNotification(status="Installing"))
        await asyncio.sleep(0.3)
        self.firmware_version = posixpath.basename(urlsplit(location).path)[:50]
        self.firmware_installed.append((self.firmware_version, len(data)))
        await self.boot()  # as after its reboot: the new version in its BootNotification
        await self.call(call.FirmwareStatusNotification(status="Installed"))
