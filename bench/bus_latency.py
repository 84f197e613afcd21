"""Bus round trip: a DEALER client's command to the engine's ROUTER and back, on ipc://.

    python -m bench.bus_latency [--count 2000]

Runs a whole engine (tests' site: two charge points, no Node-RED) in this process on a
thread of its own, creates an operator API token, then times ``ping`` (the token checked
each time, as for every command) and ``state.snapshot`` round trips; writes
bench/results/bus_latency.json. The Node-RED side's latency (engine → node → engine
through python-shell) is measured with the Node-RED nodes.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import zmq

RESULTS = Path(__file__).parent / "results" / "bus_latency.json"


def _percentiles(ms: list[float]) -> dict[str, float]:
    ms = sorted(ms)
    return {"p50_ms": round(ms[len(ms) // 2], 3), "p99_ms": round(ms[int(len(ms) * 0.99)], 3),
            "max_ms": round(ms[-1], 3)}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    args = parser.parse_args(argv)
    from tests.integration.api_fixtures import Hub  # a whole engine on its own thread

    with tempfile.TemporaryDirectory() as tmp:
        hub = Hub(Path(tmp))
        try:
            token = hub.send("POST", "/tokens", json={"name": "bench", "role": "operator"}
                             ).json()["token"]
            ctx = zmq.Context()
            dealer = ctx.socket(zmq.DEALER)
            dealer.connect(hub.app.bus.router_endpoint)
            rows: dict[str, Any] = {"count": args.count}
            for command in ("ping", "state.snapshot"):
                times = []
                for _ in range(args.count):
                    msg = {"v": 1, "type": "command", "id": uuid.uuid4().hex, "token": token,
                           "command": command, "args": {}}
                    t0 = time.perf_counter()
                    dealer.send(json.dumps(msg).encode())
                    dealer.recv()
                    times.append((time.perf_counter() - t0) * 1000)
                rows[command] = _percentiles(times)
                print(f"{command:<15} p50 {rows[command]['p50_ms']:.2f} ms  "
                      f"p99 {rows[command]['p99_ms']:.2f} ms  max {rows[command]['max_ms']:.2f} ms")
            ctx.destroy(0)
        finally:
            hub.stop()
    RESULTS.write_text(json.dumps({"benchmark": "bus_latency", **rows}, indent=2) + "\n")
    return rows


if __name__ == "__main__":
    main()
