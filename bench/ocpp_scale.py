"""OCPP scale: N charge points (MeterValues every 60 s and every 10 s, Heartbeat every
300 s) against the engine, storing durably, and against a bare ``ocpp`` server that
stores nothing, in one run; the server pinned to one core, the load generator to the
other.

Reports calls/s, p50/p99 response and server CPU per call in the steady state (after the
boot storm: every charge point connects within max(5 s, N/1000 s), as after a blackout;
the storm's own p99 is shown apart, and "settled s" is when the last charge point was
Accepted), and the server's RSS. Targets (issue #24): p99 < 100 ms and engine CPU per
call ≤ 1.5 × the bare server's at 10,000 charge points (MeterValues every 60 s) and at
2,000 (every 10 s). Beyond what one core serves (about 650 calls/s for the engine) the
figures show the saturation: that is the sizing limit of a box (docs/installation.md).

Run: ``python -m bench.ocpp_scale [--sizes 100,600,2000,5000,10000]
[--meter-intervals 60,10] [--steady 60]`` (about 45 minutes for all); writes
bench/results/ocpp_scale.json and ocpp_scale.png.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TICK = os.sysconf("SC_CLK_TCK")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _wait_port(port: int, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on {port}")


def _pin(cpu: int) -> Any:
    """preexec_fn: run the child on one core (when there are two or more)."""
    def pin() -> None:
        if (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(0, {cpu})
    return pin


def _server(kind: str, port: int, workdir: Path) -> subprocess.Popen[bytes]:
    if kind == "bare":
        cmd = [sys.executable, "-m", "bench.bare_ocpp_server", "--port", str(port)]
    else:
        config = workdir / "hub.yaml"
        config.write_text(
            f"hub: {{data_dir: {workdir / 'data'}, log_level: warning}}\n"
            f"ocpp: {{host: 127.0.0.1, ws_port: {port}, tls: 'off', boot_spread_s: 10,"
            f" unknown_charge_points: accept, accept_all_id_tags: true}}\n"
            f"http: {{port: {_free_port()}}}\n"
            "sites: [{id: s, grid: {id: g, limit_a: 63}}]\n")
        cmd = [sys.executable, "-m", "hub_engine", "run", "--config", str(config)]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=(workdir / f"{kind}.log").open("wb"), preexec_fn=_pin(0))


def measure(kind: str, count: int, steady_s: float, meter_s: float = 10.0,
            heartbeat_s: float = 300.0) -> dict[str, Any]:
    # Every charge point connects within a few seconds, as after a blackout; the steady
    # window starts once the storm (boots, the hub's configuration calls) is over.
    ramp = max(5.0, count / 1000)
    warmup = ramp + max(30.0, count / 40)
    duration_s = warmup + steady_s
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        port = _free_port()
        server = _server(kind, port, workdir)
        try:
            _wait_port(port)
            load = subprocess.Popen(
                [sys.executable, "-m", "hub_engine.sim.loadgen", f"ws://127.0.0.1:{port}",
                 "--count", str(count), "--duration", str(duration_s),
                 "--meter-interval", str(meter_s), "--heartbeat-interval", str(heartbeat_s),
                 "--ramp", str(ramp), "--warmup", str(warmup)],
                cwd=ROOT, stdout=subprocess.PIPE, text=True, preexec_fn=_pin(1))
            # The boot storm (connections, the hub's configuration calls) is measured apart:
            # CPU per call is taken in the steady state that follows it.
            time.sleep(warmup)
            cpu0 = _cpu_s(server.pid)
            time.sleep(duration_s - warmup)  # the same window as the steady figures
            cpu = _cpu_s(server.pid) - cpu0
            rss = _rss_mb(server.pid)
            out, _ = load.communicate(timeout=duration_s + 600)
        finally:
            server.terminate()
            server.wait(30)
    row: dict[str, Any] = {"server": kind, "charge_points": count,
                           "meter_interval_s": meter_s, "heartbeat_interval_s": heartbeat_s,
                           **json.loads(out)}
    row["server_cpu_s"] = round(cpu, 2)
    row["server_rss_mb"] = round(rss, 1)
    row["cpu_ms_per_call"] = round(cpu * 1000 / max(1, row["steady_calls"]), 3)
    return row


def _plot(rows: list[dict[str, Any]]) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(14, 4.2))
    for kind, style in (("engine", "-o"), ("bare", "--s")):
        for interval in sorted({r["meter_interval_s"] for r in rows}, reverse=True):
            got = sorted((r for r in rows if r["server"] == kind
                          and r["meter_interval_s"] == interval),
                         key=lambda r: r["charge_points"])
            xs = [r["charge_points"] for r in got]
            label = f"{kind}, MeterValues {interval:.0f} s"
            axes[0].plot(xs, [r["steady_calls_per_s"] for r in got], style, label=label)
            axes[1].plot(xs, [r["steady_p99_ms"] for r in got], style, label=label)
            axes[2].plot(xs, [r["server_rss_mb"] for r in got], style, label=label)
    for ax, title in zip(axes, ("calls/s answered", "p99 response (ms)", "server RSS (MB)"),
                         strict=True):
        ax.set_xscale("log")
        ax.set_xlabel("charge points")
        ax.set_title(title)
    axes[1].set_yscale("log")
    axes[0].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(RESULTS / "ocpp_scale.png", dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> list[dict[str, Any]]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,600,2000,5000,10000")
    parser.add_argument("--meter-intervals", default="60,10")
    parser.add_argument("--heartbeat", type=float, default=300.0)
    parser.add_argument("--steady", type=float, default=60.0,
                        help="seconds measured after the boot storm")
    args = parser.parse_args(argv)
    rows = []
    header = (f"{'server':>7} {'CPs':>5} {'MV s':>4} {'calls/s':>8} {'p50 ms':>7} "
              f"{'p99 ms':>7} {'boot p99':>8} {'settled s':>9} {'CPU s':>6} {'ms/call':>8} "
              f"{'RSS MB':>7} {'errors':>6}")
    print(header, flush=True)
    for interval in (float(s) for s in args.meter_intervals.split(",")):
        for count in (int(s) for s in args.sizes.split(",")):
            pair = {}
            for kind in ("bare", "engine"):
                row = measure(kind, count, args.steady, interval, args.heartbeat)
                pair[kind] = row
                rows.append(row)
                print(f"{kind:>7} {count:>5} {interval:>4.0f} {row['steady_calls_per_s']:>8} "
                      f"{row['steady_p50_ms']:>7} {row['steady_p99_ms']:>7} "
                      f"{row['p99_ms']:>8} {row['all_accepted_s'] or '-':>9} "
                      f"{row['server_cpu_s']:>6} "
                      f"{row['cpu_ms_per_call']:>8} {row['server_rss_mb']:>7} "
                      f"{row['errors'] + row['timeouts']:>6}", flush=True)
            ratio = (pair["engine"]["cpu_ms_per_call"]
                     / max(1e-9, pair["bare"]["cpu_ms_per_call"]))
            pair["engine"]["cpu_ratio_vs_bare"] = round(ratio, 2)
            print(f"{'':>7} {count:>5} engine CPU per call = {ratio:.2f} × bare", flush=True)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / "ocpp_scale.json"
    out.write_text(json.dumps({"benchmark": "ocpp_scale", "steady_s": args.steady,
                               "heartbeat_interval_s": args.heartbeat,
                               "targets": {"p99_ms": 100, "cpu_ratio_max": 1.5,
                                           "cases": ["10000 @ 60 s", "2000 @ 10 s"]},
                               "results": rows}, indent=2) + "\n")
    _plot(rows)
    print(f"results written to {out} and ocpp_scale.png")
    return rows


if __name__ == "__main__":
    main()
