"""How fast the hub hands a CPO the backlog it kept while the CPO was away (docs/cpo.md).

A day offline for the campus's public car park: 10 relayed charge points, one session
each all day with MeterValues every 60 s (1,442 messages each, 14,420 in all), already in
the hub's queue on disk; then the (simulated) CPO comes back on 127.0.0.1 and every link
drains its queue, one message in flight per link as OCPP-J allows. Prints the time to
empty every queue and the rate, per link and in all, and checks that every message
reached the CPO once with its own transaction id. ``python -m bench.cpo_replay
[--charge-points N] [--hours H]``; written to bench/results/cpo_replay.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from hub_engine.clock import SystemClock, iso_utc
from hub_engine.config import parse_config
from hub_engine.ocpp import OcppServer
from hub_engine.ocpp.cpo import CpoCommands, CpoRelay
from hub_engine.sim.cpo import SimCpo
from hub_engine.store import Store

RESULTS = Path(__file__).parent / "results" / "cpo_replay.json"
BOOT = {"chargePointVendor": "Sim", "chargePointModel": "SIM-1"}


def _backlog(cp_id: str, tx: int, start: datetime, minutes: int) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = [(cp_id, f"{cp_id}-s", "StartTransaction", json.dumps(
        {"connectorId": 1, "idTag": "GOOD", "meterStart": 0, "timestamp": iso_utc(start)}),
        tx, iso_utc(start))]
    for m in range(minutes):
        at = start + timedelta(minutes=m + 1)
        rows.append((cp_id, f"{cp_id}-m{m}", "MeterValues", json.dumps(
            {"connectorId": 1, "transactionId": tx, "meterValue": [{"timestamp": iso_utc(at),
             "sampledValue": [{"value": str(m * 100), "measurand":
                               "Energy.Active.Import.Register", "unit": "Wh"}]}]}),
            None, iso_utc(at)))
    end = start + timedelta(minutes=minutes + 1)
    rows.append((cp_id, f"{cp_id}-e", "StopTransaction", json.dumps(
        {"transactionId": tx, "meterStop": minutes * 100, "timestamp": iso_utc(end)}),
        None, iso_utc(end)))
    return rows


async def run(count: int, hours: float) -> dict[str, Any]:
    tmp = Path(tempfile.mkdtemp(prefix="cpo-replay-"))
    with socket.socket() as sock:  # a free port for the CPO
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    cps = ", ".join(f"{{id: PUB{i:02d}, mode: cpo}}" for i in range(count))
    config = parse_config(
        f"hub: {{data_dir: {tmp}}}\nocpp: {{host: 127.0.0.1, ws_port: 0, tls: \"off\"}}\n"
        f"http: {{port: 0}}\nsites:\n  - id: s\n    cpo: {{url: \"ws://127.0.0.1:{port}/ocpp\","
        " reconnect_min_s: 0.2, reconnect_max_s: 1}\n"
        f"    grid: {{id: g, limit_a: 400, charge_points: [{cps}]}}\n")
    clock = SystemClock()
    store = Store(config.store, tmp, clock)
    await store.start()
    minutes = int(hours * 60)
    start = datetime.now(UTC) - timedelta(hours=hours)
    rows = [r for i in range(count) for r in _backlog(f"PUB{i:02d}", i + 1, start, minutes)]

    def fill(db: Any) -> None:
        db.conn.executemany("INSERT INTO cpo_outbox (charge_point_id, unique_id, action, "
                            "payload, local_tx, queued_at) VALUES (?, ?, ?, ?, ?, ?)", rows)
        db.conn.executemany("INSERT INTO cpo_state (charge_point_id, boot) VALUES (?, ?)",
                            [(f"PUB{i:02d}", json.dumps(BOOT)) for i in range(count)])
    await store.core.write(fill)
    server = OcppServer(config, store, clock)
    relay = CpoRelay(config, server, store, clock)
    CpoCommands(relay)
    cpo = SimCpo(port)
    await cpo.start()
    t0 = time.perf_counter()
    await relay.start()  # owed messages: the links come up by themselves
    while relay.outbox.count():
        await asyncio.sleep(0.2)
    took = time.perf_counter() - t0
    await relay.stop()
    await cpo.stop()
    await store.stop()
    got = [(c, a, p) for c, a, _, p in cpo.log if a in ("StartTransaction", "MeterValues",
                                                         "StopTransaction")]
    per_cp = {c: [p.get("transactionId") for cc, a, p in got
                  if cc == c and a != "StartTransaction"] for c in {c for c, _, _ in got}}
    mapped = all(len(set(ids)) == 1 and ids[0] > 1000 for ids in per_cp.values())
    return {"benchmark": "cpo_replay", "charge_points": count, "hours_offline": hours,
            "messages": len(rows), "delivered": len(got), "seconds": round(took, 1),
            "messages_per_s": round(len(rows) / took), "per_link_per_s":
                round(len(rows) / took / count, 1), "every_one_once_with_cpo_ids":
                len(got) == len(rows) and mapped, "refused": relay.dropped}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--charge-points", type=int, default=10)
    parser.add_argument("--hours", type=float, default=24.0)
    args = parser.parse_args(argv)
    result = asyncio.run(run(args.charge_points, args.hours))
    print(f"{result['messages']:,} messages of {result['charge_points']} charge points "
          f"({result['hours_offline']:g} h offline) delivered in {result['seconds']} s: "
          f"{result['messages_per_s']} messages/s, {result['per_link_per_s']} per link; "
          f"every one once with the CPO's ids: {result['every_one_once_with_cpo_ids']}")
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(f"results written to {RESULTS}")
    return result


if __name__ == "__main__":
    main()
