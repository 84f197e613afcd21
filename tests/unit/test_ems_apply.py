"""The confirmed-limit invariant of the applier, with scripted ports and a fake clock."""

from __future__ import annotations

import asyncio
from typing import Literal

from hub_engine.clock import FakeClock
from hub_engine.ems.apply import Applier, Pace
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


async def confirmed(limit: float, settle_s: float = 10, **kw: object
                    ) -> tuple[FakeClock, list[tuple[str, float]], Applier, Port]:
    """An applier whose connector "a" has ``limit`` accepted and settled."""
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=settle_s, **kw)  # type: ignore[arg-type]
    port = Port("a", log)
    applier.apply(alloc(a=limit), {"a": port}, {})
    await settle()
    clock.advance(settle_s)
    return clock, log, applier, port


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
    clock, log, applier, port = await confirmed(32)
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


async def test_an_increase_without_a_definitive_answer_counts_at_the_sent_limit() -> None:
    """Timed out, link lost, an error: the charge point may have applied it. It counts at
    the higher until a lower limit is confirmed, and the lower one is really sent again
    (not skipped as "already sent")."""
    for outcome in ("timed_out", "lost", "error"):
        clock, log, applier, port = await confirmed(10, validity_s=300)
        port.answer = outcome  # type: ignore[assignment]
        applier.apply(alloc(a=20), {"a": port}, {})
        await settle()
        clock.advance(30)
        assert applier.may_draw("a") == 20, outcome
        port.answer = "accepted"
        assert applier.apply(alloc(a=10), {"a": port}, {}) == 1, outcome
        await settle()
        assert applier.may_draw("a") == 20
        clock.advance(10)
        assert applier.may_draw("a") == 10  # a lower limit confirmed
        assert log == [("a", 10), ("a", 20), ("a", 10)]


async def test_a_refused_increase_leaves_the_old_limit() -> None:
    _, _, applier, port = await confirmed(10)
    port.answer = "rejected"
    applier.apply(alloc(a=20), {"a": port}, {})
    await settle()
    assert applier.may_draw("a") == 10  # a definitive no


async def test_past_its_validity_a_limit_counts_at_least_the_fallback() -> None:
    """Refreshes keep failing: the dynamic profile expires on the charge point, which then
    runs on its fallback. A paused car (0 A) counts at its fallback's 6 A from then on."""
    clock, log = FakeClock(), []
    fallbacks: dict[str, float] = {"a": 6.0}
    applier = Applier(clock, settle_s=1, validity_s=30, fallbacks=fallbacks)
    port = Port("a", log)
    applier.apply(alloc(a=0), {"a": port}, {})
    await settle()
    clock.advance(2)
    port.answer = "rejected"
    for _ in range(27):  # refreshed every 10 s, refused each time
        applier.apply(alloc(a=0), {"a": port}, {})
        await settle()
        clock.advance(1)
    assert applier.may_draw("a") == 0  # 29 s after the last accepted send
    clock.advance(1.5)
    assert applier.may_draw("a") == 6.0
    del fallbacks["a"]
    assert applier.may_draw("a") is None  # no fallback known: its maximum
    port.answer = "accepted"
    applier.apply(alloc(a=0), {"a": port}, {})
    await settle()
    clock.advance(1)
    assert applier.may_draw("a") == 0  # accepted again: a new validity


def paced(urgent: bool = True, **limits: float) -> Allocation:
    return Allocation(tuple(ConnectorSetpoint(cid, a, None, a, "test", urgent=urgent)
                            for cid, a in limits.items()), ())


async def test_increases_and_room_making_decreases_are_paced_safety_decreases_are_not(
        ) -> None:
    """Sessions every second reshuffled every share by a fraction of an amp each cycle:
    several profiles a second per charge point (a profile storm). What is not urgent
    waits its interval; small increases longer; a safety decrease goes out at once."""
    clock, log, applier, port = await confirmed(16, pace=Pace(step_a=1.0, interval_s=3))
    sent = []
    for dt, value, urgent in [(0, 20, False), (1, 19.5, False), (1, 21, False),
                              (1.5, 14, True), (0.5, 13, False), (2.5, 13.5, False),
                              (3.5, 13.5, False), (12, 13.5, False), (0, 30, False)]:
        clock.advance(dt)
        before = len(log)
        applier.apply(paced(urgent, a=value), {"a": port}, {})
        await settle()
        sent.append(log[-1][1] if len(log) > before else None)
    # 20 goes out; 19.5 and 21 wait (within 3 s of it); 14 is urgent: at once; 13 is due
    # (4 s after 20); 13.5 within 3 s of 13 waits, then as a small increase waits five
    # intervals (15 s); 30 right after it waits its interval.
    assert sent == [20, None, None, 14, 13, None, None, 13.5, None], sent
