"""Slow and hostile HTTP clients against the real server (cheroot, 16 threads): slowloris
headers, trickled bodies, deep JSON, oversized bodies. The API must stay up for everyone
else and every bad request gets a JSON error."""

from __future__ import annotations

import json
import socket
import threading
import time
from pathlib import Path

import requests

from tests.integration.api_fixtures import SITE, Hub

# Short deadlines keep the test short; the defaults are 10 s and 16 kB/s.
_SLOW_SITE = SITE.replace("http: {host: 127.0.0.1,", "http: {host: 127.0.0.1, "
                          "header_timeout_s: 3, body_min_rate_bytes_per_s: 20000,")


class SlowClient(threading.Thread):
    """Opens a connection from ``source`` and trickles a request, a byte a second, until
    the server answers or closes; keeps what it was answered."""

    def __init__(self, port: int, source: str, body: bool) -> None:
        super().__init__(daemon=True)
        self.port, self.source, self.body = port, source, body
        self.answer = b""
        self.closed_after_s: float | None = None
        self.stop = threading.Event()

    def run(self) -> None:
        sock = socket.create_connection(("127.0.0.1", self.port), source_address=(
            self.source, 0))
        sock.settimeout(1.0)
        start = time.monotonic()
        if self.body:  # the headers at once, then a 40 kB body a byte at a time
            sock.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: hub\r\n"
                         b"Content-Type: application/json\r\nContent-Length: 40000\r\n\r\n")
        else:
            sock.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: hub\r\n")
        try:
            while not self.stop.is_set():
                try:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    self.answer += chunk
                except TimeoutError:
                    sock.send(b"x" if self.body else b"X")
        except OSError:
            pass
        finally:
            self.closed_after_s = time.monotonic() - start
            sock.close()


def test_slow_clients_do_not_take_the_api_down(tmp_path: Path) -> None:
    """Fifteen slow clients from three addresses (the first sixteen would hold every
    thread for ever before): the honest client is served throughout, each slow one is cut
    at its deadline (408) or refused past four per address (429)."""
    (tmp_path / "hub.yaml").write_text(_SLOW_SITE % (tmp_path, "null"))
    hub = Hub(tmp_path)
    try:
        port = hub.app.api.ports["http"]
        slow = [SlowClient(port, source, body=source == "127.0.0.4")
                for source in ("127.0.0.2", "127.0.0.3", "127.0.0.4") for _ in range(5)]
        for client in slow:
            client.start()
        time.sleep(0.5)
        latencies = []
        end = time.monotonic() + 8
        while time.monotonic() < end:
            start = time.monotonic()
            resp = requests.get(f"{hub.url}/health", timeout=5)
            latencies.append(time.monotonic() - start)
            assert resp.status_code == 200
            time.sleep(0.25)
        assert max(latencies) < 2.0, latencies
        for client in slow:
            client.join(15)
            client.stop.set()
        statuses = sorted(int(c.answer.split(b" ", 2)[1]) for c in slow if c.answer)
        assert len(statuses) == 15, [c.answer[:60] for c in slow]
        assert set(statuses) == {408, 429}, statuses
        assert statuses.count(408) == 12  # four per address got a thread, each was cut
        for client in slow:
            body = json.loads(client.answer.split(b"\r\n\r\n", 1)[1])
            assert body["error"]["code"] in ("timeout", "too_many_requests")
            # headers: 3 s; a 40 kB body at 20 kB/s: 5 s + 2 s (and 1 s of polling)
            assert client.closed_after_s is not None and client.closed_after_s < 9.5
    finally:
        hub.stop()


def test_bad_bodies_get_json_errors_and_the_server_goes_on(tmp_path: Path) -> None:
    """A 5,000-deep JSON login body was a 500 (RecursionError); a 13 MiB CSV import the
    server's plain-text 413. Both are JSON errors with their reason now."""
    hub = Hub(tmp_path)
    try:
        deep = "[" * 5000 + "]" * 5000
        resp = requests.post(f"{hub.url}/auth/login", data=deep, timeout=10,
                             headers={"Content-Type": "application/json"})
        assert resp.status_code == 400
        assert "nested deeper than 64" in resp.json()["error"]["message"]
        inner = {"login": json.loads("[" * 100 + "]" * 100), "password": "x"}
        resp = requests.post(f"{hub.url}/auth/login", json=inner, timeout=10)
        assert resp.status_code == 400, resp.text
        csv = b"member_id,name\n" + (b"m" * 100 + b",x\n") * ((13 << 20) // 103)
        resp = requests.post(f"{hub.url}/access/import", data=csv, timeout=30,
                             headers={**hub.auth("admin"), "Content-Type": "text/csv"})
        assert resp.status_code == 413
        assert resp.json()["error"]["code"] == "too_large"
        assert requests.get(f"{hub.url}/health", timeout=5).status_code == 200
    finally:
        hub.stop()
