"""``python -m bench`` (or ``make bench``): run every benchmark in turn (about 3 hours),
then rewrite BENCHMARKS.md from the results.

Each prints its figures and writes ``bench/results/<name>.json`` (and its PNG plots).
"""

from bench import (
    bus_latency,
    cpo_replay,
    ems_allocate,
    ems_field,
    ems_field_ocpp,
    ems_quality,
    ems_reaction,
    ems_storm,
    grid_signals,
    nodered_latency,
    ocpp_fuzz,
    ocpp_scale,
    sim_scale,
    solar_day,
    summary,
)

RUNS = (
    ("ems_allocate: time per allocate() call", ems_allocate),
    ("ocpp_scale: the engine beside a bare ocpp server", ocpp_scale),
    ("ocpp_fuzz: hostile frames and strangers against hub run", ocpp_fuzz),
    ("sim_scale: simulated charge points per process", sim_scale),
    ("bus_latency: a command's round trip on the bus", bus_latency),
    ("nodered_latency: engine → Node-RED node → engine", nodered_latency),
    ("ems_reaction: limits out, and back under the limit after a step", ems_reaction),
    ("ems_storm: limits sent while sessions come and go every 0.05 s", ems_storm),
    ("cpo_replay: a day's backlog handed to a CPO that comes back", cpo_replay),
    ("ems_quality: a simulated week per reference site, against baselines", ems_quality),
    ("ems_field: a week per reference site, ideal and field charge points", ems_field),
    ("ems_field_ocpp: the office over OCPP, ideal and field charge points", ems_field_ocpp),
    ("solar_day: a week of the sites with PV under each solar mode", solar_day),
    ("grid_signals: an EDF-SEI day on the island, Tempo days at the office", grid_signals),
)
for n, (title, bench) in enumerate(RUNS):
    print(("\n" if n else "") + f"== {title} ==", flush=True)
    bench.main([])
summary.main()
