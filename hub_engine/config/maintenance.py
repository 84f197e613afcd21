"""The built-in FTP server that charge points download firmware from and upload their
diagnostics to (``maintenance.ftp``, docs/maintenance.md)."""

from __future__ import annotations

from dataclasses import dataclass

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["FtpConfig", "MaintenanceConfig"]


@dataclass(frozen=True)
class FtpConfig:
    enabled: bool = False
    host: str = "0.0.0.0"
    port: int = 2121  # 0: any free port (tests)
    # The address charge points reach the hub at, put in the URLs they are sent (the
    # listening address when it is a real one).
    public_host: str | None = None
    # Passive-mode data ports, first and last (a firewall opens them); None: any.
    passive_ports: tuple[int, int] | None = None
    # How long the credentials of one transfer stay valid.
    ticket_s: float = 3600.0
    # A diagnostics upload above this is cut and deleted (a disk filled by one is lost
    # for the sessions' records).
    max_upload_mb: float = 200.0

    def __post_init__(self) -> None:
        if not 0 <= self.port <= 65535:
            raise FieldError("port", Text("got {value!r}, expected 0..65535", value=self.port))
        if self.ticket_s < 60:
            raise FieldError("ticket_s", Text("must be ≥ 60"))
        if self.max_upload_mb <= 0:
            raise FieldError("max_upload_mb", Text("must be > 0"))
        if self.passive_ports is not None and not (
                1024 <= self.passive_ports[0] <= self.passive_ports[1] <= 65535):
            raise FieldError("passive_ports", Text(
                "got {value!r}, expected [first, last] within 1024..65535", value=list(
                    self.passive_ports)))
        if self.enabled and self.public_host is None and self.host in ("0.0.0.0", "::", ""):
            raise FieldError("public_host", Text(
                "listening on every address: give public_host, the address charge points "
                "reach the hub at"))

    @property
    def address(self) -> str:
        return self.public_host or self.host


@dataclass(frozen=True)
class MaintenanceConfig:
    ftp: FtpConfig = FtpConfig()
    max_firmware_mb: float = 256.0  # the largest firmware file the API takes
    # A charge point under update with no news this long is tried again (or failed).
    firmware_step_timeout_s: float = 1800.0

    def __post_init__(self) -> None:
        if not 1 <= self.max_firmware_mb <= 4096:
            raise FieldError("max_firmware_mb", Text("got {value!r}, expected 1..4096",
                                                     value=self.max_firmware_mb))
        if self.firmware_step_timeout_s < 60:
            raise FieldError("firmware_step_timeout_s", Text("must be ≥ 60"))
