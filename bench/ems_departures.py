"""Departure-aware charging: a site whose cars' departures are known (SITES.md: the
fleet depot's vans, out again 05:30–07:00 in a known order; ``--sites condominium``
for the households, out 07:00–09:00), a simulated week, the hub's EMS with and without each
car's departure plan, against the planning baselines (bench/quality_sim.py): ``edf``
(earliest departure first) and ``llf`` (least laxity first), and ``fcfs``.

Per site and strategy: energy delivered, energy missing at departure, cars that left
short of what they wanted (under 99 %) and the worst served, seconds over a limit, trips.

Run: ``python -m bench.ems_departures [--sites fleet] [--step 5]`` (about 6 min); writes
bench/results/ems_departures.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from bench.ems_quality import _config, _merge
from bench.quality_sim import simulate_week

RESULTS = Path(__file__).resolve().parent / "results"
SITES = ("fleet",)
STRATEGIES = ("hub-plan", "hub", "edf", "llf", "fcfs")


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default=",".join(SITES))
    parser.add_argument("--strategies", default=",".join(STRATEGIES))
    parser.add_argument("--step", type=float, default=5.0, help="simulation step, s")
    args = parser.parse_args(argv)
    rows = []
    for name in args.sites.split(","):
        config = _config(name)
        for strategy in args.strategies.split(","):
            t0 = time.monotonic()
            weeks = simulate_week(config, name, strategy, step_s=args.step)
            row = _merge(name, strategy, weeks)
            if len(weeks) == 1:
                row.update({k: weeks[0].summary()[k]
                            for k in ("short_sessions", "worst_served_pct")})
            rows.append(row)
            print(f"{name:<12} {strategy:<9} energy {row['energy_kwh']:>7.1f} kWh  "
                  f"missing {row['missing_kwh']:>6.1f} kWh  short "
                  f"{row.get('short_sessions')}/{row['sessions']}  worst "
                  f"{row.get('worst_served_pct')} %  over limit "
                  f"{row['seconds_over_limit']:>6.0f} s  trips {row['breaker_trips']}  "
                  f"({time.monotonic() - t0:.0f} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ems_departures.json").write_text(json.dumps(
        {"benchmark": "ems_departures", "step_s": args.step, "results": rows}, indent=2)
        + "\n")
    return rows


if __name__ == "__main__":
    main()
