"""Profile storm (issue "Trust boundaries", 11): sessions coming and going every tenth of
a second on a tight site, closed loop over real websockets with breakers."""

from __future__ import annotations

import asyncio
import itertools
import random
import time
from pathlib import Path
from typing import Any

from hub_engine.sim.ev import EV
from tests.integration.ems_harness import REACTION_S, running_site, site_config

_N = 20
_CPS = ", ".join(f"{{id: CP{i}}}" for i in range(_N))
_BODY = f"""
sites:
  - id: s
    grid:
      id: grid
      limit_a: 130
      margin_a: 2
      meter: m
      meter_fallback_load_a: 10
      charge_points: [{_CPS}]
meters: [{{id: m, driver: static, options: {{current_a: [0, 0, 0]}}}}]
"""


async def test_sessions_every_tenth_of_a_second_cause_no_profile_storm(tmp_path: Path
                                                                       ) -> None:
    """Each arrival or departure moved every share by a fraction of an amp, and each
    connector got a profile every cycle, up and down (about 9 a second per charge point
    at 100 charge points). Now a connector is raised at most once per interval (3 cycles:
    1.5 s here); decreases for safety still go out at once: the breaker never sees more
    than its limit beyond the reaction window."""
    async with running_site(site_config(tmp_path, _BODY)) as site:
        sends: list[tuple[float, str, float]] = []
        applier = site.loop.applier
        send = applier._send

        # Timed when sent, not when answered: an answer's delay on a busy machine is not
        # the pacing's (it once made two raises 1.5 s apart look 1.28 s apart).
        async def timed(cid: str, port: Any, value: float, unit: Any, *more: Any) -> None:
            sends.append((time.monotonic(), cid, value))
            await send(cid, port, value, unit, *more)
        applier._send = timed  # type: ignore[method-assign]
        rng, plugged = random.Random(7), set[str]()
        t0 = time.monotonic()
        while time.monotonic() - t0 < 15:
            cp_id = f"CP{rng.randrange(_N)}"
            if cp_id in plugged:
                await site.cp(cp_id).unplug(1)
                plugged.discard(cp_id)
            else:
                await site.cp(cp_id).plug(1, EV(max_current_a=32, ramp_s=1.0, phases=3))
                plugged.add(cp_id)
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - t0
        last: dict[str, float] = {}
        raised: dict[str, list[float]] = {}
        for at, cid, value in sends:
            if cid in last and value > last[cid]:
                raised.setdefault(cid, []).append(at)
            last[cid] = value
        gaps = [b - a for times in raised.values() for a, b in itertools.pairwise(times)]
        assert gaps and min(gaps) >= 1.5 - 0.05, sorted(gaps)[:10]
        most = max(len(times) for times in raised.values())
        assert most <= elapsed / 1.5 + 1, most
        assert site.trace.max_import_after(t0 + REACTION_S) <= 130.0 + 0.01
        assert not site.sim.report.trips, site.sim.report.trips
