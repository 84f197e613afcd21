"""Shared fixtures."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

MINIMAL_SITE = """
sites:
  - id: s1
    grid:
      id: grid
      limit_a: 63
      charge_points:
        - {id: CP1}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def minimal_config_file(tmp_path: Path) -> Path:
    path = tmp_path / "hub.yaml"
    path.write_text(
        f"hub: {{data_dir: data}}\n"
        f"ocpp: {{host: 127.0.0.1, ws_port: {free_port()}, wss_port: {free_port()}}}\n"
        f"http: {{port: {free_port()}}}\n" + MINIMAL_SITE
    )
    return path
