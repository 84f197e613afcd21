"""Departure plans: when a car leaves and how much energy it needs by then.

A plan belongs to one transaction (a connector's next session starts without one). It
comes from the API, the bus (a Node-RED flow) or a member's defaults at the session's
start, and reaches the allocation as the session's ``departure_s`` and
``energy_need_wh``: the car is first given the current it needs to get its energy by its
departure, then the rest is shared fairly (DESIGN "The EMS", 4; docs/ems.md "Departure
plans"). Kept here in memory; the transactions table holds them across restarts.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from hub_engine.clock import Clock

__all__ = ["MAX_AHEAD", "MAX_NEED_WH", "Plan", "PlanBook", "need_a"]

MAX_AHEAD = timedelta(days=7)  # a departure further ahead is a typing error
MAX_NEED_WH = 500_000.0  # 500 kWh: beyond any car's battery


@dataclass(frozen=True)
class Plan:
    departure: datetime  # timezone-aware UTC
    energy_wh: float  # needed in the whole session (what it already took counts)
    source: str  # "api", "bus", "member"


class PlanBook:
    """The plans of the sessions under way, by connector and transaction."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._plans: dict[str, tuple[int, Plan]] = {}

    def set(self, connector_id: str, transaction_id: int, plan: Plan) -> None:
        self._plans[connector_id] = (transaction_id, plan)

    def clear(self, connector_id: str) -> None:
        self._plans.pop(connector_id, None)

    def get(self, connector_id: str, transaction_id: int | None) -> Plan | None:
        """The plan of this transaction; one left by an earlier session is dropped."""
        held = self._plans.get(connector_id)
        if held is None or transaction_id is None:
            return None
        if held[0] != transaction_id:
            del self._plans[connector_id]
            return None
        return held[1]

    def departure_s(self, plan: Plan) -> float:
        """The departure on the clock's monotonic scale (the snapshot's ``now_s``)."""
        return self.clock.monotonic() + (plan.departure - self.clock.now()).total_seconds()


def need_a(remaining_wh: float, left_s: float, watts_per_a: float) -> float:
    """The current (per phase it draws on) that delivers ``remaining_wh`` in ``left_s``.

    0 once the departure has passed: a missed plan gives no more priority (the car may
    stay for hours; it shares fairly like any other).
    """
    if remaining_wh <= 0 or left_s <= 0 or watts_per_a <= 0:
        return 0.0
    return remaining_wh * 3600.0 / (left_s * watts_per_a)
