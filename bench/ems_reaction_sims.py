"""The load generator of ``bench.ems_reaction``: N simulated charge points with two
connectors each and a car on every connector, in their own process (and core).

Run by the benchmark: ``python -m bench.ems_reaction_sims URL COUNT``. Prints ``ready``
once every charge point is accepted and every car plugged, then every second a JSON line
``{"t": …, "import_a": …, "accepted": …}`` (the cars' total current on the worst phase:
the site's import, the site having no other load). A line ``blackout`` on stdin reboots
every charge point at once, as power coming back after a cut does (profiles lost).
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

import ocpp.charge_point

from hub_engine.clock import SystemClock
from hub_engine.ops import HeapKeeper
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from hub_engine.sim.runner import SimRunner


async def _no_check(*_: object) -> None:
    return None


# The generator checks nothing against the OCPP schemas (the hub's own checks are
# untouched): 600 charge points on one core, each doing the library's full validation of
# 1,200 SetChargingProfile, made the generator the slowest part of a step (its CPU went
# to twice the hub's), so the figure measured the generator, not the hub.
ocpp.charge_point.validate_payload = _no_check  # type: ignore[assignment]


async def _blackout(runners: list[SimRunner]) -> None:
    for r in runners:
        if r.cp is not None:
            r.cp.reboot()
            r.cp.accepted.clear()
    await asyncio.gather(*(r.cp._connection.close() for r in runners if r.cp is not None),
                         return_exceptions=True)


async def main(url: str, count: int) -> None:
    # 1,200 simulated connectors: no full collection stalls here either (as in the hub).
    await HeapKeeper(SystemClock(), freeze_every_s=0.5).start()
    runners = [SimRunner(SimConfig(f"P{i:04d}", connectors=2, apply_delay_s=2.0,
                                   meter_interval_s=60.0,
                                   quirks=frozenset({Quirk.PROFILES_LOST_ON_REBOOT})),
                         url, tick_s=None, open_timeout=120)
               for i in range(count)]
    tasks = [asyncio.create_task(r.run()) for r in runners]
    await asyncio.wait_for(asyncio.gather(*(r.connected.wait() for r in runners)), 900)
    for r in runners:
        assert r.cp is not None
        for n in (1, 2):
            await r.cp.plug(n, EV(ramp_s=5.0))
    print("ready", flush=True)
    reader = asyncio.StreamReader()
    await asyncio.get_running_loop().connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    commands = asyncio.create_task(reader.readline())
    last = time.monotonic()
    while True:
        await asyncio.sleep(0.5)
        now = time.monotonic()
        phase = 0.0
        for r in runners:
            if r.cp is not None:
                r.cp.tick(now - last, now)
                phase += sum(c.current_a for c in r.cp.connectors.values())
        last = now
        accepted = sum(1 for r in runners if r.cp is not None and r.cp.accepted.is_set())
        print(json.dumps({"t": now, "import_a": round(phase, 1), "accepted": accepted}),
              flush=True)
        if commands.done():
            if commands.result().strip() == b"blackout":
                await _blackout(runners)
            commands = asyncio.create_task(reader.readline())
    await asyncio.gather(*tasks)


if __name__ == "__main__":
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {1})  # the hub runs on core 0
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
