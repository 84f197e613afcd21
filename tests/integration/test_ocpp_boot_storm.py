"""A boot storm, over real websockets: charge points all booting at once, impatient
firmware repeating its BootNotification every 0.1 s while Pending. The hub reads each
one's capabilities (and installs its profiles) at once, changes the settings of at most
``boot_concurrency`` at a time, answers the repeats from memory (no disk write, no event),
and every charge point ends Accepted and configured."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path
from typing import Any, ClassVar

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from tests.integration.ocpp_fixtures import make_config, running_hub
from tests.ocpp_client import TestChargePoint, connected

COUNT = 8
SLOTS = 2


class SlowToConfigure(TestChargePoint):
    """Takes 0.3 s to read and to change its configuration; counts how many charge
    points the hub reads, and changes, at once."""

    busy: ClassVar[dict[str, int]] = {"read": 0, "change": 0}
    most: ClassVar[dict[str, int]] = {"read": 0, "change": 0}

    async def _slow(self, what: str) -> None:
        cls = SlowToConfigure
        cls.busy[what] += 1
        cls.most[what] = max(cls.most[what], cls.busy[what])
        try:
            await asyncio.sleep(0.3)
        finally:
            cls.busy[what] -= 1

    @on(Action.get_configuration)
    async def on_get_configuration(self, key: list[str] | None = None) -> Any:
        await self._slow("read")
        return call_result.GetConfiguration(configuration_key=[], unknown_key=[])

    @on(Action.change_configuration)
    async def on_change_configuration(self, key: str, value: str) -> Any:
        await self._slow("change")
        return call_result.ChangeConfiguration(status="Accepted")


async def _impatient(url: str, cp_id: str) -> list[str]:
    async with connected(url, cp_id, SlowToConfigure) as cp:
        while not cp.booted.is_set():
            with contextlib.suppress(Exception):
                await cp.boot()
            await asyncio.sleep(0.1)  # not the 10 s interval it was told
        return list(cp.boots)


def test_a_boot_storm_is_configured_a_few_at_a_time_and_repeats_cost_nothing(
        tmp_path: Path) -> None:
    async def run() -> None:
        config = make_config(tmp_path, unknown_charge_points="accept",
                             boot_concurrency=SLOTS)
        async with running_hub(config) as hub:
            boots: dict[str, int] = {}
            hub.server.ctx.listeners.append(
                lambda cp, topic, _: boots.__setitem__(cp, boots.get(cp, 0) + 1)
                if topic == "boot" else None)
            answers = await asyncio.wait_for(asyncio.gather(
                *(_impatient(hub.url, f"STORM{i}") for i in range(COUNT))), 60)
            # The capabilities (and with them the profiles) are read at once: a rebooted
            # charge point may be drawing unconstrained; the settings are paced.
            assert SlowToConfigure.most == {"read": COUNT, "change": SLOTS}, (
                SlowToConfigure.most)
            # Each was told Pending many times while it waited, then Accepted.
            assert all(a[-1] == "Accepted" and a.count("Pending") >= 2 for a in answers)
            assert sum(len(a) for a in answers) > 4 * COUNT
            # Two boots each reached the store and the listeners: the first and the
            # accepted one; every repeat in between was answered from memory.
            assert boots == {f"STORM{i}": 2 for i in range(COUNT)}
            configured = hub.rows("SELECT count(*) FROM charge_points "
                                  "WHERE capabilities IS NOT NULL")
            assert configured[0][0] == COUNT
    asyncio.run(run())
