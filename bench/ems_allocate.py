"""Time per ``allocate()`` call at 60, 600 and 1,200 connectors.

The measured case is the hard one, not plain water-filling: a 3-level tree (grid → boards
→ groups, and dual posts whose two connectors share one feed), demand twice the site limit,
some groups too small for everyone's minimum (so rotation selects who charges), mixed
1/2/3-phase EVs with unknown phases, W-only and DC points, two priority tiers, weights,
cars taking less than given, a site meter with PV, confirmed-headroom gating with
pending decreases. Two figures: the EMS loop's case (consecutive cycles, each fed the
previous decision: rotation states carried, setpoints confirmed) and the cold case (the
first cycle's snapshot again and again, every state changing at once). One core; run:
``python -m bench.ems_allocate [--repeat N]``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import time
from pathlib import Path
from typing import Any

from hub_engine.ems import Snapshot, allocate, next_snapshot

RESULTS = Path(__file__).parent / "results"


def site(n_connectors: int, seed: int = 1) -> Snapshot:
    rng = random.Random(seed)
    boards = max(1, n_connectors // 200)
    groups_per_board = 10
    per_group = max(1, n_connectors // (boards * groups_per_board))
    demand_a = n_connectors * 32 / 3 * 0.9  # rough per-phase demand if all charged at max
    nodes: list[dict[str, Any]] = [{
        "id": "grid", "limit_a": round(demand_a / 2), "limit_va": round(demand_a / 2 * 690),
        "margin_a": 5,
        "meter": {"current_a": [demand_a * 0.1, demand_a * 0.09, demand_a * 0.08], "age_s": 0.5,
                  "power_w": [1, 1, -1]},
        "non_ev_history_a": [[demand_a * 0.1] * 3 for _ in range(30)],
    }]
    conns: list[dict[str, Any]] = []
    rotations = [[0, 1, 2], [1, 2, 0], [2, 0, 1]]
    for b in range(boards):
        nodes.append({"id": f"b{b}", "parent": "grid", "limit_a": round(demand_a / boards * 0.6)})
        for g in range(groups_per_board):
            gid = f"b{b}g{g}"
            # One group in three is too small for all its cars' minimum: rotation decides.
            limit = per_group * 4 if g % 3 == 0 else per_group * 16
            nodes.append({"id": gid, "parent": f"b{b}", "limit_a": limit})
            for k in range(per_group):
                cid = f"{gid}c{k}"
                kind = rng.choice(["ac3", "ac3", "ac1", "w", "dc"] if k % 25 else ["dc"])
                phases = rng.choice(rotations)
                # Two connectors in three share a dual post's 32 A feed (a node of its
                # own); a single-connector point's rating is its connector's maximum.
                node = gid
                if k % 3 != 2:
                    node = f"{gid}p{k // 3}"
                    if k % 3 == 0:
                        nodes.append({"id": node, "parent": gid, "limit_a": 32})
                c: dict[str, Any] = {
                    "id": cid, "node": node, "max_current_a": 32,
                    "phases": phases[:1] if kind == "ac1" else phases,
                    "tier": 1 if rng.random() < 0.05 else 0,
                    "weight": rng.choice([1, 1, 1, 2]),
                    "may_draw_a": rng.choice([0, 6, 10, 16, 32]),
                }
                if kind in ("w", "dc"):
                    c.update(control="W", max_power_w=22_080 if kind == "w" else 50_000,
                             dc=kind == "dc", max_current_a=80 if kind == "dc" else 32,
                             may_draw_w=rng.choice([0, 4_140, 11_000]))
                    c.pop("may_draw_a")
                if rng.random() < 0.85:
                    measured = [rng.uniform(0, 32)] * 3
                    c["session"] = {
                        "state": rng.choice(["charging"] * 8 + ["waiting", "suspended_ev"]),
                        "ev_phases": rng.choice([None, None, 1, 2, 3]),
                        "measured_a": measured, "measured_age_s": rng.uniform(1, 60),
                        "rotation": {"on": rng.random() < 0.8,
                                     "since_s": rng.uniform(-2000, 100_000),
                                     "on_time_s": rng.uniform(0, 7200),
                                     "pauses": rng.randint(0, 2),
                                     "probe_started_s": rng.uniform(0, 100_000)},
                    }
                conns.append(c)
    return Snapshot.from_dict({"now_s": 100_000, "nodes": nodes, "connectors": conns})


def _stats(times: list[float]) -> tuple[float, float]:
    times = sorted(times)
    return round(statistics.median(times), 2), round(times[int(0.95 * (len(times) - 1))], 2)


def measure(snapshot: Snapshot, repeat: int) -> dict[str, float]:
    """Cold: the same first-cycle snapshot again and again (every state changes).
    Loop: consecutive cycles, each fed what the previous one decided, as the EMS runs."""
    allocate(snapshot)  # warm-up
    cold = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        alloc = allocate(snapshot)
        cold.append((time.perf_counter() - t0) * 1000)
    paused = sum(1 for s in alloc.setpoints if "paused" in s.reason)
    gated = sum(1 for s in alloc.setpoints if s.reason.startswith("rising"))
    loop = []
    current = next_snapshot(snapshot, alloc)
    for _ in range(repeat):
        t0 = time.perf_counter()
        step = allocate(current)
        loop.append((time.perf_counter() - t0) * 1000)
        current = next_snapshot(current, step)
    cold_median, cold_p95 = _stats(cold)
    loop_median, loop_p95 = _stats(loop)
    return {
        "connectors": len(snapshot.connectors), "nodes": len(snapshot.nodes),
        "median_ms": loop_median, "p95_ms": loop_p95,
        "cold_median_ms": cold_median, "cold_p95_ms": cold_p95,
        "paused_by_rotation": paused, "rising_gated": gated,
        "paused_in_loop": sum(1 for s in step.setpoints if "paused" in s.reason),
    }


def main(argv: list[str] | None = None) -> list[dict[str, float]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=50)
    parser.add_argument("--sizes", default="60,600,1200")
    args = parser.parse_args(argv)
    rows = []
    print(f"{'connectors':>10} {'nodes':>6} {'loop median ms':>15} {'p95':>6} "
          f"{'cold median ms':>15} {'p95':>6} {'paused':>7}")
    for n in (int(s) for s in args.sizes.split(",")):
        row = measure(site(n), args.repeat)
        rows.append(row)
        print(f"{row['connectors']:>10} {row['nodes']:>6} {row['median_ms']:>15} "
              f"{row['p95_ms']:>6} {row['cold_median_ms']:>15} {row['cold_p95_ms']:>6} "
              f"{row['paused_in_loop']:>7}", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "ems_allocate.json"
    out.write_text(json.dumps({"benchmark": "ems_allocate", "target_ms_at_1200": 20,
                               "results": rows}, indent=2) + "\n")
    print(f"results written to {out}")
    return rows


if __name__ == "__main__":
    main()
