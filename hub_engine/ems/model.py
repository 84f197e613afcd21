"""Input and output of the allocation: frozen dataclasses, built from plain data.

Phases are indices into the grid's phases: 0 = L1, 1 = L2, 2 = L3. A connector lists the
grid phases its charge point's L1, L2, L3 are wired to (its rotation), so a single-phase
EV on a charge point rotated ``L2L3L1`` draws on grid phase 1. Times are seconds on one
time base (``now_s``). See ``docs/ems.md`` for the schema and a worked example.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any, Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError, build

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
]

Phases3 = tuple[float, float, float]


@dataclass(frozen=True)
class Reading:
    """A meter reading: unsigned currents per phase, signed power per phase (sign source)."""

    current_a: Phases3
    age_s: float
    power_w: Phases3 | None = None

    def signed_a(self) -> Phases3:
        """Currents signed by the per-phase power: export (PV) is negative."""
        cur, pw = self.current_a, self.power_w
        if pw is None:
            return cur
        return (math.copysign(cur[0], pw[0]), math.copysign(cur[1], pw[1]),
                math.copysign(cur[2], pw[2]))


@dataclass(frozen=True)
class Node:
    """A node of the site tree; ``parent`` is None for a grid connection (a site's root)."""

    id: str
    parent: str | None = None
    limit_a: float | None = None
    limit_va: float | None = None
    limit_w: float | None = None
    margin_a: float = 0.0
    voltage_v: float | None = None
    meter: Reading | None = None
    has_meter: bool = False
    fallback_load_a: Phases3 | None = None
    # Non-charging load estimates of recent cycles (returned in Allocation.nodes), newest last.
    non_ev_history_a: tuple[Phases3, ...] = ()
    # The lowest signed meter reading of the last ramp-credit window: the ramp credit of
    # the cars under this node explains at most the meter's rise above it (None: none).
    meter_floor_a: Phases3 | None = None


@dataclass(frozen=True)
class Rotation:
    """Per-session rotation state, carried from one allocation to the next."""

    # A new session waits (off, since ever): never given power yet, it is not paused, so
    # no minimum off-time holds it back; its minimum on-time starts when it gets power.
    on: bool = False
    since_s: float = -1e18  # when ``on`` last changed
    # Time on in this session's finished on-periods; the current one is now − since_s.
    # The state changes only when ``on`` flips or a probe starts, not every cycle.
    on_time_s: float = 0.0
    pauses: int = 0
    no_pause: bool = False  # the EV did not resume after a pause: never pause it again
    probe_started_s: float = -1e18


@dataclass(frozen=True)
class Session:
    state: Literal["charging", "waiting", "suspended_ev"] = "charging"
    started_s: float = 0.0
    energy_wh: float = 0.0
    # Measured current on the charge point's own L1, L2, L3 (before rotation).
    measured_a: Phases3 | None = None
    measured_age_s: float | None = None
    ev_phases: Literal[1, 2, 3] | None = None
    phases_basis: str = ""  # why it counts on these phases (for the record)
    departure_s: float | None = None
    energy_need_wh: float | None = None
    rotation: Rotation = Rotation()
    # Per phase, what the car may have ramped up to since its last measurement: its
    # may-draw limit while an increase (or the session's start) is not yet seen in
    # MeterValues; 0 = nothing unseen. Counted as charging load, not building load.
    ramp_credit_a: float = 0.0


@dataclass(frozen=True)
class Connector:
    id: str
    node: str
    max_current_a: float
    min_current_a: float = 6.0
    phases: tuple[int, ...] = (0, 1, 2)
    control: Literal["A", "W"] = "A"
    dc: bool = False
    max_power_w: float | None = None
    tier: int = 0
    weight: float = 1.0
    # The limit it may still be drawing: its confirmed limit, the higher of old and new
    # while a change is unconfirmed, its hardware maximum if nothing is confirmed.
    may_draw_a: float | None = None
    may_draw_w: float | None = None
    # False while the charge point is silent, ignores its limit, or refused (or left
    # unanswered) its latest limit: its may-draw limit stays reserved for it, the others
    # are not given what a decrease of it would free.
    responsive: bool = True
    session: Session | None = None
    # The phases it is told to charge on (1 or 3), for a charge point that switches
    # them; None: it does not. ``phases`` lists those it is counted on meanwhile: all
    # its charge point's until one phase is confirmed (accepted and measured).
    phases_cmd: Literal[1, 3] | None = None

    def __post_init__(self) -> None:
        if not self.phases or len(set(self.phases)) != len(self.phases) or not all(
            p in (0, 1, 2) for p in self.phases
        ):
            raise FieldError("phases", Text("got {value!r}, expected distinct grid phases 0..2",
                                             value=self.phases))
        if self.max_current_a < 0 or self.weight <= 0:
            raise FieldError("weight", Text("max_current_a must be ≥ 0 and weight > 0"))
        if (self.control == "W" or self.dc) and self.max_power_w is None:
            raise FieldError("max_power_w", Text(
                "a W-controlled or DC connector needs max_power_w"))


@dataclass(frozen=True)
class ExternalLimit:
    """A limit from outside the tree (Node-RED, a grid signal, a tariff schedule).

    ``target`` is a node or connector id. Active from ``starts_s`` to ``expires_s``; once
    expired, ``release`` drops it and ``hold`` keeps ``fallback_a``/``fallback_w`` in force
    (a shedding order must not loosen by itself).
    """

    target: str
    source: str
    limit_a: float | None = None
    limit_w: float | None = None
    starts_s: float = -1e18
    expires_s: float = 1e18
    on_expiry: Literal["release", "hold"] = "release"
    fallback_a: float | None = None
    fallback_w: float | None = None


@dataclass(frozen=True)
class HardInputs:
    """Dry contacts. Fail-safe polarity is the reader's job: a lost input arrives as True."""

    fire_alarm: bool = False


@dataclass(frozen=True)
class Params:
    min_on_s: float = 900.0
    min_off_s: float = 300.0
    max_pauses_per_session: int = 3
    fairness_unit: Literal["A", "W"] = "A"
    meter_timeout_s: float = 10.0
    probe_interval_s: float = 300.0
    probe_hold_s: float = 60.0
    demand_margin_a: float = 2.0
    measurement_timeout_s: float = 120.0


@dataclass(frozen=True)
class Snapshot:
    """Everything the allocation may look at, frozen at one instant."""

    now_s: float
    nodes: tuple[Node, ...]
    connectors: tuple[Connector, ...] = ()
    external_limits: tuple[ExternalLimit, ...] = ()
    inputs: HardInputs = HardInputs()
    params: Params = Params()
    # Charge points are being counted at their maximum after a reboot or reconnection:
    # cars cut meanwhile wait (no minimum off-time), the shortage being the hub's doubt.
    restarting: bool = False

    def __post_init__(self) -> None:
        ids = [n.id for n in self.nodes]
        if len(set(ids)) != len(ids):
            raise FieldError("nodes", Text("node ids must be unique"))
        known = set(ids)
        for i, node in enumerate(self.nodes):
            if node.parent is not None and node.parent not in known:
                raise FieldError(f"nodes[{i}].parent", Text("no node {node!r}", node=node.parent))
        for i, conn in enumerate(self.connectors):
            if conn.node not in known:
                raise FieldError(f"connectors[{i}].node", Text("no node {node!r}", node=conn.node))
        _check_acyclic(self.nodes)

    @classmethod
    def from_dict(cls, data: Any) -> Snapshot:
        """Build from plain data (JSON); errors name the key path."""
        snapshot: Snapshot = build(cls, data)
        return snapshot


def _check_acyclic(nodes: tuple[Node, ...]) -> None:
    parent = {n.id: n.parent for n in nodes}
    for start in parent:
        seen: set[str] = set()
        cur: str | None = start
        while cur is not None:
            if cur in seen:
                raise FieldError("nodes", Text("the tree has a cycle through {node!r}", node=cur))
            seen.add(cur)
            cur = parent[cur]


@dataclass(frozen=True)
class ConnectorSetpoint:
    connector_id: str
    limit_a: float  # per phase, rounded down to 0.1; 0 = paused
    limit_w: float | None  # for W-controlled and DC connectors, rounded down to 0.1
    target_a: float  # where it is heading once decreases elsewhere are confirmed
    reason: str
    session_rotation: Rotation | None = None
    # How far the most loaded node above it is over its capacity (A, every connector
    # counted at what it may draw): its decrease goes out before those of calmer nodes.
    overload_a: float = 0.0
    phases: int | None = None  # numberPhases to send (None: not said)


@dataclass(frozen=True)
class NodeReport:
    node_id: str
    non_ev_a: Phases3  # this cycle's raw estimate (feed it back as history)
    non_ev_used_a: Phases3  # the conservative value used
    capacity_a: Phases3  # per phase, for charging
    counted_a: Phases3  # charging load counted at max(may draw, new setpoint)
    meter_status: Literal["fresh", "stale", "none"]
    # The limits in force on the node (its rating lowered by external limits), None: none.
    limit_a: float | None = None
    limit_w: float | None = None


@dataclass(frozen=True)
class Allocation:
    setpoints: tuple[ConnectorSetpoint, ...]
    nodes: tuple[NodeReport, ...]
    warnings: tuple[str, ...] = ()
    by_id: dict[str, ConnectorSetpoint] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id.update({s.connector_id: s for s in self.setpoints})

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data.pop("by_id")
        return data
