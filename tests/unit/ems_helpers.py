"""Compact builders for EMS snapshots, and an independent oracle of what a setpoint weighs."""

from __future__ import annotations

from typing import Any

from hub_engine.ems import Allocation, Connector, Snapshot
from hub_engine.ems.check import weights_on_phases


def car(cid: str, node: str = "g", max_a: float = 32, **kw: Any) -> dict[str, Any]:
    """A connector with a charging session (kw: connector fields; session=dict to override)."""
    session = kw.pop("session", {})
    data = {"id": cid, "node": node, "max_current_a": max_a, "session": session}
    if session is None:
        data.pop("session")
    data.update(kw)
    return data


def snap(nodes: list[dict[str, Any]], conns: list[dict[str, Any]], now_s: float = 10_000,
         **kw: Any) -> Snapshot:
    return Snapshot.from_dict({"now_s": now_s, "nodes": nodes, "connectors": conns, **kw})


def limits(alloc: Allocation) -> dict[str, float]:
    return {s.connector_id: s.limit_a for s in alloc.setpoints}


def weight_on_phases(conn: Connector, x_a: float, volt: float) -> dict[int, float]:
    """Worst-case current per grid phase the connector uses, set to ``x_a`` amps per
    phase (the independent checker's rule, written from DESIGN.md)."""
    used = weights_on_phases(conn, 1.0)
    return {p: w for p, w in enumerate(weights_on_phases(conn, x_a)) if used[p] > 0}


def one_site(solar: str = "", clock: object = None):  # type: ignore[no-untyped-def]
    """A solar control over one site (grid g, meter m, CP1); ``solar``: its solar line."""
    from hub_engine.clock import FakeClock
    from hub_engine.config import parse_config
    from hub_engine.ems.solar_control import SolarControl

    config = parse_config(f"""
sites:
  - id: s
    {solar}
    grid: {{id: g, limit_a: 63, meter: m, charge_points: [{{id: CP1}}]}}
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
""")
    return SolarControl(config, timeout_s=10, clock=clock or FakeClock())
