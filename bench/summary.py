"""Write BENCHMARKS.md (the short table at the project's root) from bench/results/*.json.

    python -m bench.summary

Every figure comes from the last run of its benchmark; `bench/README.md` explains them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def _settled(row: dict[str, Any] | None) -> str:
    """When a run's boot storm settled, or that it was not measured (older rows)."""
    value = (row or {}).get("all_accepted_s")
    return f"{value} s" if value is not None else "not measured"


def _ocpp(lines: list[str]) -> None:
    data = _load("ocpp_scale")
    if data is None:
        return
    lines += ["## OCPP scale (`python -m bench.ocpp_scale`)", "",
              f"Steady state after the boot storm ({data.get('steady_s', 60):.0f} s measured), "
              f"Heartbeat every {data.get('heartbeat_interval_s', 60):.0f} s, one session "
              "per charge point; server and load generator on one core each. "
              "![OCPP scale](bench/results/ocpp_scale.png)", "",
              "| charge points | MeterValues | engine calls/s | engine p50 / p99 ms | "
              "bare p50 / p99 ms | engine CPU ms/call (× bare) | engine RSS MB | "
              "boot storm settled (engine / bare) | errors |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    rows = data["results"]
    engines = [r for r in rows if r["server"] == "engine"]
    for e in sorted(engines, key=lambda r: (-r.get("meter_interval_s", 10), r["charge_points"])):
        b = next((r for r in rows if r["server"] == "bare"
                  and r["charge_points"] == e["charge_points"]
                  and r.get("meter_interval_s") == e.get("meter_interval_s")), None)
        bare = f"{b['steady_p50_ms']} / {b['steady_p99_ms']}" if b else "-"
        settled = f"{_settled(e)} / {_settled(b)}"
        lines.append(
            f"| {e['charge_points']:,} | {e.get('meter_interval_s', 10):.0f} s | "
            f"{e['steady_calls_per_s']} | {e['steady_p50_ms']} / {e['steady_p99_ms']} | "
            f"{bare} | {e['cpu_ms_per_call']} ({e.get('cpu_ratio_vs_bare', '-')}) | "
            f"{e['server_rss_mb']} | {settled} | {e['errors'] + e['timeouts']} |")
    lines += ["", data.get("note", "")]
    lines += ["", "Every charge point connects within max(5 s, N/1000 s), as after a blackout; "
              "\"settled\" is when the last one was Accepted (the engine configures each "
              "first, `ocpp.boot_concurrency` at a time). The steady window starts after "
              "the storm. The engine runs on one core: at 10,000 charge points every 10 s "
              "(about 1,000 calls/s, storage, the EMS and the bus included) that core is "
              "half busy; the boot storm is what takes it longest. CPU per call at low "
              "rates includes the engine's fixed "
              "background (an EMS cycle every second). Sizing and the split over several "
              "cores: docs/installation.md, docs/scaling.md.", ""]


def _quality(lines: list[str]) -> None:
    data = _load("ems_quality")
    if data is None:
        return
    lines += ["## EMS quality, a simulated week per reference site (`python -m bench.ems_quality`)",
              "", "hub = the engine's EMS loop; baselines in the same simulation: none (no "
              "control), equal (static equal split), fcfs (first come, first served). "
              "![EMS quality](bench/results/ems_quality.png)", "",
              "| site | strategy | energy kWh | missing kWh | time over a limit | trips | "
              "PV self-consumption | Jain |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in data["results"]:
        over = r["seconds_over_limit"]
        pv = f"{r['pv_self_consumption_pct']} %" if r["pv_self_consumption_pct"] else "-"
        bold = "**" if r["strategy"] == "hub" else ""
        lines.append(f"| {r['site']} | {bold}{r['strategy']}{bold} | {r['energy_kwh']} | "
                     f"{r['missing_kwh']} | {over / 3600:.1f} h | {r['breaker_trips']} | "
                     f"{pv} | {r['jain_index']} |")
    lines += ["", "Sites without a meter (condominium, fleet, island, campus) reserve their "
              "building's peak, so the hub is cautious there (the island's missing energy); "
              "the baselines that beat it on energy do so by staying over a limit. PV "
              "self-consumption is 100 % everywhere: the buildings alone use the PV. The fleet "
              "depot is undersized for its vans whatever the strategy (departure plans: "
              "next section).", ""]


def _departures(lines: list[str]) -> None:
    data = _load("ems_departures")
    if data is None:
        return
    lines += ["## Departure plans, a simulated week (`python -m bench.ems_departures`, or "
              "`python -m bench.ems_quality --departures`)", "",
              "hub-plan = the hub told each car's departure and need (docs/ems.md "
              "\"Departure plans\"); hub = the same cars without; baselines told the "
              "departures too, at full current within the static ratings: edf (earliest "
              "departure first), llf (least laxity first); fcfs.", "",
              "| site | strategy | energy kWh | missing kWh | cars short | worst served | "
              "time over a limit | trips |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in data["results"]:
        bold = "**" if r["strategy"] == "hub-plan" else ""
        lines.append(f"| {r['site']} | {bold}{r['strategy']}{bold} | {r['energy_kwh']} | "
                     f"{r['missing_kwh']} | {r.get('short_sessions')}/{r['sessions']} | "
                     f"{r.get('worst_served_pct')} % | "
                     f"{r['seconds_over_limit'] / 3600:.1f} h | {r['breaker_trips']} |")
    lines += ["", "The depot's board cannot give every van its 30-60 kWh in a night (two in "
              "three leave short whatever the order): a plan can only choose who gets what "
              "there is. The hub with plans delivers the most and leaves the fewest vans "
              "short, with no time over a limit; least laxity first thrashes (its order "
              "changes every step) and goes over.", ""]


def _field(lines: list[str]) -> None:
    week, ocpp = _load("ems_field"), _load("ems_field_ocpp")
    if week is None and ocpp is None:
        return
    lines += ["## EMS field truth: the same cars with ideal and with field charge points",
              "", "A random mix of firmware quirks, 5 % of answers lost, charge points that "
              "reboot and forget their transaction, link drops (bench/README.md).", "",
              "| site | run | energy kWh (vs ideal) | time over a limit beyond the reaction "
              "window | longest over | sessions on empty connectors | command |",
              "|---|---|---:|---:|---:|---:|---|"]
    for r in (week or {}).get("results", []):
        vs = f" ({r['energy_vs_ideal_pct']:+} %)" if r.get("energy_vs_ideal_pct") is not None \
            else ""
        lines.append(f"| {r['site']} (week) | {r['run']} | {r['energy_kwh']}{vs} | "
                     f"{r['seconds_over_beyond_window']} s | {r['longest_over_s']} s | "
                     f"{r['session_on_empty_s']} s | `python -m bench.ems_field` |")
    for r in (ocpp or {}).get("results", []):
        vs = f" ({r['energy_vs_ideal_pct']:+} %)" if r.get("energy_vs_ideal_pct") is not None \
            else ""
        lines.append(f"| office over OCPP ({r['minutes']:.0f} min) | {r['run']} | "
                     f"{r.get('energy_kwh')}{vs} | {r.get('seconds_over_beyond_window')} s | "
                     f"{r.get('longest_over_s')} s | "
                     f"{r.get('session_on_empty_connector_s')} s | "
                     "`python -m bench.ems_field_ocpp` |")
    lines.append("")


def _others(lines: list[str]) -> None:
    lines += ["## Speed of the pieces", "", "| benchmark | figure | command |", "|---|---|---|"]
    alloc = _load("ems_allocate")
    if alloc:
        for r in alloc["results"]:
            lines.append(f"| EMS allocation, {r['connectors']} connectors | median "
                         f"{r['median_ms']} ms, p95 {r['p95_ms']} ms per cycle (target at "
                         f"1,200: {alloc.get('target_ms_at_1200', '-')} ms) | "
                         "`python -m bench.ems_allocate` |")
    reaction = _load("ems_reaction")
    if reaction:
        hub = reaction["hub"]
        dec = hub["decrease_last_callresult_s"]
        runs = reaction.get("hub_runs") or []
        per_run = ", ".join(f"{max(r['decrease_p99_s'], r['increase_p99_s'])} s"
                            for r in runs)
        lines.append(f"| EMS reaction, {hub['connectors']:,} connectors: step → last "
                     f"CALLRESULT | p50 {dec['p50']} s, p99 {dec['p99']} s (target p99 ≤ 1 s)"
                     + (f"; p99 of each of {len(runs)} runs (decreases and increases): "
                        f"{per_run}" if runs else "")
                     + " | `python -m bench.ems_reaction --runs 3` |")
    if reaction and reaction["end_to_end"]:
        e2e = reaction["end_to_end"]
        lines.append(f"| EMS reaction end to end (office, +{e2e['step_a']} A building step) | "
                     f"back under the limit in at most {e2e['back_under_s_max']} s (window "
                     f"15 s), {e2e['breaker_trips']} trips | `python -m bench.ems_reaction` |")
    bus = _load("bus_latency")
    if bus:
        lines.append(f"| bus command round trip (ipc) | ping p50 {bus['ping']['p50_ms']} ms, "
                     f"p99 {bus['ping']['p99_ms']} ms | `python -m bench.bus_latency` |")
    nr = _load("nodered_latency")
    if nr:
        n, b = nr["node_red_hub_nodes"], nr["bare_pyzmq_client"]
        lines.append(f"| engine → Node-RED node → engine | p50 {n['p50_ms']} ms, p99 "
                     f"{n['p99_ms']} ms (bare pyzmq client: {b['p50_ms']} / {b['p99_ms']} ms) "
                     "| `python -m bench.nodered_latency` |")
    fuzz = _load("ocpp_fuzz")
    if fuzz:
        lines.append(f"| hostile OCPP frames against `hub run` | {fuzz['frames']:,} frames, "
                     f"{fuzz['internal_errors']} InternalError, {fuzz['dropped']} dropped, "
                     f"{fuzz['tracebacks_in_log']} tracebacks; RSS {fuzz['rss_before_mb']} → "
                     f"{fuzz['rss_after_strangers_left_mb']} MB | `python -m bench.ocpp_fuzz` |")
    storm = _load("ems_storm")
    if storm:
        lines.append(f"| profile storm ({storm['charge_points']} charge points, a session "
                     f"change every {storm['every_s']} s) | {storm['limits_sent']:,} limits in "
                     f"{storm['duration_s']} s, {storm['most_to_one_connector']} at most to one "
                     f"connector, {storm['busiest_second']} in the busiest second "
                     "| `python -m bench.ems_storm` |")
    replay = _load("cpo_replay")
    if replay:
        lines.append(f"| CPO back after {replay['hours_offline']:g} h away "
                     f"({replay['charge_points']} relayed charge points) | "
                     f"{replay['messages']:,} queued messages delivered in "
                     f"{replay['seconds']} s ({replay['messages_per_s']:,}/s, "
                     f"{replay['per_link_per_s']} per link), every one once with the CPO's "
                     "ids: " + ("yes" if replay["every_one_once_with_cpo_ids"] else "NO")
                     + " | `python -m bench.cpo_replay` |")
    sim = _load("sim_scale")
    if sim:
        big = max(sim["results"], key=lambda r: r["charge_points"])
        lines.append(f"| simulated charge points in one process | {big['charge_points']:,} "
                     f"accepted in {big['all_accepted_s']} s, {big['sim_rss_mb']} MB | "
                     "`python -m bench.sim_scale` |")
    lines.append("")


# What the solar runs showed, read off the last results (update with them).
_SOLAR_FINDINGS = """\
- **3→1-phase switching** changes little on these sites: the island's charge points are
  single-phase, and at the office the surplus is rarely between 1.4 and 4.1 kW for long.
  Under a 200 kWp roof it delivered 2.0 kWh more (106.4 kWh missing instead of 108.4) for
  4.1 kWh more from the grid (a charging car goes to one phase only after 60 s of grid
  feeding). It is for small roofs with few cars (a house, a small office), which no
  reference site is. A first version put every waiting car on one phase in turn (all
  on their charge points' L1, capped there by the board): 18.8 kWh less delivered under
  the 200 kWp roof; one car on one phase takes the rest now, measured against every car's
  minimum.
- **An optimistic forecast** (1.5 times the sun that comes) does not leave cars short:
  53.1 kWh missing on the carport island (53.3 with a perfect forecast), 0 at the
  office; the cars wait a little longer for sun that does not come, then the last call
  (30 min before departure) gives them the grid."""


def _solar(lines: list[str]) -> None:
    data = _load("solar_day")
    if data is None:
        return
    lines += [f"## Solar charging, {data.get('days', 7):g} simulated days from {data['start']} "
              "(`python -m bench.solar_day`)", "",
              "The hub's EMS with each solar mode (surplus+1p: every three-phase charge "
              "point switches its car to one phase under a thin sun, docs/solar.md; "
              "surplus+plan: each car's departure plan and a perfect PV forecast, "
              "docs/solar.md \"Anticipation\"; surplus+plan/over: a forecast 1.5 times the "
              "sun that comes); office_200kwp: the office under a 200 kWp roof (its charge "
              "points are three-phase); cars from grid = what charging added to the grid "
              "import, the building counted first. "
              "![Solar modes](bench/results/solar_day.png)", "",
              "| site | solar mode | PV kWh | PV self-consumption | cars from grid kWh | "
              "delivered kWh | missing kWh | time over a limit |",
              "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in data["results"]:
        lines.append(f"| {r['case']} | {r['mode']} | {r['pv_kwh']} | "
                     f"{r['pv_self_consumption_pct']} % | {r['ev_grid_kwh']} | "
                     f"{r['energy_kwh']} | {r['missing_kwh']} | {r['seconds_over_limit']} s |")
    lines += ["", *_SOLAR_FINDINGS.splitlines(), ""]


def _grid_signals(lines: list[str]) -> None:
    data = _load("grid_signals")
    if data is None:
        return
    z, t = data["zni"], data["tempo"]
    lines += ["## Grid signals in simulated days (`python -m bench.grid_signals`)", "",
              "The real signal services on the simulated clock driving the real EMS. "
              "![Grid signals](bench/results/grid_signals.png)", "",
              f"- **EDF-SEI (island)**, unfavourable 11:00-13:00 and 18:00-21:00: every "
              f"connector at half its rating at worst {z['max_cut_after_s']} s after a slot "
              f"starts (cycle 1 s, step {data['step_s']} s); at most "
              f"{z['max_cp_kw_unfavourable']} kW per point in unfavourable slots (Advenir: "
              f"3.7 kVA); {z['energy_kwh']} kWh charged that day "
              f"({z['energy_kwh_without_signal']} kWh without the signal); "
              f"{z['seconds_over_limit']} s over a limit.",
              f"- **Tempo (office)**, a red day's rule at {t['red_limit_a']:g} A from 06:00 to "
              "22:00: highest import 06:00-22:00 "
              + ", ".join(f"{k.split()[1].lower()} day {v} A"
                          for k, v in t["max_import_a_06_22"].items()) + " "
              f"(above the red limit {t.get('red_seconds_over', '-')} s in all, at most "
              f"{t.get('red_longest_over_s', '-')} s in a row: building load steps, followed "
              "within the reaction window); "
              "charged " + ", ".join(f"{x} kWh" for x in t["charged_kwh_per_day"])
              + f" on those days; {t['seconds_over_limit']:g} s over a rating.", ""]


def _storage(lines: list[str]) -> None:
    st = _load("storage_history")
    if not st:
        return
    lines += [f"## History for {st['years']} years (`python -m bench.storage_history`)", "",
              f"{st['charge_points']} charge points, {st['sessions']:,} sessions, the store's "
              "default retention (raw 35 days, 15 min to 90 days, hours to 2 years, then "
              "days; OCPP log 90 days, MeterValues and Heartbeat 7). Curves built for "
              f"{st['rows_built']['charge_points_sampled']} charge points and scaled up "
              "(their per-connector part); queries timed on that build, median of 3.", "",
              "| file | size |", "|---|---:|",
              f"| core.db (sessions, members, badges) | {st['core_db_mb']:,.0f} MB |",
              f"| samples.db (curves, OCPP log) | {st['samples_db_mb_site']:,.0f} MB |",
              f"| **total** | **{st['total_mb_site']:,.0f} MB** |", "",
              "| query | time |", "|---|---:|"]
    lines += [f"| {name} | {ms:,.0f} ms |" for name, ms in st["query_ms"].items()]
    lines.append("")


def main() -> None:
    lines = ["# Benchmarks: the last results", "",
             "Measured on the project's build machine (2 cores, Python 3.11, shared and "
             "noisy: compare ratios within one run). Every row is one command; "
             "[bench/README.md](bench/README.md) says what each figure means. "
             "Regenerate this page with `python -m bench.summary`.", ""]
    _quality(lines)
    _departures(lines)
    _field(lines)
    _solar(lines)
    _grid_signals(lines)
    _ocpp(lines)
    _others(lines)
    _storage(lines)
    (ROOT / "BENCHMARKS.md").write_text("\n".join(lines))
    print(f"wrote {ROOT / 'BENCHMARKS.md'}")


if __name__ == "__main__":
    main()
