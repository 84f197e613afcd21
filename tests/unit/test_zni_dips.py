"""The EDF-SEI runs pushed into the fallback profiles: which windows (dips_ahead) and the
profile's periods (dip_steps, fallback)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from hub_engine.ems.interfaces import Dip
from hub_engine.ocpp.profiles import dip_steps, fallback
from hub_engine.signals.service import dips_ahead
from hub_engine.signals.zni import SLOT

T0 = datetime(2026, 12, 4, 12, tzinfo=UTC)


def _slots(pattern: str) -> dict[datetime, int]:
    """One character per slot from T0: 1 favourable, 0 unfavourable, . unknown."""
    return {T0 + k * SLOT: int(c) for k, c in enumerate(pattern) if c != "."}


def _at(k: int) -> datetime:
    return T0 + k * SLOT


@pytest.mark.parametrize(("pattern", "now_k", "unknown_low", "expect"), [
    ("1110011", 0, False, [(3, 5)]),
    ("1110011", 0, True, [(3, 5), (7, None)]),
    # Over already: left out; under way: from its real start (sent once, not each slot).
    ("0011001", 3, False, [(4, 6)]),
    ("0011001", 5, False, [(4, 6)]),
    # A gap is unknown: unfavourable when the unknown case is.
    ("11.11", 0, True, [(2, 3), (5, None)]),
    ("11.11", 0, False, []),
    ("1100", 0, False, [(2, 4)]),
])
def test_the_unfavourable_runs_ahead(pattern: str, now_k: int, unknown_low: bool,
                                     expect: list[tuple[int, int | None]]) -> None:
    got = dips_ahead(_slots(pattern), _at(now_k), unknown_low, 0.5)
    assert [(d.start, d.end) for d in got] == [
        (_at(a), None if b is None else _at(b)) for a, b in expect]


def test_nothing_known_is_the_unknown_case_for_good() -> None:
    assert [d.end for d in dips_ahead({}, T0, True, 0.5)] == [None]
    assert dips_ahead({}, T0, False, 0.5) == ()


def test_the_fallback_s_periods() -> None:
    dips = (Dip(_at(2), _at(4), 0.5), Dip(_at(4), _at(5), 0.5), Dip(_at(8), None, 0.5))
    steps = dip_steps(20.0, 16.0, dips, T0, 24)
    # Touching runs are one; past the last known slot, the dip for good.
    assert steps == ((_at(2), 16.0), (_at(5), 20.0), (_at(8), 16.0))
    profile = fallback(1, 20.0, "A", steps)
    periods = profile["chargingSchedule"]["chargingSchedulePeriod"]
    ever = datetime.fromisoformat(profile["chargingSchedule"]["startSchedule"])
    assert [(ever + timedelta(seconds=p["startPeriod"]), p["limit"]) for p in periods] == [
        (ever, 20.0), *steps]
    # A fallback already below the cap: nothing to lower.
    assert dip_steps(10.0, 16.0, dips, T0, 24) == ()
    # A dip under way starts now; one over is left out.
    assert dip_steps(20.0, 16.0, (Dip(_at(-3), _at(-1), 0.5), Dip(_at(-1), _at(2), 0.5)),
                     T0, 24) == ((T0, 16.0), (_at(2), 20.0))


def test_a_charge_point_with_few_periods_stays_low_past_what_it_holds() -> None:
    dips = tuple(Dip(_at(3 * k), _at(3 * k + 1), 0.5) for k in range(1, 6))
    steps = dip_steps(32.0, 16.0, dips, T0, 4)
    assert len(steps) + 1 == 4 and steps[-1][1] == 16.0  # low from there on: the safe side


@pytest.mark.parametrize("field", ["unfavourable_share", "unfavourable_site_share"])
def test_a_share_out_of_range_is_named(field: str) -> None:
    from hub_engine.config import parse_config
    from hub_engine.errors import ConfigError

    body = f"""
signals: {{zni: {{api_key: k, {field}: 1.5}}}}
sites: [{{id: s, grid: {{id: g, limit_a: 63, charge_points: [{{id: CP1}}]}}}}]
"""
    with pytest.raises(ConfigError) as err:
        parse_config(body)
    assert err.value.path == f"signals.zni.{field}"
