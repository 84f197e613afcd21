"""The built-in FTP server (pyftpdlib, in its own thread): charge points upload their
diagnostics to it and, later, download firmware from it.

Every transfer gets a **ticket**: the charge point's id as user name and a random
password of its own, valid ``ticket_s``, put in the URL the charge point is sent. A
charge point logs in only as itself, into its own directory (``<data_dir>/ftp/<id>``),
which it may list, read and write, never delete or rename in; the firmware offered to it
is in its ``firmware`` folder, read only. Only password hashes are
kept; a password is in no log. An upload above ``max_upload_mb`` is cut and deleted.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import os
import secrets
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pyftpdlib.authorizers import AuthenticationFailed, DummyAuthorizer
from pyftpdlib.handlers import DTPHandler, FTPHandler
from pyftpdlib.ioloop import IOLoop
from pyftpdlib.servers import FTPServer

from hub_engine.clock import Clock
from hub_engine.config.maintenance import FtpConfig

__all__ = ["FIRMWARE_DIR", "FtpService", "Received"]

log = logging.getLogger(__name__)
_PERMS = "elrw"  # change dir, list, read, write: no delete, rename or mkdir
FIRMWARE_DIR = "firmware"  # in each home, read only: the firmware files offered to it


@dataclass(frozen=True)
class Received:
    cp_id: str
    path: Path
    size_bytes: int


@dataclass
class _Ticket:
    digest: bytes
    expires_s: float


def _digest(password: str) -> bytes:
    return hashlib.sha256(password.encode()).digest()


class _Authorizer(DummyAuthorizer):  # type: ignore[misc]
    """Users are the charge points with a valid ticket; a password is one of theirs."""

    def __init__(self, service: FtpService) -> None:
        super().__init__()
        self.service = service

    def validate_authentication(self, username: str, password: str, handler: Any) -> None:
        if not self.service.valid(username, password):
            log.warning("FTP: login refused for %r from %s", username,
                        getattr(handler, "remote_ip", "?"))
            raise AuthenticationFailed("Authentication failed.")
        if not self.has_user(username):
            home = self.service.home(username)
            self.add_user(username, "", str(home), perm=_PERMS)
            # Firmware offered to it: read only (its file is shared with other charge
            # points: a STOR there would change theirs).
            self.override_perm(username, str(home / FIRMWARE_DIR), "elr", recursive=True)


class FtpService:
    name = "ftp"

    def __init__(self, config: FtpConfig, root: Path, clock: Clock) -> None:
        self.config, self.root, self.clock = config, root, clock
        self.on_received: list[Callable[[Received], None]] = []
        self._tickets: dict[str, list[_Ticket]] = {}
        self._lock = threading.Lock()
        self._server: FTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self.port = config.port

    # -- tickets -----------------------------------------------------------------------
    def ticket(self, cp_id: str) -> str:
        """A new password for ``cp_id``, valid ``ticket_s``."""
        password = secrets.token_urlsafe(18)
        expires = self.clock.monotonic() + self.config.ticket_s
        with self._lock:
            kept = [t for t in self._tickets.get(cp_id, [])
                    if t.expires_s > self.clock.monotonic()]
            self._tickets[cp_id] = [*kept, _Ticket(_digest(password), expires)]
        self.home(cp_id)
        return password

    def valid(self, cp_id: str, password: str) -> bool:
        now, given = self.clock.monotonic(), _digest(password)
        with self._lock:
            return any(t.expires_s > now and hmac.compare_digest(t.digest, given)
                       for t in self._tickets.get(cp_id, []))

    def url(self, cp_id: str, password: str, path: str = "") -> str:
        """The URL ``cp_id`` is sent: its credentials, the hub's address, ``path``."""
        return (f"ftp://{quote(cp_id, safe='')}:{quote(password, safe='')}@"
                f"{self.config.address}:{self.port}/{path.lstrip('/')}")

    def home(self, cp_id: str) -> Path:
        if not cp_id or "/" in cp_id or cp_id in (".", ".."):
            raise ValueError(f"no FTP home for {cp_id!r}")
        home = self.root / cp_id
        (home / FIRMWARE_DIR).mkdir(parents=True, exist_ok=True, mode=0o750)
        return home

    def offer(self, cp_id: str, source: Path) -> str:
        """``source`` made readable by ``cp_id`` (a hard link, else a copy); returns its
        path in the charge point's FTP tree."""
        target = self.home(cp_id) / FIRMWARE_DIR / source.name
        if not target.exists():
            try:
                os.link(source, target)
            except OSError:  # another file system
                shutil.copyfile(source, target)
        return f"{FIRMWARE_DIR}/{source.name}"

    # -- the server --------------------------------------------------------------------
    async def start(self) -> None:
        if not self.config.enabled:
            return
        self.root.mkdir(parents=True, exist_ok=True, mode=0o750)
        self._loop = asyncio.get_running_loop()
        service, limit = self, int(self.config.max_upload_mb * 1024 * 1024)

        class Data(DTPHandler):  # type: ignore[misc]
            def handle_read(self) -> None:
                super().handle_read()
                if self.tot_bytes_received > limit and not self.transfer_finished:
                    log.warning("FTP: an upload went over %d bytes: cut", limit)
                    self.close()

            handle_read_event = handle_read  # the base class aliases its own

        class Handler(FTPHandler):  # type: ignore[misc]
            dtp_handler = Data
            authorizer = _Authorizer(self)
            banner = "charge hub"
            passive_ports = (list(range(self.config.passive_ports[0],
                                        self.config.passive_ports[1] + 1))
                             if self.config.passive_ports else None)
            masquerade_address = None
            permit_foreign_addresses = False

            def on_file_received(self, file: str) -> None:
                service._received(self.username, Path(file))

            def on_incomplete_file_received(self, file: str) -> None:
                Path(file).unlink(missing_ok=True)  # never kept half

        # Its own I/O loop (not the process-wide one), driven by its thread alone.
        self._stopping.clear()
        self._server = FTPServer((self.config.host, self.config.port), Handler,
                                 ioloop=IOLoop())
        self.port = self._server.address[1]
        self._thread = threading.Thread(target=self._serve, name="ftp", daemon=True)
        self._thread.start()
        log.info("FTP server on %s:%d (charge points reach it at %s)", self.config.host,
                 self.port, self.config.address)

    def _serve(self) -> None:
        server = self._server
        assert server is not None
        try:
            while not self._stopping.is_set():
                server.serve_forever(timeout=0.2, blocking=False, handle_exit=False)
        except Exception:  # the FTP server down must not go unnoticed
            log.exception("FTP server failed")
        finally:
            server.close_all()

    def _received(self, cp_id: str, path: Path) -> None:
        """In the FTP thread: hand the file to the engine's loop."""
        got = Received(cp_id, path, path.stat().st_size)
        loop = self._loop
        if loop is None or loop.is_closed():
            return
        for listener in self.on_received:
            loop.call_soon_threadsafe(listener, got)

    async def stop(self) -> None:
        thread = self._thread
        if thread is None:
            return
        self._stopping.set()  # its thread closes it (pyftpdlib is not thread-safe)
        await asyncio.to_thread(thread.join, 5)
        self._server = self._thread = None
