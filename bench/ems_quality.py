"""EMS quality: each reference site (SITES.md) for a simulated week under the hub's EMS
and under three baselines run in the same simulation (bench/quality_sim.py): no control,
a static equal split, first come first served.

Per site and strategy: energy delivered and wanted, energy wanted but missing at
departure, seconds with any board or the grid connection over its limit, breaker trips
(a tripped breaker stays off an hour), PV self-consumption, Jain's fairness index over
the sessions' served fraction (1 = every car got the same share of what it wanted).

With ``--departures``: the departure-aware comparison (the hub with each car's plan
against earliest-deadline-first and least-laxity-first), :mod:`bench.ems_departures`.

Run: ``python -m bench.ems_quality [--sites office,fleet] [--step 5]`` (about 15 min for
the five sites); writes bench/results/ems_quality.json and ems_quality.png (missing
energy and time over limit per site) and ems_quality_office.png (the office's import
over the week under each strategy).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from bench.quality_sim import STRATEGIES, Week, simulate_week
from hub_engine.config import load_config

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
SITES = ("office", "condominium", "fleet", "island", "campus")


def _config(name: str) -> Any:
    config = load_config(str(ROOT / "hub_engine" / "sim" / "sites" / f"{name}.yaml"))
    # The simulated connectors are fail-safe by construction: no commissioning test.
    return dataclasses.replace(config, ems=dataclasses.replace(
        config.ems, commissioning="off", unverified_models="trust"))


def _merge(name: str, strategy: str, weeks: list[Week]) -> dict[str, Any]:
    """One row per reference site (the campus has two sites: summed)."""
    rows = [w.summary() for w in weeks]
    if len(rows) == 1:
        return {**rows[0], "site": name}
    total: dict[str, Any] = {"site": name, "strategy": strategy}
    for key in ("sessions", "energy_kwh", "wanted_kwh", "missing_kwh",
                "seconds_over_limit", "breaker_trips"):
        total[key] = round(sum(r[key] for r in rows), 1)
    total["pv_self_consumption_pct"] = None
    merged = Week(name, strategy, sessions=[s for w in weeks for s in w.sessions])
    total["jain_index"] = merged.summary()["jain_index"]
    return total


def _plots(rows: list[dict[str, Any]], office: dict[str, Week]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sites = list(dict.fromkeys(r["site"] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.5))
    width = 0.2
    for k, strategy in enumerate(STRATEGIES):
        got = {r["site"]: r for r in rows if r["strategy"] == strategy}
        xs = [i + (k - 1.5) * width for i in range(len(sites))]
        axes[0].bar(xs, [got[s]["missing_kwh"] for s in sites], width, label=strategy)
        axes[1].bar(xs, [got[s]["seconds_over_limit"] / 3600 for s in sites], width,
                    label=strategy)
    for ax, title in zip(axes, ("energy missing at departure (kWh)",
                                "time over a limit (h)"), strict=True):
        ax.set_xticks(range(len(sites)), sites)
        ax.set_title(title)
        ax.legend()
    fig.tight_layout()
    fig.savefig(RESULTS / "ems_quality.png", dpi=90)
    plt.close(fig)
    if office:
        fig, ax = plt.subplots(figsize=(12, 4))
        for strategy, week in office.items():
            ax.plot([h for h, _ in week.grid_import_a], [a for _, a in week.grid_import_a],
                    label=strategy, linewidth=0.8)
        ax.axhline(250, color="red", linestyle="--", label="TGBT 250 A")
        ax.set_xlabel("hours from Monday 00:00")
        ax.set_ylabel("grid import, worst phase (A)")
        ax.set_title("Office (SITES.md §1), one week")
        ax.legend(loc="upper right")
        fig.tight_layout()
        fig.savefig(RESULTS / "ems_quality_office.png", dpi=90)
        plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", default=",".join(SITES))
    parser.add_argument("--step", type=float, default=5.0, help="simulation step, s")
    parser.add_argument("--departures", action="store_true",
                        help="instead: the cars' departures known, the hub against EDF and "
                             "least-laxity baselines (bench.ems_departures)")
    args = parser.parse_args(argv)
    if args.departures:
        from bench import ems_departures
        return ems_departures.main(["--step", str(args.step)])
    rows, office = [], {}
    for name in args.sites.split(","):
        config = _config(name)
        for strategy in STRATEGIES:
            t0 = time.monotonic()
            weeks = simulate_week(config, name, strategy, step_s=args.step)
            row = _merge(name, strategy, weeks)
            rows.append(row)
            if name == "office":
                office[strategy] = weeks[0]
            print(f"{name:<12} {strategy:<6} energy {row['energy_kwh']:>7.1f} kWh  "
                  f"missing {row['missing_kwh']:>6.1f} kWh  over limit "
                  f"{row['seconds_over_limit']:>7.0f} s  trips {row['breaker_trips']:>3}  "
                  f"PV self {row['pv_self_consumption_pct'] or '-':>5}  "
                  f"Jain {row['jain_index']}  ({time.monotonic() - t0:.0f} s)", flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "ems_quality.json").write_text(json.dumps(
        {"benchmark": "ems_quality", "step_s": args.step, "results": rows}, indent=2) + "\n")
    _plots(rows, office)
    return rows


if __name__ == "__main__":
    main()
