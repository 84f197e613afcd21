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
