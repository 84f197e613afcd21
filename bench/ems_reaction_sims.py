"""The load generator of ``bench.ems_reaction``: N simulated charge points with two
connectors each and a car on every connector, in their own process (and core).

Run by the benchmark: ``python -m bench.ems_reaction_sims URL COUNT``. Prints ``ready``
once every charge point is accepted and every car plugged, then runs until killed.
"""

from __future__ import annotations

import asyncio
import os
import sys
import time

from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.runner import SimRunner


async def main(url: str, count: int) -> None:
    runners = [SimRunner(SimConfig(f"P{i:04d}", connectors=2, apply_delay_s=0.0,
                                   meter_interval_s=60.0), url, tick_s=None, open_timeout=120)
               for i in range(count)]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    await asyncio.wait_for(asyncio.gather(*(r.connected.wait() for r in runners)), 900)
    for r in runners:
        assert r.cp is not None
        for n in (1, 2):
            await r.cp.plug(n, EV(ramp_s=1.0))
    print("ready", flush=True)
    last = time.monotonic()
    while True:
        await asyncio.sleep(1.0)
        now = time.monotonic()
        for r in runners:
            if r.cp is not None:
                r.cp.tick(now - last, now)
        last = now
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the hub runs on core 0
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
