"""Slow and greedy HTTP clients against a thread-per-request server (cheroot).

cheroot waits for idle keep-alive connections without a thread, but once a request has
started a worker thread reads it to the end, and its only timeout is per ``recv``: a
client sending one byte every few seconds ("slowloris") holds a thread for ever, and
``http.threads`` of them took the API and the UI down. Here, on top of cheroot:

- the request line and headers must arrive within ``http.header_timeout_s``, the body at
  ``http.body_min_rate_bytes_per_s`` at least (deadlines over the whole request, not per
  read): 408 past them;
- the body is read in full before the application runs, so the time a request spends
  "being read" is bounded and known; at most ``http.max_reading_per_client`` requests of
  one address are being read at once (429 beyond; a browser's requests take
  milliseconds each to read). Trusted reverse proxies are exempt: they buffer requests;
- cheroot's own error answers (400, 408, 413, 414) use the API's JSON error shape.

Written against cheroot 11 (``HTTPRequest.respond`` is re-stated below with the body
read first).
"""

from __future__ import annotations

import contextlib
import io
import json
import socket
import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from cheroot import server as cheroot_server
from cheroot.makefile import MakeFile

__all__ = ["GuardedConnection", "GuardedRequest", "ReadGuard"]

_WAIT_S = 0.25
_CODES = {400: "bad_request", 408: "timeout", 413: "too_large", 414: "too_large",
          429: "too_many_requests", 500: "internal"}


@dataclass(frozen=True)
class ReadGuard:
    """What every guarded connection of one server shares."""

    header_timeout_s: float
    body_min_rate_bytes_per_s: int
    max_reading_per_client: int
    exempt: frozenset[str]
    reading: Counter[str]
    lock: threading.Condition

    @classmethod
    def build(cls, header_timeout_s: float, body_min_rate_bytes_per_s: int,
              max_reading_per_client: int, exempt: tuple[str, ...]) -> ReadGuard:
        return cls(header_timeout_s, body_min_rate_bytes_per_s, max_reading_per_client,
                   frozenset(exempt), Counter(), threading.Condition())

    def enter(self, address: str) -> bool:
        """Count one more request of ``address`` being received; False if it already has
        its share, still after a short wait (an honest burst is read in milliseconds)."""
        if address in self.exempt:
            return True
        with self.lock:
            if not self.lock.wait_for(
                    lambda: self.reading[address] < self.max_reading_per_client, _WAIT_S):
                return False
            self.reading[address] += 1
            return True

    def leave(self, address: str) -> None:
        if address in self.exempt:
            return
        with self.lock:
            self.reading[address] -= 1
            if self.reading[address] <= 0:
                del self.reading[address]
            self.lock.notify_all()


class _DeadlineSocket:
    """The socket as the read buffer sees it: each read waits at most until the
    connection's deadline (and at most the server's per-read timeout)."""

    def __init__(self, sock: socket.socket, conn: GuardedConnection) -> None:
        self._sock = sock
        self._conn = conn

    def recv_into(self, buffer: Any, nbytes: int = 0, flags: int = 0) -> int:
        deadline = self._conn.deadline
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("timed out")  # cheroot answers 408 to this text
            self._sock.settimeout(min(left, self._conn.server.timeout))
        return self._sock.recv_into(buffer, nbytes, flags)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class GuardedRequest(cheroot_server.HTTPRequest):
    conn: GuardedConnection

    def parse_request(self) -> None:
        self.conn.deadline = time.monotonic() + self.conn.guard.header_timeout_s
        super().parse_request()

    def respond(self) -> None:
        guard, conn = self.conn.guard, self.conn
        limit = self.server.max_request_body_size
        if not self.chunked_read:
            length = int(self.inheaders.get(b"Content-Length", 0))
            if limit and length > limit:
                self.simple_response("413 Request Entity Too Large",
                                     f"a body of {length} bytes: the limit is {limit}")
                return
            conn.deadline = time.monotonic() + 5 + length / guard.body_min_rate_bytes_per_s
            body = conn.rfile.read(length) if length else b""
            if len(body) < length:
                self.close_connection = True  # the client went away mid-body
                return
            self.rfile = cheroot_server.KnownLengthRFile(io.BytesIO(body), length)
            conn.done_reading()
        else:  # rare (no browser sends it): read while the application runs, same rate
            conn.deadline = time.monotonic() + 5 + (limit or 1 << 20) / \
                guard.body_min_rate_bytes_per_s
            self.rfile = cheroot_server.ChunkedRFile(conn.rfile, limit)
        self.server.gateway(self).respond()
        if self.ready:
            self.ensure_headers_sent()
        if self.chunked_write:
            conn.wfile.write(b"0\r\n\r\n")

    def simple_response(self, status: str, msg: str = "") -> None:
        """cheroot's plain-text errors, in the API's JSON error shape."""
        code = int(str(status)[:3])
        body = json.dumps({"error": {"status": code, "code": _CODES.get(code, "error"),
                                     "message": msg or str(status)[4:], "detail": {}}})
        head = (f"{self.server.protocol} {status}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n")
        if code == 429:
            head += "Retry-After: 1\r\n"
        self.close_connection = True
        with contextlib.suppress(OSError):  # the client is gone: nothing to tell it
            self.conn.wfile.write(f"{head}\r\n{body}".encode())


class GuardedConnection(cheroot_server.HTTPConnection):
    RequestHandlerClass = GuardedRequest
    guard: ReadGuard  # set on the class made for each server

    def __init__(self, server: Any, sock: socket.socket, makefile: Any = MakeFile) -> None:
        super().__init__(server, sock, makefile)
        self.rfile = makefile(_DeadlineSocket(sock, self), "rb", self.rbufsize)
        self.deadline: float | None = None
        self._reading = False

    def done_reading(self) -> None:
        self.deadline = None
        if self._reading:
            self._reading = False
            self.guard.leave(str(self.remote_addr))

    def _closed_by_peer(self) -> bool:
        """A keep-alive connection the client closed is handed over as "readable" too: it
        is no request and must not take a place in the count."""
        if self.rfile.has_data() or not hasattr(self.socket, "recv") or \
                getattr(self.socket, "context", None) is not None:  # TLS: cannot peek
            return False
        try:
            peeked: bytes = self.socket.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
            return peeked == b""
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True

    def communicate(self) -> bool:
        address = str(self.remote_addr)
        if self._closed_by_peer():
            return False
        if not self.guard.enter(address):
            req = self.RequestHandlerClass(self.server, self)
            req.simple_response("429 Too Many Requests",
                                f"{self.guard.max_reading_per_client} requests from "
                                f"{address} are already being received")
            return False
        self._reading = True
        try:
            return bool(super().communicate())  # type: ignore[no-untyped-call]
        finally:
            self.done_reading()


def connection_class(guard: ReadGuard) -> type[GuardedConnection]:
    """A connection class bound to one server's guard (cheroot builds connections from
    ``server.ConnectionClass`` with no room for more arguments)."""
    return type("Guarded", (GuardedConnection,), {"guard": guard})
