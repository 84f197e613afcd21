"""A light OCPP 1.6J load generator: many charge points in one process, raw frames.

No schema validation and no ``ocpp`` library on this side, so the generator costs little
next to the server it measures. Each charge point boots (answering the hub's
configuration calls), opens a session, then sends MeterValues and Heartbeats on a period,
and closes its session at the end. Transaction-related messages that got no answer are
sent again after a reconnection, as real firmware does, so a crash of the hub can be
checked against what was acknowledged.

Run: ``python -m hub_engine.sim.loadgen ws://127.0.0.1:9000 --count 100 --duration 60``;
it prints a JSON summary; ``--acks FILE`` writes one JSON line per CALLRESULT received.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TextIO

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from hub_engine.clock import SystemClock, iso_utc
from hub_engine.ops.heap import HeapKeeper

__all__ = ["Plan", "Stats", "run"]

_ANSWERS = {
    "GetConfiguration": {"configurationKey": [
        {"key": "NumberOfConnectors", "readonly": True, "value": "1"},
        {"key": "ChargeProfileMaxStackLevel", "readonly": True, "value": "3"}],
        "unknownKey": []},
    "GetLocalListVersion": {"listVersion": 0},
    "GetDiagnostics": {},
    "UpdateFirmware": {},
}


@dataclass(frozen=True)
class Plan:
    url: str
    count: int = 10
    duration_s: float = 30.0
    meter_interval_s: float = 10.0
    heartbeat_interval_s: float = 60.0
    prefix: str = "LG"
    ramp_s: float = 5.0
    call_timeout_s: float = 30.0
    warmup_s: float = 0.0
    # Pending: wait the interval the hub gives (as OCPP 1.6 asks) or a TriggerMessage;
    # at most this long (impatient firmware: a small value; 0.5 s hammers the hub).
    boot_retry_max_s: float = 60.0


@dataclass
class Stats:
    latencies_ms: list[float] = field(default_factory=list)
    done_at: list[float] = field(default_factory=list)  # monotonic time of each answer
    calls: int = 0
    errors: int = 0
    timeouts: int = 0
    reconnects: int = 0

    def summary(self, start: float, end: float, warmup_s: float = 0.0,
                steady_end: float | None = None) -> dict[str, Any]:
        """Totals, and the steady state: answers after ``warmup_s`` (the boot storm) and
        before ``steady_end`` (the simultaneous StopTransactions of the end of the run)."""

        def pct(lat: list[float], p: float) -> float:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else 0.0

        lat = sorted(self.latencies_ms)
        cut = start + warmup_s
        stop = end if steady_end is None else steady_end
        steady = sorted(v for v, t in zip(self.latencies_ms, self.done_at, strict=True)
                        if cut <= t < stop)
        elapsed = end - start
        return {"calls": self.calls, "errors": self.errors, "timeouts": self.timeouts,
                "reconnects": self.reconnects, "elapsed_s": round(elapsed, 1),
                "calls_per_s": round(self.calls / elapsed, 1) if elapsed else 0.0,
                "p50_ms": pct(lat, 0.5), "p99_ms": pct(lat, 0.99), "max_ms": pct(lat, 1.0),
                "steady_calls": len(steady),
                "steady_calls_per_s": round(len(steady) / (stop - cut), 1) if stop > cut else 0,
                "steady_p50_ms": pct(steady, 0.5), "steady_p99_ms": pct(steady, 0.99)}


def _now() -> str:
    return iso_utc(datetime.now(UTC))


class _Station:
    def __init__(self, cp_id: str, plan: Plan, stats: Stats, acks: TextIO | None,
                 deadline: float) -> None:
        self.id = cp_id
        self.plan, self.stats, self.acks, self.deadline = plan, stats, acks, deadline
        self.ids = (f"{cp_id}-{n}" for n in itertools.count())
        self.pending: dict[str, asyncio.Future[Any]] = {}
        self.ws: Any = None
        self.meter_wh = random.randint(0, 10**6)
        self.tx: int | None = None
        self.unanswered: list[tuple[str, dict[str, Any]]] = []  # transaction messages
        self.clock = datetime.now(UTC)
        self.boot_asked = asyncio.Event()  # TriggerMessage(BootNotification) received
        self.reader: asyncio.Task[None] = asyncio.Future()  # type: ignore[assignment]
        self.accepted_at: float | None = None  # first Accepted (monotonic)

    def _ts(self) -> str:
        # Strictly increasing timestamps, so every MeterValues is a distinct sample.
        self.clock = max(self.clock + timedelta(milliseconds=1), datetime.now(UTC))
        return iso_utc(self.clock)

    async def call(self, action: str, payload: dict[str, Any]) -> Any:
        uid = next(self.ids)
        fut: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self.pending[uid] = fut
        t0 = time.perf_counter()
        await self.ws.send(f'[2,"{uid}","{action}",{json.dumps(payload)}]')
        try:
            result = await asyncio.wait_for(fut, self.plan.call_timeout_s)
        except TimeoutError:
            self.stats.timeouts += 1
            raise
        finally:
            self.pending.pop(uid, None)
        self.stats.latencies_ms.append((time.perf_counter() - t0) * 1000)
        self.stats.done_at.append(time.monotonic())
        self.stats.calls += 1
        if self.acks is not None:
            self.acks.write(json.dumps({"cp": self.id, "action": action, "uid": uid,
                                        "payload": payload, "result": result}) + "\n")
            self.acks.flush()
        return result

    async def _reader(self) -> None:
        async for raw in self.ws:
            msg = json.loads(raw)
            if msg[0] in (3, 4):
                fut = self.pending.get(msg[1])
                if fut is not None and not fut.done():
                    if msg[0] == 3:
                        fut.set_result(msg[2])
                    else:
                        self.stats.errors += 1
                        fut.set_exception(RuntimeError(f"CALLERROR {msg[2]}"))
            elif msg[0] == 2:
                answer = _ANSWERS.get(msg[2], {"status": "Accepted"})
                await self.ws.send(json.dumps([3, msg[1], answer]))
                if msg[2] == "TriggerMessage" and msg[3].get(
                        "requestedMessage") == "BootNotification":
                    self.boot_asked.set()

    async def _transaction(self, action: str, payload: dict[str, Any]) -> Any:
        """Send a transaction message; kept for a resend until it is answered."""
        self.unanswered.append((action, payload))
        result = await self.call(action, payload)
        self.unanswered.remove((action, payload))
        return result

    async def _session(self) -> None:
        for action, payload in list(self.unanswered):  # after a reconnection
            result = await self.call(action, payload)
            self.unanswered.remove((action, payload))
            if action == "StartTransaction":
                self.tx = result["transactionId"]
            elif action == "StopTransaction":
                self.tx = None
        if self.tx is None:
            await self.call("StatusNotification", {"connectorId": 1, "errorCode": "NoError",
                                                   "status": "Charging", "timestamp": _now()})
            result = await self._transaction("StartTransaction", {
                "connectorId": 1, "idTag": "LOADGEN", "meterStart": self.meter_wh,
                "timestamp": self._ts()})
            self.tx = result["transactionId"]
        next_hb = time.monotonic() + self.plan.heartbeat_interval_s * random.random()
        # Sessions start at any time: each charge point's samples have their own phase
        # (all in step after a mass boot, they came in one burst each interval).
        wait_s = self.plan.meter_interval_s * random.random()
        while time.monotonic() < self.deadline:
            await asyncio.sleep(min(wait_s, self.deadline - time.monotonic()))
            wait_s = self.plan.meter_interval_s
            if time.monotonic() >= self.deadline:
                break
            self.meter_wh += random.randint(100, 2000)
            await self._transaction("MeterValues", {
                "connectorId": 1, "transactionId": self.tx, "meterValue": [{
                    "timestamp": self._ts(), "sampledValue": [
                        {"value": str(self.meter_wh), "measurand":
                         "Energy.Active.Import.Register", "unit": "Wh"},
                        {"value": "16.0", "measurand": "Current.Import", "phase": "L1",
                         "unit": "A"}]}]})
            if time.monotonic() >= next_hb:
                await self.call("Heartbeat", {})
                next_hb += self.plan.heartbeat_interval_s
        await self._transaction("StopTransaction", {
            "transactionId": self.tx, "meterStop": self.meter_wh, "timestamp": self._ts(),
            "reason": "Local"})
        self.tx = None

    async def run(self) -> None:
        await asyncio.sleep(random.random() * self.plan.ramp_s)
        backoff = 0.2
        done = False
        while not done and (time.monotonic() < self.deadline + 60):
            try:
                async with websockets.connect(f"{self.plan.url}/{self.id}",
                                              subprotocols=[Subprotocol("ocpp1.6")],
                                              open_timeout=30,
                                              ping_interval=None, close_timeout=1) as ws:
                    self.ws = ws
                    reader = self.reader = asyncio.create_task(self._reader())
                    try:
                        await self._boot()
                        await self._session()
                        done = True
                    finally:
                        reader.cancel()
                        with contextlib.suppress(BaseException):
                            await reader
                backoff = 0.2
            except (ConnectionClosed, OSError, TimeoutError, InvalidHandshake, RuntimeError):
                # InvalidHandshake: the engine died mid-handshake (killed, restarting)
                self.stats.reconnects += 1
                await asyncio.sleep(backoff + random.random() * backoff)
                backoff = min(backoff * 2, 3.0)

    async def _boot(self) -> None:
        while True:
            self.boot_asked.clear()  # before asking: a trigger may come before the answer
            result = await self.call("BootNotification", {"chargePointVendor": "LoadGen",
                                                          "chargePointModel": "LG-1"})
            if result["status"] == "Accepted":
                if self.accepted_at is None:
                    self.accepted_at = time.monotonic()
                return
            wait_s = min(float(result.get("interval") or 1), self.plan.boot_retry_max_s)
            asked = asyncio.ensure_future(self.boot_asked.wait())
            try:
                await asyncio.wait({asked, self.reader}, timeout=wait_s,
                                   return_when=asyncio.FIRST_COMPLETED)
            finally:
                asked.cancel()
            if self.reader.done():
                raise RuntimeError("connection lost while Pending")


async def run(plan: Plan, acks: TextIO | None = None) -> dict[str, Any]:
    stats = Stats()
    start = time.monotonic()
    deadline = start + plan.duration_s
    stations = [_Station(f"{plan.prefix}{i:05d}", plan, stats, acks, deadline)
                for i in range(plan.count)]
    # Thousands of connections make a heap whose full collections stall this process for
    # up to a second, counted as the server's latency: kept off the collector as the hub's.
    heap = HeapKeeper(SystemClock(), freeze_every_s=5.0)
    await heap.start()
    try:
        await asyncio.gather(*(s.run() for s in stations))
    finally:
        await heap.stop()
    summary = stats.summary(start, time.monotonic(), plan.warmup_s, steady_end=deadline)
    summary["unfinished"] = sum(1 for s in stations if s.unanswered)
    accepted = [s.accepted_at for s in stations if s.accepted_at is not None]
    summary["accepted"] = len(accepted)
    # The boot storm settled: every charge point Accepted (seconds from the start).
    summary["all_accepted_s"] = (round(max(accepted) - start, 1)
                                 if len(accepted) == len(stations) and accepted else None)
    return summary


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OCPP 1.6J load generator")
    parser.add_argument("url")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--meter-interval", type=float, default=10.0)
    parser.add_argument("--heartbeat-interval", type=float, default=60.0)
    parser.add_argument("--ramp", type=float, default=5.0)
    parser.add_argument("--prefix", default="LG")
    parser.add_argument("--warmup", type=float, default=0.0,
                        help="seconds excluded from the steady-state figures")
    parser.add_argument("--acks", help="write every acknowledged call here (JSON lines)")
    parser.add_argument("--boot-retry-max", type=float, default=60.0,
                        help="Pending: retry the boot after at most this (impatient firmware)")
    args = parser.parse_args(argv)
    plan = Plan(args.url, args.count, args.duration, args.meter_interval,
                args.heartbeat_interval, args.prefix, args.ramp, warmup_s=args.warmup,
                boot_retry_max_s=args.boot_retry_max)
    acks = open(args.acks, "a", encoding="utf-8") if args.acks else None  # noqa: SIM115
    try:
        summary = asyncio.run(run(plan, acks))
    finally:
        if acks is not None:
            acks.close()
    json.dump(summary, sys.stdout)
    print()


if __name__ == "__main__":
    main()
