"""Keeps a simulated charge point connected: reconnects after a reset or a lost link,
boots, ticks its electronics and sends its MeterValues."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import websockets
from websockets.exceptions import ConnectionClosed, InvalidHandshake
from websockets.typing import Subprotocol

from hub_engine.sim.chargepoint import SimChargePoint, SimConfig
from hub_engine.sim.quirks import Quirk
from hub_engine.tasks import cancel_and_wait

__all__ = ["SimRunner", "running"]

log = logging.getLogger(__name__)


class SimRunner:
    def __init__(self, config: SimConfig, url: str, tick_s: float | None = 0.5,
                 **connect: Any) -> None:
        self.config = config
        self.url = url
        self.tick_s = tick_s  # None: someone else (a scenario) ticks the charge point
        self.connect = connect
        self.cp: SimChargePoint | None = None
        self.connected = asyncio.Event()
        self.connections = 0
        self._stop = False
        # A link drop (drop_link): no connection before this time, and no BootNotification
        # on the next one (the charge point did not reboot; the hub asks for one).
        self._down_until = 0.0
        self._no_boot_once = False
        self._powered_off = False

    async def run(self) -> None:
        ticker = asyncio.create_task(self._tick() if self.tick_s else asyncio.sleep(0))
        try:
            backoff = 0.1
            while not self._stop:
                try:
                    await self._session()
                    backoff = 0.1
                except (ConnectionClosed, OSError, InvalidHandshake, TimeoutError) as exc:
                    log.debug("%s: connection lost: %s", self.config.id, exc)
                self.connected.clear()
                if not self._stop:
                    await asyncio.sleep(max(backoff, self._down_until - time.monotonic()))
                    backoff = min(backoff * 2, 5.0)
        finally:
            await cancel_and_wait(ticker)

    async def _session(self) -> None:
        ping = None if Quirk.NO_WEBSOCKET_PING in self.config.quirks else 20
        async with websockets.connect(f"{self.url}/{self.config.id}",
                                      subprotocols=[Subprotocol("ocpp1.6")],
                                      ping_interval=ping, **self.connect) as ws:
            self.connections += 1
            if self.cp is None:
                self.cp = SimChargePoint(self.config, ws)
            else:
                self.cp._connection = ws  # same charge point, new link (after a reboot)
            if self._powered_off:  # power is back: it boots, the car may charge again
                self._powered_off = self.cp.power_cut = False
            reader = asyncio.create_task(self.cp.start())
            try:
                if not (self._no_boot_once and self.cp.accepted.is_set()):
                    await self.cp.boot_until_accepted()
                self._no_boot_once = False
                for conn in list(self.cp.connectors.values()):  # as real ones do after boot
                    await self.cp.status(conn, conn.status)
                self.connected.set()
                meters = asyncio.create_task(self._meter_values(self.cp))
                try:
                    await reader
                finally:
                    meters.cancel()
            finally:
                reader.cancel()
                with contextlib.suppress(BaseException):
                    await reader

    async def _tick(self) -> None:
        assert self.tick_s is not None
        last = time.monotonic()
        while True:
            await asyncio.sleep(self.tick_s)
            now = time.monotonic()
            if self.cp is not None:
                self.cp.tick(now - last, now)
            last = now

    async def _meter_values(self, cp: SimChargePoint) -> None:
        # In real seconds, never below one: a sped-up site must not flood the hub.
        interval = self.config.meter_interval_s / self.config.speed
        while True:
            await asyncio.sleep(interval if self.config.speed == 1 else max(1.0, interval))
            for conn in cp.connectors.values():
                if conn.transaction_id is not None:
                    await cp.send_meter_values(conn)

    async def drop_link(self, down_s: float) -> None:
        """The network goes away for ``down_s`` (the charge point keeps running)."""
        self._down_until = time.monotonic() + down_s
        self._no_boot_once = True
        if self.cp is not None:
            with contextlib.suppress(Exception):
                await self.cp._connection.close()

    async def power_off(self, down_s: float) -> None:
        """Its supply is cut for ``down_s``: the car stops at once, the link goes, and it
        reboots when power is back (the hub keeps its last MeterValues meanwhile)."""
        self._down_until = time.monotonic() + down_s
        self._no_boot_once = False
        if self.cp is not None:
            self._powered_off = self.cp.power_cut = True
            self.cp.reboot()
            with contextlib.suppress(Exception):
                await self.cp._connection.close()

    def stop(self) -> None:
        self._stop = True


@contextlib.asynccontextmanager
async def running(config: SimConfig, url: str, tick_s: float | None = 0.5,
                  **connect: Any) -> AsyncIterator[SimRunner]:
    """A connected, accepted simulated charge point for the duration of the block."""
    runner = SimRunner(config, url, tick_s, **connect)
    task = asyncio.create_task(runner.run())
    try:
        await asyncio.wait_for(runner.connected.wait(), 30)
        yield runner
    finally:
        runner.stop()
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
