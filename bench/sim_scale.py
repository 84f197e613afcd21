"""How many simulated charge points (``ocpp`` library clients) one process carries.

Starts the engine, connects N simulated charge points from this process (boot through
the hub's Pending/configuration sequence, a car on each, MeterValues every 10 s, one
shared ticker), then reports the time until all were accepted, and this process's CPU
and RSS over a steady window. Run: ``python -m bench.sim_scale [--sizes 100,1000,2000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.ocpp_scale import RESULTS, _free_port, _server, _wait_port
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.runner import SimRunner


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def measure(count: int, window_s: float, url: str) -> dict[str, Any]:
    runners = [SimRunner(SimConfig(f"SIM{i:05d}", meter_interval_s=10.0), url, tick_s=None,
                         open_timeout=60) for i in range(count)]
    t0 = time.monotonic()
    tasks = [asyncio.create_task(r.run()) for r in runners]
    await asyncio.wait_for(asyncio.gather(*(r.connected.wait() for r in runners)), 600)
    connected_s = time.monotonic() - t0
    for r in runners:
        assert r.cp is not None
        await r.cp.plug(1, EV(ramp_s=1))
    cpu0, t1 = _cpu_s(), time.monotonic()
    last = t1
    while time.monotonic() - t1 < window_s:
        await asyncio.sleep(1.0)
        now = time.monotonic()
        for r in runners:
            if r.cp is not None:
                r.cp.tick(now - last, now)
        last = now
    cpu = _cpu_s() - cpu0
    for r in runners:
        r.stop()
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {"charge_points": count, "all_accepted_s": round(connected_s, 1),
            "sim_cpu_pct": round(100 * cpu / window_s, 1), "sim_rss_mb": round(_rss_mb(), 1)}


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,2000")
    parser.add_argument("--window", type=float, default=30.0)
    args = parser.parse_args(argv)
    rows = []
    print(f"{'CPs':>6} {'accepted after s':>17} {'sim CPU %':>10} {'sim RSS MB':>11}")
    for count in (int(s) for s in args.sizes.split(",")):
        with tempfile.TemporaryDirectory() as tmp:
            port = _free_port()
            server = _server("engine", port, Path(tmp))
            try:
                _wait_port(port)
                row = asyncio.run(measure(count, args.window, f"ws://127.0.0.1:{port}"))
            finally:
                server.terminate()
                server.wait(30)
        rows.append(row)
        print(f"{count:>6} {row['all_accepted_s']:>17} {row['sim_cpu_pct']:>10} "
              f"{row['sim_rss_mb']:>11}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "sim_scale.json").write_text(json.dumps({"benchmark": "sim_scale",
                                                        "results": rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
