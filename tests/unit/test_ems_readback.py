"""Judging a read-back of the limit in force (Current.Offered) against what the connector
may have drawn when the reading was taken (hub_engine.ems.readback)."""

from __future__ import annotations

import pytest

from hub_engine.ems.readback import ReadBack

# The connector's may-draw as it changed: 32 A, a decrease to 12.6 A settled at t=20,
# an increase to 16 A sent at t=40 (counted at once).
HISTORY = ((0.0, 32.0), (20.0, 12.6), (40.0, 16.0))


@pytest.mark.parametrize(("now", "age", "offered", "verdict"), [
    (30.0, 2.0, 12.6, False),  # as allowed
    (30.0, 2.0, 13.5, False),  # within the 1 A tolerance (rounding to whole amps)
    (30.0, 2.0, 18.0, True),  # offers more than it may: the limit is not applied
    (21.0, 0.5, 32.0, False),  # taken as the decrease settled: 32 A was still allowed
    (23.0, 1.0, 32.0, True),  # 2 s after it settled (the reading's lag): not applied
    (45.0, 1.0, 16.0, False),  # the increase
    (30.0, None, 18.0, None),  # no reading
    (30.0, 40.0, 18.0, None),  # a reading older than what is known of its limits
])
def test_judge(now: float, age: float | None, offered: float, verdict: bool | None) -> None:
    rb = ReadBack()
    for t, may in HISTORY:
        if t <= now:
            rb.note("a", t, may)
    rb.note("a", now, rb._seen["a"][-1][1])
    assert rb.judge("a", now, "A", offered, age) is verdict


def test_counted_at_its_maximum_there_is_nothing_to_read_back() -> None:
    rb = ReadBack()
    rb.note("a", 0.0, None)
    rb.note("a", 10.0, None)
    assert rb.judge("a", 10.0, "A", 32.0, 1.0) is False


def test_watts_have_their_own_tolerance() -> None:
    rb = ReadBack()
    rb.note("a", 0.0, 7000.0)
    assert rb.judge("a", 10.0, "W", 7400.0, 1.0) is False
    assert rb.judge("a", 10.0, "W", 7600.0, 1.0) is True


def test_a_transaction_offered_nothing_while_its_limit_allows_charging_is_reported() -> None:
    """Firmware that froze the idle connector's 0 A at the transaction's start never lets
    its car charge: after twice the settle time of readings at 0 A with a steady 16 A
    limit, it is alerted (the OCPP layer then moves its model to TxProfiles)."""
    from hub_engine.clock import FakeClock
    from hub_engine.config import ChargePointConfig, EmsConfig
    from hub_engine.ems.apply import Applier, LimitState
    from hub_engine.ems.interfaces import ConnectorState
    from hub_engine.ems.observe import Observer
    from hub_engine.ems.plans import PlanBook

    clock = FakeClock()
    applier = Applier(clock, settle_s=10)
    alerts: list[tuple[str, str]] = []
    observer = Observer(EmsConfig(), applier, clock, lambda k, t, d: alerts.append((k, t)),
                        PlanBook(clock))
    cp = ChargePointConfig(id="CP1")

    def cycle(offered: float, tx: int | None = 7) -> None:
        observer.connector("CP1/1", "g", cp, 230.0, ConnectorState(
            True, "SuspendedEVSE", tx, (0.0, 0.0, 0.0), 1.0, epoch="0",
            offered_a=offered, offered_age_s=1.0))
        clock.advance(5)

    cycle(0.0)
    applier.states["CP1/1"] = LimitState(confirmed=16.0)
    for _ in range(4):  # 15 s of zeros: not yet twice the settle time
        cycle(0.0)
    assert alerts == []
    cycle(0.0)
    assert alerts == [("limit_not_applied", "CP1/1")]
    cycle(0.0)
    assert len(alerts) == 1  # said once
    for offered, tx in ((16.0, 7), (0.0, None)):  # applied; or no transaction: nothing
        applier.states["CP1/1"] = LimitState(confirmed=16.0)
        for _ in range(6):
            cycle(offered, tx)
    assert len(alerts) == 1
