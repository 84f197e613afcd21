"""A C4 site's subscribed power held as a mean over windows, closed loop: real
websockets, simulated charge points and cars, the grid meter read by the EMS. Windows of
20 s here (600 s at Enedis), so that a test sees several."""

from __future__ import annotations

import asyncio
import math
import time
from collections import defaultdict
from pathlib import Path

from hub_engine.sim.ev import EV
from tests.integration.ems_harness import running_site, site_config

POWER_VA = 13_800.0  # 60 A over the three phases at 230 V
BODY = f"""
sites:
  - id: s
    subscription: {{average_s: 20, periods: [{{name: all, power_va: {POWER_VA}}}]}}
    grid:
      id: grid
      limit_a: 40
      margin_a: 1
      meter: m
      meter_fallback_load_a: 10
      charge_points: [{{id: CP1}}, {{id: CP2}}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
"""


async def test_each_window_s_mean_stays_under_the_subscription(tmp_path: Path) -> None:
    async with running_site(site_config(tmp_path, BODY)) as site:
        site.sim.extra_load_a = (5.0, 5.0, 5.0)
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0, phases=3))
        by_window: dict[int, list[float]] = defaultdict(list)
        end = time.time() + 70
        while time.time() < end:
            va = sum(max(0.0, a) for a in site.sim.last_import_a) * 230
            by_window[math.floor(time.time() / 20)].append(va)
            await asyncio.sleep(0.1)
        windows = sorted(by_window)[1:-1]  # whole windows only
        assert len(windows) >= 2
        means = [sum(by_window[w]) / len(by_window[w]) for w in windows]
        assert all(m <= POWER_VA * 1.03 for m in means), means
        # Not a plain cap: the import went above the power where the window allowed it.
        assert max(max(by_window[w]) for w in windows) > POWER_VA * 1.02
        # And the cars did charge: near the budget, not far under it.
        assert min(means) >= POWER_VA * 0.8, means
        record = site.loop.record["subscription"]["s"]
        assert record["period"] == "all" and record["power_va"] == POWER_VA
        assert not site.sim.report.trips
