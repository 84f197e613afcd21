"""EMS field truth: each reference site (SITES.md) for a simulated week, twice with the
same cars: with ideal charge points, and with the field's (bench/field_sim.py): a random
mix of every firmware quirk the hub handles, 5 % of answers lost, charge points that
reboot and lose their transaction, links that drop.

Per site and run: time over any limit (all of it, and beyond the reaction window: the
breach the EMS answers for), seconds the EMS counted a session on a connector without a
car, energy delivered (the field run against the ideal one), energy wanted but missing
at departure, what the faults did (answers lost, reboots, link drops), the quirks drawn.

Run: ``python -m bench.ems_field [--sites office,fleet] [--step 2] [--hours H]``; writes
bench/results/ems_field.json.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import json
import logging
import random
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from bench.ems_quality import SITES, _config
from bench.field_sim import Faults, FieldPort, Model, draw_model
from bench.quality_sim import START, _Run
from hub_engine.clock import FakeClock
from hub_engine.config import HubConfig, SiteConfig
from hub_engine.ems.loop import EmsLoop
from hub_engine.sim.closed_loop import over_stretches
from hub_engine.sim.site import SimMeter

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
FIELD = Faults(lost=0.05, drops_per_day=1.0, reboots_per_day=0.5)


@dataclasses.dataclass
class Outcome:
    seconds_over: float = 0.0
    seconds_over_beyond_window: float = 0.0
    longest_over_s: float = 0.0
    session_on_empty_s: float = 0.0
    self_check_alerts: int = 0
    alerts: dict[str, int] = dataclasses.field(default_factory=dict)


async def _run(run: _Run, config: HubConfig, field: bool, seed: int,
               end_s: float) -> tuple[Outcome, dict[str, Any]]:
    clock = FakeClock(START.astimezone(ZoneInfo("UTC")))
    rng = random.Random(seed * 7919 + 1)

    def new_tx() -> int:
        run.tx += 1
        return run.tx

    models = {k: draw_model(rng) if field else Model() for k in run.conns}
    faults = FIELD if field else Faults()
    ports = {f"{k}/1": FieldPort(c, models[k], faults, clock, run.site.voltage_v,
                                 random.Random(rng.random()), new_tx)
             for k, c in run.conns.items()}
    meters = {run.site.grid.id: SimMeter(run.sim)} if run.site.grid.meter else {}
    loop = EmsLoop(config, lambda: ports, meters, clock)  # type: ignore[arg-type]

    def adapt(kind: str, target: str, data: dict[str, object]) -> None:
        """What hub_engine.ocpp.ems_port does on this alert: the model gets TxProfiles."""
        if kind == "limit_not_applied" and target in ports:
            for port in ports.values():
                if port.model == ports[target].model:
                    port.per_tx = True

    loop.alert_listeners.append(adapt)
    out = Outcome()
    window = config.ems.reaction_window_s
    every = max(1, round(config.ems.cycle_s / run.step_s))
    t, k = 0.0, 0
    overs: list[tuple[float, bool]] = []
    while t < end_s:
        before = {cid: c.arrival for cid, c in run.conns.items()}
        run.arrivals_and_departures(t)
        for cid, c in run.conns.items():
            was = before[cid]
            ports[f"{cid}/1"].step(arrived=c.arrival is not None and c.arrival is not was,
                                   left=was is not None and c.arrival is not was)
        if k % every == 0:
            loop.cycle()
            empty = {r["id"] for r in loop.record["connectors"] if r["session"] is not None
                     and run.conns[r["id"].split("/")[0]].arrival is None}
            out.session_on_empty_s += len(empty) * run.step_s * every
        for _ in range(3):  # the sends and answers due by now
            await asyncio.sleep(0)
        for port in ports.values():
            port.conn.pilot_a = port.pilot_a()
        over_before = run.week.seconds_over_limit
        run.physics(t)
        overs.append((t, run.week.seconds_over_limit > over_before))
        for port in ports.values():
            port.sample()
        clock.advance(run.step_s)
        t += run.step_s
        k += 1
    # A stretch of steps over a limit lasts from its first step to the end of its last.
    for first, last, _ in over_stretches(overs):
        length = last - first + run.step_s
        out.longest_over_s = max(out.longest_over_s, length)
        out.seconds_over_beyond_window += max(0.0, length - window)
    out.seconds_over = run.week.seconds_over_limit
    for kind, _, _ in loop.alerts:
        out.alerts[kind] = out.alerts.get(kind, 0) + 1
    out.self_check_alerts = out.alerts.get("self_check", 0)
    await loop.stop()
    faults_seen = {
        "answers_lost": sum(p.answers_lost for p in ports.values()),
        "reboots": sum(p.reboots for p in ports.values()),
        "link_drops": sum(p.drops for p in ports.values()),
        "models": {name: sum(1 for m in models.values() if getattr(m, name))
                   for name in ("unlabelled", "w_only", "tx_default_ignored")}
        | {"no_read_back": sum(1 for m in models.values() if not m.read_back),
           "meter_60s": sum(1 for m in models.values() if m.meter_interval_s >= 60)}}
    return out, faults_seen


def simulate(config: HubConfig, site: SiteConfig, scenario: str, field: bool, seed: int,
             step_s: float, hours: float | None) -> dict[str, Any]:
    run = _Run(config, site, scenario, "hub", seed, step_s)
    end_s = hours * 3600 if hours is not None else run.end_s
    out, seen = asyncio.run(_run(run, config, field, seed, end_s))
    run.arrivals_and_departures(end_s + 1e9)
    week = run.week.summary()
    return {"site": site.id, "run": "field" if field else "ideal",
            "energy_kwh": round(run.sim.report.energy_wh / 1000, 2),
            "wanted_kwh": week["wanted_kwh"], "missing_kwh": week["missing_kwh"],
            "sessions": week["sessions"], "breaker_trips": week["breaker_trips"],
            **dataclasses.asdict(out), **({"faults": seen} if field else {})}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sites", default=",".join(SITES))
    ap.add_argument("--step", type=float, default=2.0, help="simulation step, s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--hours", type=float, default=None, help="shorter than a week")
    ap.add_argument("--self-check", action="store_true",
                    help="check every allocation with the independent checker (slow)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.CRITICAL)  # the alerts are counted instead
    rows = []
    for name in args.sites.split(","):
        config = _config(name)
        if args.self_check:
            config = dataclasses.replace(config, ems=dataclasses.replace(
                config.ems, self_check=True))
        for site in config.sites:
            pair = []
            for field in (False, True):
                t0 = time.perf_counter()
                row = simulate(config, site, name, field, args.seed, args.step, args.hours)
                row["wall_s"] = round(time.perf_counter() - t0, 1)
                pair.append(row)
                print(json.dumps({k: v for k, v in row.items() if k != "faults"}),
                      flush=True)
            ideal, field_row = pair
            field_row["energy_vs_ideal_pct"] = round(
                100 * (field_row["energy_kwh"] - ideal["energy_kwh"])
                / ideal["energy_kwh"], 2) if ideal["energy_kwh"] else None
            rows.extend(pair)
    path = RESULTS / "ems_field.json"
    if path.exists():  # the sites not run this time keep their last results
        done = {r["site"] for r in rows}
        rows = [r for r in json.loads(path.read_text()).get("results", [])
                if r["site"] not in done] + rows
    _table(rows)
    RESULTS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(
        {"benchmark": "ems_field", "step_s": args.step, "seed": args.seed,
         "hours": args.hours, "faults": dataclasses.asdict(FIELD), "results": rows},
        indent=1))


def _table(rows: list[dict[str, Any]]) -> None:
    head = ("site", "run", "energy_kwh", "missing_kwh", "seconds_over",
            "seconds_over_beyond_window", "longest_over_s", "session_on_empty_s",
            "energy_vs_ideal_pct")
    print(" | ".join(head))
    for r in rows:
        print(" | ".join(str(r.get(h, "")) for h in head))


if __name__ == "__main__":
    main()
