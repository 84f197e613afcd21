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


# Closed loops in real time (simulated charge points, breakers, meters): mostly waiting,
# little CPU. `make test` runs them four at a time (pytest-xdist), then the rest one by
# one (the browser, schemathesis, the load and crash tests keep the machine to
# themselves, and the timing-sensitive storm test stays out of the crowd).
SLEEPY = frozenset({
    "test_ems_failsafes", "test_ems_field_truth", "test_ems_limits", "test_ems_loop",
    "test_ems_solar", "test_ems_commissioning", "test_devices_io", "test_signals",
    "test_tempo", "test_pv_forecast", "test_ems_subscription", "test_ems_phases",
    "test_cpo_relay",
})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        module = getattr(item, "module", None)
        if module is not None and module.__name__.rsplit(".", 1)[-1] in SLEEPY:
            item.add_marker(pytest.mark.sleepy)


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
