"""The EMS allocation core: pure functions over an immutable snapshot.

Imports neither ``ocpp`` nor ``pymodbus``: charge points and meters reach it as plain
data, so tests, benchmarks and outside simulators call :func:`allocate` directly.
"""

from hub_engine.ems.allocate import allocate
from hub_engine.ems.cycle import next_snapshot
from hub_engine.ems.model import (
    Allocation,
    Connector,
    ConnectorSetpoint,
    ExternalLimit,
    HardInputs,
    Node,
    NodeReport,
    Params,
    Reading,
    Rotation,
    Session,
    Snapshot,
)

__all__ = [
    "Allocation",
    "Connector",
    "ConnectorSetpoint",
    "ExternalLimit",
    "HardInputs",
    "Node",
    "NodeReport",
    "Params",
    "Reading",
    "Rotation",
    "Session",
    "Snapshot",
    "allocate",
    "next_snapshot",
]
