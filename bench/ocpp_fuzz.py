"""A longer hostile run against ``hub run`` (issue "Trust boundaries"): frames, strangers,
answers by class, memory.

    python -m bench.ocpp_fuzz [--frames 20000] [--strangers 1000]

Starts the hub as an operator would (``python -m hub_engine run --config``, a subprocess)
on a site of five known charge points. Four connections send ``--frames`` hostile frames
in turn (every class of ``tests/integration/test_ocpp_hostile.py``, half of them with a
field mutated to a hostile value), waiting for each answer; a fifth, honest charge point
sends a Heartbeat every half second and its answer time is kept. Then ``--strangers``
connections: half with invalid ids (line breaks, 200 characters, ``../``), half unknown
ids kept open idle. Reported: answers by CALLERROR code and by class, InternalErrors,
connections dropped, tracebacks in the hub's log, the honest charge point's Heartbeat
p50/max, the hub's RSS before, after the frames, with the strangers connected and after
they left; written to bench/results/ocpp_fuzz.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import websockets
from websockets.exceptions import InvalidHandshake, InvalidStatus

from tests.conftest import free_port
from tests.integration.test_ocpp_hostile import _frame, mutated

RESULTS = Path(__file__).parent / "results" / "ocpp_fuzz.json"
ROOT = Path(__file__).parents[1]
_SITE = """hub: {{data_dir: data}}
ocpp: {{host: 127.0.0.1, ws_port: {ws}, wss_port: 0, tls: "off", boot_spread_s: 0}}
http: {{port: {http}, https_port: null}}
ems: {{commissioning: "off", unverified_models: trust}}
sites:
  - id: s1
    grid: {{id: grid, limit_a: 63, charge_points: [{{id: CP1}}, {{id: CP2}}, {{id: CP3}},
           {{id: CP4}}, {{id: CP5}}]}}
