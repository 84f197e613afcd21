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


async def test_increases_are_paced_decreases_never() -> None:
    """Sessions every second reshuffled every share by a fraction of an amp each cycle:
    several profiles a second per charge point (a profile storm). An increase waits its
    interval, a small one longer; a decrease always goes out at once."""
    clock, log, applier, port = await confirmed(16, pace=Pace(step_a=1.0, interval_s=3))
    sent = []
    for dt, value in [(0, 20), (1, 19.5), (1, 21), (1.5, 14), (0.5, 15.5), (2.5, 16),
                      (3.5, 16), (10, 16), (0, 30)]:
        clock.advance(dt)
        before = len(log)
        applier.apply(alloc(a=value), {"a": port}, {})
        await settle()
        sent.append(log[-1][1] if len(log) > before else None)
    # 20 goes out; 19.5 (a decrease) at once; 21 within 3 s of 20 waits; 14 at once;
    # 15.5 is due (4 s after 20); 16 within 3 s of it waits, then as a small increase
    # (0.5 A, at its target) waits five intervals (15 s); 30 right after it waits.
    assert sent == [20, 19.5, None, 14, 15.5, None, None, 16, None], sent


async def test_decreases_under_the_most_overloaded_node_go_first() -> None:
    """One send at a time (max_parallel 1): the decreases are started worst node first,
    then the others, then the increases (by id before: z waited behind a and b)."""
    clock, log = FakeClock(), []
    applier = Applier(clock, settle_s=10, max_parallel=1)
    ports = {cid: Port(cid, log) for cid in ("a", "b", "z", "up")}
    applier.apply(alloc(a=20, b=20, z=20, up=6), ports, {})
    await settle()
    clock.advance(10)
    log.clear()
    setpoints = (ConnectorSetpoint("a", 10, None, 10, "test"),
                 ConnectorSetpoint("up", 16, None, 16, "test"),
                 ConnectorSetpoint("b", 10, None, 10, "test", overload_a=3.0),
                 ConnectorSetpoint("z", 10, None, 10, "test", overload_a=12.5))
    applier.apply(Allocation(setpoints, ()), ports, {})
    await settle()
    assert [cid for cid, _ in log] == ["z", "b", "a", "up"]


async def test_a_decrease_follows_a_send_still_waiting_for_the_channel() -> None:
    """A refresh waits behind a slow call on the charge point's channel; the decrease
    the next cycle wants goes right behind it instead of waiting for it to end (and a
    cycle more). Nothing else piles up: one more, and only lower."""
    clock, log, applier, port = await confirmed(32)
    clock.advance(applier.refresh_s)  # due for a refresh
    port.gate.clear()
    applier.apply(alloc(a=32), {"a": port}, {})
    await settle()
    applier.apply(alloc(a=33), {"a": port}, {})  # not an increase behind it
    applier.apply(alloc(a=20), {"a": port}, {})
    applier.apply(alloc(a=18), {"a": port}, {})  # not a third
    await settle()
    assert log == [("a", 32), ("a", 32), ("a", 20)]
    assert applier.may_draw("a") == 32
    port.gate.set()
    await settle()
    clock.advance(10)
    assert applier.may_draw("a") == 20
    applier.apply(alloc(a=18), {"a": port}, {})
    await settle()
    assert log[-1] == ("a", 18)


async def test_an_increase_answered_just_before_a_decrease_counts_until_that_settles() -> None:
    """A raise to 16 A accepted, a decrease to 8 A accepted 2 s later: the charge point
    applied 16 A in between. Counted at 8 A as soon as the second answer came, the raise
    was forgotten (an ideal charge point was read back at 10.3 A "above" its 7.6 A in
    the field run over OCPP). It counts at 16 A until the decrease has settled."""
    clock, log, applier, port = await confirmed(8)
    applier.apply(alloc(a=16), {"a": port}, {})
    await settle()
    clock.advance(2)
    applier.apply(alloc(a=8), {"a": port}, {})
    await settle()
    assert log[-2:] == [("a", 16), ("a", 8)]
    assert applier.may_draw("a") == 16
    clock.advance(9)
    assert applier.may_draw("a") == 16
    clock.advance(1)
    assert applier.may_draw("a") == 8


async def test_a_reading_settles_an_increase_left_without_answer() -> None:
    """Current.Offered read back settle_s after an unanswered increase tells which limit
    is in force: the old one (counted at it again) or the new one; a reading taken
    earlier, or while another send is on its way, tells nothing."""
    for offered, expected in ((10.0, 10.0), (20.0, 20.0), (4.0, 10.0)):
        clock, _, applier, port = await confirmed(10, validity_s=300)
        port.answer = "timed_out"
        applier.apply(alloc(a=20), {"a": port}, {})
        await settle()
        outcome_at = clock.monotonic()
        applier.read_back_unsure("a", offered, outcome_at + 5)  # too early: the lag
        assert applier.may_draw("a") == 20
        clock.advance(30)
        applier.read_back_unsure("a", offered, outcome_at + 10)
        # Below what was in force for sure before (10 A), it still counts at that.
        assert applier.may_draw("a") == expected, offered
        assert not applier.following("a")  # and its limit is sent again


async def test_a_connector_read_back_above_its_limit_counts_at_the_reading() -> None:
    _, _, applier, _ = await confirmed(10)
    applier.set_floor("a", 18.0)
    assert applier.may_draw("a") == 18 and applier.may_draw("a", read_back=False) == 10
    assert not applier.following("a")  # reserved: not counted on to follow a decrease
    applier.set_floor("a", None)
    assert applier.may_draw("a") == 10 and applier.following("a")


async def test_a_commissioning_test_counts_until_it_is_over_whatever_settles_under_it() -> None:
    """Found in the demo by the read-back: a limit of 0 A accepted just before the test
    (6 A at stack 2, a minute) settled ten seconds later and the connector counted at 0 A
    while the test profile let the car that came draw 6 A."""
    clock, _, applier, port = await confirmed(8)
    applier.apply(alloc(a=0), {"a": port}, {})  # accepted, settling
    await settle()
    applier.hold_for_test("a", 6.0)
    assert applier.may_draw("a") == 8.0
    clock.advance(11)  # the 0 A settles under the test
    assert applier.may_draw("a") == 6.0
    assert applier.steady("a") is None
    applier.release_test("a")
    assert applier.may_draw("a") == 0.0
    applier.hold_for_test("a", None)  # a test in the fallback's own slot: its maximum
    assert applier.may_draw("a") is None
    applier.release_test("a")
    assert applier.may_draw("a") == 0.0
