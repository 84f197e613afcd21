"""Crash test: the engine is SIGKILLed under load and restarted, again and again.

Every CALLRESULT the charge points received must be found in the databases, and the
sessions open at a crash go on after reconnection and close against the same transaction.
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]


def _engine(config: Path, log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "hub_engine", "run", "--config", str(config)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("ab"))


def _ms(ts: str) -> int:
    return int(datetime.fromisoformat(ts.replace("Z", "+00:00")).timestamp() * 1000)


def test_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "hub.yaml"
    config.write_text(
        f"hub: {{data_dir: {tmp_path / 'data'}}}\n"
        f"ocpp: {{host: 127.0.0.1, ws_port: {port}, tls: 'off', boot_spread_s: 1,"
        f" unknown_charge_points: accept, accept_all_id_tags: true}}\n"
        f"http: {{port: {free_port()}}}\n"
        "sites: [{id: s, grid: {id: g, limit_a: 63}}]\n")
    acks = tmp_path / "acks.jsonl"
    log = tmp_path / "engine.log"
    rng = random.Random(7)
    engine = _engine(config, log)
    time.sleep(1.0)
    load = subprocess.Popen(
        [sys.executable, "-m", "hub_engine.sim.loadgen", f"ws://127.0.0.1:{port}",
         "--count", "20", "--duration", "20", "--meter-interval", "0.3",
         "--heartbeat-interval", "2", "--ramp", "1", "--acks", str(acks)],
        cwd=ROOT, stdout=subprocess.PIPE, text=True)
    kills = 0
    try:
        while kills < 4:
            time.sleep(rng.uniform(2.0, 4.0))
            os.kill(engine.pid, signal.SIGKILL)
            engine.wait()
            kills += 1
            engine = _engine(config, log)
        out, _ = load.communicate(timeout=120)
    finally:
        load.kill()
        engine.send_signal(signal.SIGTERM)
        engine.wait(20)
    assert load.returncode == 0, "the load generator died (its traceback is above)"
    summary = json.loads(out)
    assert summary["unfinished"] == 0, summary
    assert summary["reconnects"] >= 20, "the kills did not hit the connections"

    records = [json.loads(line) for line in acks.read_text().splitlines()]
    core = sqlite3.connect(tmp_path / "data" / "core.db")
    samples = sqlite3.connect(tmp_path / "data" / "samples.db")
    txs = {row[0]: row[1:] for row in core.execute(
        "SELECT id, charge_point_id, meter_start_wh, meter_stop_wh, stopped_at, orphan"
        " FROM transactions")}
    energy = {(src, ts): v for src, ts, v in samples.execute(
        "SELECT source, ts_ms, value FROM samples JOIN series ON series.id = series_id"
        " WHERE measurand = 'Energy.Active.Import.Register'")}
    starts = stops = meters = 0
    for r in records:
        p = r["payload"]
        if r["action"] == "StartTransaction":
            starts += 1
            cp, meter_start = txs[r["result"]["transactionId"]][:2]
            assert (cp, meter_start) == (r["cp"], p["meterStart"])
        elif r["action"] == "StopTransaction":
            stops += 1
            row = txs[p["transactionId"]]
            assert row[0] == r["cp"] and row[2] == p["meterStop"] and row[3] is not None
            assert row[4] == 0, "a session open at a crash came back as an unknown id"
        elif r["action"] == "MeterValues":
            meters += 1
            mv = p["meterValue"][0]
            value = float(mv["sampledValue"][0]["value"])
            assert energy[(f"{r['cp']}/1", _ms(mv["timestamp"]))] == value
    assert starts == stops == 20
    # Enough MeterValues acknowledged for the check above to mean something. How many
    # depends on the machine: the engine is down about 3 s at each of its 4 restarts in
    # the 20 s of load (119 to 160 seen on 2 shared cores; > 150 failed 2 runs in 3).
    assert meters >= 60, meters
    assert core.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
