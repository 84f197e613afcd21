"""The confirmed-limit invariant of the applier, with scripted ports and a fake clock."""

from __future__ import annotations

import asyncio
from typing import Literal

from hub_engine.clock import FakeClock
from hub_engine.ems.apply import Applier
from hub_engine.ems.interfaces import ConnectorState, LimitOutcome
from hub_engine.ems.model import Allocation, ConnectorSetpoint


class Port:
    """A connector whose answers the test controls (gate: answer only when released)."""

    def __init__(self, name: str, log: list[tuple[str, float]], answer: LimitOutcome = "accepted"):
        self.name, self.log, self.answer = name, log, answer
        self.gate = asyncio.Event()
        self.gate.set()

    def state(self) -> ConnectorState:
        return ConnectorState(True, "Charging", 1, None, None)

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float
                        ) -> LimitOutcome:
        self.log.append((self.name, limit))
        await self.gate.wait()
        return self.answer


def alloc(**limits: float) -> Allocation:
    return Allocation(tuple(ConnectorSetpoint(cid, a, None, a, "test") for cid, a in
                            limits.items()), ())


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_decrease_counts_at_the_old_limit_until_confirmed() -> None:
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=10, validity_s=300)
    port = Port("a", log)
    applier.apply(alloc(a=32), {"a": port}, {})
    await settle()
    clock.advance(10)
    assert applier.may_draw("a") == 32  # confirmed after Accepted + settle
    port.gate.clear()
    applier.apply(alloc(a=10), {"a": port}, {})
    await settle()
    assert applier.may_draw("a") == 32  # in flight: the higher of old and new
    port.gate.set()
    await settle()
    assert applier.may_draw("a") == 32  # accepted, still settling
    clock.advance(9.9)
    assert applier.may_draw("a") == 32
    clock.advance(0.2)
    assert applier.may_draw("a") == 10


async def test_increase_counts_at_the_new_limit_at_once() -> None:
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=10)
    port = Port("a", log)
    applier.apply(alloc(a=10), {"a": port}, {})
    await settle()
    clock.advance(10)
    port.gate.clear()
    applier.apply(alloc(a=20), {"a": port}, {})
    await settle()
    assert applier.may_draw("a") == 20  # the charge point may apply it any moment
    port.gate.set()
    await settle()


async def test_refused_limit_changes_nothing_and_is_sent_again() -> None:
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=10)
    port = Port("a", log)
    applier.apply(alloc(a=32), {"a": port}, {})
    await settle()
    clock.advance(10)
    port.answer = "timed_out"
    applier.apply(alloc(a=8), {"a": port}, {})
    await settle()
    clock.advance(60)
    assert applier.may_draw("a") == 32
    applier.apply(alloc(a=8), {"a": port}, {})  # retried on the next cycle
    await settle()
    assert log == [("a", 32), ("a", 8), ("a", 8)]


async def test_unknown_until_first_confirmation() -> None:
    applier = Applier(FakeClock())
    assert applier.may_draw("never-seen") is None  # counted at its hardware maximum


async def test_decreases_go_out_first_and_one_send_per_connector() -> None:
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=1)
    ports = {n: Port(n, log) for n in ("up", "down")}
    applier.apply(alloc(up=6, down=32), ports, {})
    await settle()
    clock.advance(2)
    log.clear()
    for p in ports.values():
        p.gate.clear()
    started = applier.apply(alloc(up=16, down=6), ports, {})
    await settle()
    assert started == 2 and log == [("down", 6), ("up", 16)]
    assert applier.apply(alloc(up=20, down=6), ports, {}) == 0  # both still in flight
    for p in ports.values():
        p.gate.set()
    await settle()


async def test_limits_are_refreshed_before_their_validity_ends() -> None:
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=1, validity_s=300)
    port = Port("a", log)
    applier.apply(alloc(a=16), {"a": port}, {})
    await settle()
    clock.advance(99)
    assert applier.apply(alloc(a=16), {"a": port}, {}) == 0
    clock.advance(2)  # past validity / 3
    assert applier.apply(alloc(a=16), {"a": port}, {}) == 1
    await settle()
    assert log == [("a", 16), ("a", 16)]