"""


async def _exchange(ws: Any, frame: Any, timeout_s: float = 30) -> Any:
    """Send a CALL, return its answer; the hub's own CALLs meanwhile (configuration,
    profiles) are answered NotSupported."""
    uid = frame[1] if isinstance(frame, list) else json.loads(frame[:200].split(",")[1])
    await ws.send(frame if isinstance(frame, str) else json.dumps(frame))
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), timeout_s))
        if msg[0] == 2:
            await ws.send(json.dumps([4, msg[1], "NotSupported", "fuzz", {}]))
        elif msg[1] == uid:
            return msg


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


async def _connect(url: str, cp_id: str) -> Any:
    ws = await websockets.connect(f"{url}/{cp_id}", subprotocols=["ocpp1.6"], max_size=None)
    boot = [2, "boot", "BootNotification", {"chargePointVendor": "Fuzz",
                                            "chargePointModel": "F1"}]
    await _exchange(ws, boot)
    return ws


async def _hostile(url: str, cp_id: str, count: int, seed: int, out: dict[str, Any]) -> None:
    rng = random.Random(seed)
    ws = await _connect(url, cp_id)
    for n in range(count):
        case, body = mutated(rng)
        try:
            answer = await _exchange(ws, _frame(f"{cp_id}-{n}", body))
        except (websockets.ConnectionClosed, TimeoutError):
            out["dropped"] += 1
            ws = await _connect(url, cp_id)
            continue
        out["frames"] += 1
        code = answer[2] if answer[0] == 4 else "CALLRESULT"
        out["codes"][code] = out["codes"].get(code, 0) + 1
        by_class = out["by_class"].setdefault(case, {})
        by_class[code] = by_class.get(code, 0) + 1
        if "Traceback" in json.dumps(answer):
            out["tracebacks_in_answers"] += 1
        if (n + 1) % 5000 == 0:
            print(f"  {cp_id}: {n + 1} frames", flush=True)
    await ws.close()


async def _honest(url: str, stop: asyncio.Event, times_ms: list[float]) -> None:
    ws = await _connect(url, "CP5")
    while not stop.is_set():
        t0 = time.perf_counter()
        await _exchange(ws, [2, "hb", "Heartbeat", {}])
        times_ms.append((time.perf_counter() - t0) * 1000)
        await asyncio.sleep(0.5)
    await ws.close()


async def _strangers(url: str, count: int, pid: int, out: dict[str, Any]) -> None:
    bad = ["bad%0Aid", "x" * 200, "..%2Fetc", "a b", "%00"]
    statuses: dict[str, int] = {}
    kept = []
    for n in range(count):
        cp_id = bad[n % len(bad)] + str(n) if n % 2 else f"STRANGER{n}"
        try:
            kept.append(await websockets.connect(f"{url}/{cp_id}", subprotocols=["ocpp1.6"]))
            key = "connected"
        except InvalidStatus as exc:
            key = str(exc.response.status_code)
        except (InvalidHandshake, OSError) as exc:  # e.g. a space: no valid request line
            key = type(exc).__name__
        statuses[key] = statuses.get(key, 0) + 1
    out["strangers"] = statuses
    out["rss_with_strangers_mb"] = _rss_mb(pid)
    for ws in kept:
        await ws.close()


async def _run(args: argparse.Namespace, url: str, pid: int) -> dict[str, Any]:
    out: dict[str, Any] = {"frames": 0, "dropped": 0, "codes": {}, "by_class": {},
                           "tracebacks_in_answers": 0, "rss_before_mb": _rss_mb(pid)}
    stop, times_ms = asyncio.Event(), list[float]()
    honest = asyncio.create_task(_honest(url, stop, times_ms))
    t0 = time.monotonic()
    per = args.frames // 4
    await asyncio.gather(*(_hostile(url, f"CP{i + 1}", per, i, out) for i in range(4)))
    out["frames_s"] = round(time.monotonic() - t0, 1)
    out["rss_after_frames_mb"] = _rss_mb(pid)
    await _strangers(url, args.strangers, pid, out)
    await asyncio.sleep(2)
    out["rss_after_strangers_left_mb"] = _rss_mb(pid)
    stop.set()
    await honest
    times_ms.sort()
    out["honest_heartbeat_ms"] = {"count": len(times_ms),
                                  "p50": round(times_ms[len(times_ms) // 2], 2),
                                  "max": round(times_ms[-1], 2)}
    return out


def _top_lines(text: str) -> dict[str, int]:
    """The commonest log lines, numbers and ids masked: what a hostile peer writes."""
    seen: dict[str, int] = {}
    for line in text.splitlines():
        key = re.sub(r"\d+", "N", line.split(" ", 2)[-1])[:90]
        seen[key] = seen.get(key, 0) + 1
    return dict(sorted(seen.items(), key=lambda kv: -kv[1])[:5])


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=20000)
    parser.add_argument("--strangers", type=int, default=1000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        ws_port = free_port()
        config = Path(tmp) / "hub.yaml"
        config.write_text(_SITE.format(ws=ws_port, http=free_port()))
        log_path = Path(tmp) / "hub.log"
        with log_path.open("w") as log:
            proc = subprocess.Popen([sys.executable, "-m", "hub_engine", "run", "--config",
                                     str(config)], stderr=log, cwd=ROOT,
                                    env={**os.environ, "HUB_CONFIG": ""})
            try:
                deadline = time.monotonic() + 60
                while "running: sites" not in log_path.read_text():
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise SystemExit(f"the hub did not start:\n{log_path.read_text()}")
                    time.sleep(0.2)
                time.sleep(3)
                result = asyncio.run(_run(args, f"ws://127.0.0.1:{ws_port}", proc.pid))
            finally:
                proc.terminate()
                proc.wait(20)
        text = log_path.read_text()
        result["tracebacks_in_log"] = text.count("Traceback")
        result["log_lines"] = text.count("\n")
        result["log_lines_top"] = _top_lines(text)
    result["internal_errors"] = result["codes"].get("InternalError", 0)
    print(json.dumps({k: v for k, v in result.items() if k != "by_class"}, indent=1))
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    return result


if __name__ == "__main__":
    main()
