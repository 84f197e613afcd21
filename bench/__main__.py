"""``python -m bench`` (or ``make bench``): run every benchmark in turn (about 3 hours),
then rewrite BENCHMARKS.md from the results.

Each prints its figures and writes ``bench/results/<name>.json`` (and its PNG plots).
"""

from bench import (
    bus_latency,
    ems_allocate,
    ems_field,
    ems_field_ocpp,
    ems_quality,
    ems_reaction,
    ems_storm,
    nodered_latency,
    ocpp_fuzz,
    ocpp_scale,
    sim_scale,
    summary,
)

print("== ems_allocate: time per allocate() call ==", flush=True)
ems_allocate.main([])
print("\n== ocpp_scale: the engine beside a bare ocpp server ==", flush=True)
ocpp_scale.main([])
print("\n== ocpp_fuzz: hostile frames and strangers against hub run ==", flush=True)
ocpp_fuzz.main([])
print("\n== sim_scale: simulated charge points per process ==", flush=True)
sim_scale.main([])
print("\n== bus_latency: a command's round trip on the bus ==", flush=True)
bus_latency.main([])
print("\n== nodered_latency: engine → Node-RED node → engine ==", flush=True)
nodered_latency.main([])
print("\n== ems_reaction: limits out, and back under the limit after a step ==", flush=True)
ems_reaction.main([])
print("\n== ems_storm: limits sent while sessions come and go every 0.05 s ==",
      flush=True)
ems_storm.main([])
print("\n== ems_quality: a simulated week per reference site, against baselines ==",
      flush=True)
ems_quality.main([])
print("\n== ems_field: a week per reference site, ideal and field charge points ==",
      flush=True)
ems_field.main([])
print("\n== ems_field_ocpp: the office over OCPP, ideal and field charge points ==",
      flush=True)
ems_field_ocpp.main([])
summary.main()
