"""A C4 site's subscribed power held as a 10-minute mean (hub_engine.ems.subscription)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.config.subscription import SubscriptionConfig, SubscriptionPeriod
from hub_engine.ems.model import Node, Reading
from hub_engine.ems.subscription import SubscriptionControl, allowed_va, period_at
from hub_engine.errors import ConfigError

CFG = SubscriptionConfig((SubscriptionPeriod("all", 144_000.0),), margin_share=0.0)


@pytest.mark.parametrize(("elapsed_s", "used_vas", "expect"), [
    (0, 0.0, 144_000.0),  # a fresh window: its mean
    (300, 300 * 200_000.0, 88_000.0),  # 5 min at 200 kVA: the rest at 88 kVA
    (500, 500 * 50_000.0, 216_000.0),  # under-used: up to the burst (1.5 ×)
    (300, 300 * 100_000.0, 188_000.0),  # 5 min at 100 kVA: 188 kVA may follow
    (300, 600 * 144_000.0, 0.0),  # the budget spent: nothing more
    (599.5, 0.0, 144_000.0),  # the last second: the power itself
])
def test_what_the_rest_of_the_window_may_take(elapsed_s: float, used_vas: float,
                                              expect: float) -> None:
    assert allowed_va(CFG, 144_000.0, elapsed_s, used_vas) == pytest.approx(expect)


PERIODS = (SubscriptionPeriod("HPH", 144_000.0, "Mon-Sat 07:00-23:00", (11, 12, 1, 2, 3)),
           SubscriptionPeriod("HCH", 144_000.0, "", (11, 12, 1, 2, 3)),
           SubscriptionPeriod("HPB", 120_000.0, "Mon-Sat 07:00-23:00"),
           SubscriptionPeriod("HCB", 100_000.0))


@pytest.mark.parametrize(("local", "name"), [
    ("2026-12-07T10:00", "HPH"), ("2026-12-07T23:30", "HCH"), ("2026-12-06T10:00", "HCH"),
    ("2026-06-08T10:00", "HPB"), ("2026-06-07T10:00", "HCB")])
def test_the_turpe_period_in_force(local: str, name: str) -> None:
    from hub_engine.access.csvio import windows_of

    cfg = SubscriptionConfig(PERIODS)
    windows = tuple(windows_of(p.windows) for p in PERIODS)
    tz = ZoneInfo("Europe/Paris")
    now = datetime.fromisoformat(local).replace(tzinfo=tz)
    assert period_at(cfg, now, tz, windows).name == name


@pytest.mark.parametrize(("body", "path"), [
    ("{periods: []}", "periods"),
    ("{periods: [{name: HP, power_va: 100000, windows: 'Mon 07:00-08:00'}]}", "periods"),
    ("{periods: [{name: all, power_va: 0}]}", "power_va"),
    ("{periods: [{name: a, power_va: 1, months: [13]}, {name: b, power_va: 1}]}", "months"),
    ("{periods: [{name: all, power_va: 1}], burst_share: 5}", "burst_share"),
])
def test_a_bad_subscription_is_named_with_its_path(body: str, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_site(body))
    assert "sites[0].subscription" in err.value.path and path in err.value.path


def _site(subscription: str) -> str:
    return f"""
sites:
  - id: s
    subscription: {subscription}
    grid: {{id: g, limit_a: 400, meter: m, charge_points: [{{id: CP1}}]}}
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
"""


def test_a_burst_early_in_the_window_is_paid_back_before_its_end() -> None:
    """100 kVA subscribed, 10-minute windows: 150 kVA for 2 minutes, then the limit the
    control gives holds the mean at the power; a silent meter falls back to the power."""
    config = parse_config(_site("{periods: [{name: all, power_va: 100000}], margin_share: 0}"))
    start = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a window's start
    clock = FakeClock(start)
    control = SubscriptionControl(config, clock, timeout_s=10)

    def node(va: float, age_s: float = 0.0) -> tuple[Node]:
        amps = va / 230 / 3
        return (Node("g", meter=Reading((amps,) * 3, age_s)),)

    control.limits(node(0.0))
    control.open["s"].used_vas = 0.0  # seen from the window's very start
    load = 150_000.0
    total = 0.0
    for _ in range(1, 600):
        clock.advance(1)
        allowed = control.limits(node(load))[0].limit_w or 0.0
        total += load
        load = min(150_000.0, allowed)  # the site follows the limit a second later
    assert total / 600 <= 100_000.0 * 1.005
    assert control.state["s"]["period"] == "all"
    clock.advance(1)  # a new window
    assert control.limits(node(0.0, age_s=30))[0].limit_w == 100_000.0  # meter silent


def test_a_subscription_without_a_grid_meter_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(_site("{periods: [{name: all, power_va: 1}]}").replace(", meter: m", ""))
    assert "subscription" in err.value.path and "meter" in str(err.value)
