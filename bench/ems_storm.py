"""Profile storm: how many limits the hub sends while sessions come and go every instant.

The whole hub (store, OCPP server, EMS loop) drives simulated charge points over real
websockets on 127.0.0.1; a car is plugged in or unplugged at a random charge point every
``--every`` seconds. Counts every limit the applier sends: in all, to the busiest
connector, in the busiest second. Before increases were paced (100 charge points, a
change every 0.05 s, 60 s): 12,355 limits, 529 to one connector, 417 in one second.
Written to bench/results/ems_storm.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from hub_engine.config import parse_config
from hub_engine.sim.chargepoint import EV, SimConfig
from hub_engine.sim.closed_loop import running_site

RESULTS = Path(__file__).parent / "results" / "ems_storm.json"


async def _storm(count: int, duration_s: float, every_s: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="ems-storm-"))
    cps = ", ".join(f"{{id: CP{i}}}" for i in range(count))
    config = parse_config(
        f"hub: {{data_dir: {tmp}}}\n"
        "ocpp: {host: 127.0.0.1, ws_port: 0, tls: \"off\", boot_spread_s: 0,"
        " accept_all_id_tags: true}\nhttp: {port: 0}\n"
        "ems: {commissioning: \"off\", unverified_models: trust}\n"
        "sites:\n  - id: s\n    grid:\n      id: grid\n      limit_a: 400\n      meter: m\n"
        f"      meter_fallback_load_a: 10\n      charge_points: [{cps}]\n"
        "meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]\n")
    sims = lambda cp_id: SimConfig(cp_id, apply_delay_s=1.0, meter_interval_s=10.0)  # noqa: E731
    sent: list[tuple[float, str]] = []
    async with running_site(config, sims) as site:
        site.loop.applier.on_result = lambda cid, _v, _o: sent.append((time.monotonic(), cid))
        rng, plugged = random.Random(1), set()
        t0 = time.monotonic()
        while time.monotonic() - t0 < duration_s:
            cid = rng.choice(sorted(site.cps()))
            if cid in plugged:
                await site.cp(cid).unplug(1)
                plugged.discard(cid)
            else:
                await site.cp(cid).plug(1, EV(max_current_a=32, ramp_s=2.0, phases=3))
                plugged.add(cid)
            await asyncio.sleep(every_s)
        elapsed = time.monotonic() - t0
    per_connector: dict[str, int] = {}
    per_second: dict[int, int] = {}
    for t, cid in sent:
        per_connector[cid] = per_connector.get(cid, 0) + 1
        per_second[int(t)] = per_second.get(int(t), 0) + 1
    return {"charge_points": count, "duration_s": round(elapsed, 1), "every_s": every_s,
            "limits_sent": len(sent), "limits_per_s": round(len(sent) / elapsed, 1),
            "most_to_one_connector": max(per_connector.values(), default=0),
            "busiest_second": max(per_second.values(), default=0)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--duration", type=float, default=60.0)
    parser.add_argument("--every", type=float, default=0.05)
    args = parser.parse_args(argv)
    out = asyncio.run(_storm(args.count, args.duration, args.every))
    print(f"{out['charge_points']} charge points, a plug or unplug every {out['every_s']} s "
          f"for {out['duration_s']} s: {out['limits_sent']} limits sent "
          f"({out['limits_per_s']}/s), {out['most_to_one_connector']} at most to one "
          f"connector, {out['busiest_second']} in the busiest second", flush=True)
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps({"benchmark": "ems_storm", **out}, indent=2) + "\n")
    return out


if __name__ == "__main__":
    main()
