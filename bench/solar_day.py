"""Solar charging: the reference sites with PV (SITES.md: the office's 36 kWp, the
island's 20 kWp) for simulated days (Monday to Wednesday) under the hub's EMS, solar mode ``off``,
``surplus`` and ``min_solar``, and ``surplus+plan``: surplus with each car's departure
plan and the PV forecast (the anticipation: a car waits for the sun the forecast
promises before it leaves, and takes from the grid only what the sun will not give it;
the forecast is the simulation's own clear sky), in the same simulation as
``bench.ems_quality`` (bench/quality_sim.py: building load, clear-sky PV, cars arriving
and leaving).

Per site and mode: PV produced, PV self-consumption (share not exported), what the cars
added to the grid import (``ev_grid_kwh``, the building counted first), energy delivered
and missing at departure, seconds over a limit. The reference buildings take nearly all
their PV by day, so a third site shows where solar modes matter: the island with three
times its PV (a 60 kWp carport), the case the issue's "export" is about.

Run: ``python -m bench.solar_day [--start 2026-06-08] [--days 3] [--step 5]`` (about
10 min);
writes bench/results/solar_day.json and solar_day.png (a day of the PV-rich island:
grid, charging and PV power with the solar modes and without).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from bench.quality_sim import Week, simulate_week
from hub_engine.config import HubConfig, parse_config
from hub_engine.sim.physics import pv_power_w
from hub_engine.sim.scenario import LOADS

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
# "+1p": every three-phase charge point switches its car to one phase under a thin sun.
# "+plan": each car's departure plan and a perfect forecast; "+plan/over": a forecast
# 1.5 times the sun that comes (a cloudy day forecast clear: the cars wait in vain).
MODES = ("off", "surplus", "surplus+1p", "min_solar", "surplus+plan", "surplus+plan/over")
OVER = 1.5
# (label, reference site, PV in kWp: None = the reference's own)
CASES: tuple[tuple[str, str, float | None], ...] = (
    ("office", "office", None), ("island", "island", None), ("island_60kwp", "island", 60.0),
    # Three-phase charge points under a roof that exports around noon (phase switching).
    ("office_200kwp", "office", 200.0))


def _forecast(kwp: float) -> Any:
    """A hook giving the EMS a perfect forecast: the simulation's clear-sky PV, 15-minute
    slots over the next 48 h."""
    def hook(run: Any, loop: Any, t: float) -> None:
        if loop.solar.forecast is not None:
            return

        def ahead(site: str) -> list[tuple[datetime, datetime, float]]:
            now = loop.clock.now()
            first = now.replace(minute=now.minute // 15 * 15, second=0, microsecond=0)
            slots = []
            for k in range(192):
                a = first + timedelta(minutes=15 * k)
                mid = (a + timedelta(minutes=7.5)).astimezone(ZoneInfo("Europe/Paris"))
                slots.append((a, a + timedelta(minutes=15), pv_power_w(kwp, mid)))
            return slots
        loop.solar.forecast = ahead
    return hook


def _switching(node: dict[str, Any]) -> None:
    for cp in node.get("charge_points", []):
        if cp.get("phases", 3) == 3 and not cp.get("dc") and cp.get("control", "A") == "A":
            cp["phase_switching"] = True
    for child in node.get("children", []):
        _switching(child)


def solar_config(site: str, mode: str, switching: bool = False) -> HubConfig:
    """The reference site's configuration with a grid meter (the export is read there)
    and the first site's solar mode; no commissioning test (simulated connectors);
    ``switching``: its three-phase charge points switch phases."""
    data = yaml.safe_load((ROOT / "hub_engine" / "sim" / "sites" / f"{site}.yaml").read_text())
    first = data["sites"][0]
    if not first["grid"].get("meter"):
        first["grid"]["meter"] = "grid-meter"
        data.setdefault("meters", []).append(
            {"id": "grid-meter", "driver": "static", "options": {"current_a": [0, 0, 0]}})
    first["solar"] = {"mode": mode}
    if switching:
        _switching(first["grid"])
    data["ems"] = {**data.get("ems", {}), "commissioning": "off", "unverified_models": "trust"}
    return parse_config(yaml.safe_dump(data), base_dir=ROOT)


def _row(label: str, mode: str, week: Week) -> dict[str, Any]:
    s = week.summary()
    return {"case": label, "mode": mode, **{k: s[k] for k in (
        "pv_kwh", "pv_self_consumption_pct", "ev_grid_kwh", "energy_kwh", "wanted_kwh",
        "missing_kwh", "seconds_over_limit", "breaker_trips", "sessions")}}


def _plot(weeks: dict[str, Week], day: int) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = (len(weeks) + 2) // 3
    fig, grid = plt.subplots(rows, 3, figsize=(15, 4 * rows), sharey=True, squeeze=False)
    axes = list(grid.flat)
    for ax, (mode, week) in zip(axes, weeks.items(), strict=False):
        pts = [p for p in week.power_w if day * 24 <= p[0] < (day + 1) * 24]
        hours = [p[0] - day * 24 for p in pts]
        ax.plot(hours, [p[3] / 1000 for p in pts], label="PV", color="orange")
        ax.plot(hours, [p[2] / 1000 for p in pts], label="charging", color="green")
        ax.plot(hours, [p[1] / 1000 for p in pts], label="grid (import > 0)", color="black",
                linewidth=0.8)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_title(f"solar mode {mode}")
        ax.set_xlabel("hour")
    axes[0].set_ylabel("kW")
    axes[0].legend(loc="upper left")
    fig.suptitle("Island site with a 60 kWp carport, a June weekday (bench.solar_day)")
    fig.tight_layout()
    fig.savefig(RESULTS / "solar_day.png", dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--start", default="2026-06-08", help="a Monday, local date")
    parser.add_argument("--step", type=float, default=5.0, help="simulation step, s")
    parser.add_argument("--cases", default=",".join(c[0] for c in CASES))
    parser.add_argument("--days", type=float, default=3.0, help="from Monday 00:00")
    args = parser.parse_args(argv)
    start = datetime.fromisoformat(args.start).replace(tzinfo=ZoneInfo("Europe/Paris"))
    if start.weekday() != 0:
        parser.error(f"--start {args.start} is not a Monday")
    rows, rich = [], {}
    wanted = args.cases.split(",")
    for label, site, kwp in CASES:
        if label not in wanted:
            continue
        load = dataclasses.replace(LOADS[site], pv_kwp=kwp) if kwp is not None else None
        for mode in MODES:
            t0 = time.monotonic()
            planned = "+plan" in mode
            kwp_now = load.pv_kwp if load is not None else LOADS[site].pv_kwp
            base = mode.split("+")[0]
            week = simulate_week(solar_config(site, base, mode.endswith("+1p")), site,
                                 "hub-plan" if planned else "hub", step_s=args.step,
                                 hours=args.days * 24, start=start, load=load,
                                 hook=_forecast(kwp_now * (OVER if mode.endswith("/over")
                                                           else 1.0)) if planned else None)[0]
            row = _row(label, mode, week)
            rows.append(row)
            if label == "island_60kwp":
                rich[mode] = week
            print(f"{label:<13} {mode:<17} PV {row['pv_kwh']:>6.1f} kWh  self-consumed "
                  f"{row['pv_self_consumption_pct'] or 0:>5.1f} %  cars from grid "
                  f"{row['ev_grid_kwh']:>6.1f} kWh  delivered {row['energy_kwh']:>6.1f} kWh  "
                  f"missing {row['missing_kwh']:>6.1f} kWh  over limit "
                  f"{row['seconds_over_limit']:>4} s  ({time.monotonic() - t0:.0f} s)",
                  flush=True)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "solar_day.json").write_text(json.dumps(
        {"benchmark": "solar_day", "start": args.start, "days": args.days,
         "step_s": args.step,
         "results": rows}, indent=2) + "\n")
    if len(rich) == len(MODES):
        _plot(rich, day=2)
    return rows


if __name__ == "__main__":
    main()
