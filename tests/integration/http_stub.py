"""A local HTTP server standing in for an internet API: each request goes to a function
that answers (status, JSON-able or bytes, headers)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

__all__ = ["Reply", "Request", "serving"]

Reply = tuple[int, Any, dict[str, str]]


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    target: str  # as sent: the path with its query string
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


@contextmanager
def serving(answer: Callable[[Request], Reply]) -> Iterator[str]:
    """Serve ``answer`` on 127.0.0.1; yields the base URL."""
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _handle(self) -> None:
            url = urlparse(self.path)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0) or 0))
            code, payload, headers = answer(Request(self.command, url.path, self.path,
                                                    parse_qs(url.query),
                                                    dict(self.headers.items()), body))
            data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
            self.send_response(code)
            for k, v in {"Content-Type": "application/json", **headers}.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
