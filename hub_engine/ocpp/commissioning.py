"""The fail-safe commissioning test: does this model let a dynamic limit expire?

DESIGN "The EMS": the fallback only protects the site if the charge point really drops
a dynamic profile at its ``validTo``. Some firmware never does. So each model (vendor,
model, firmware) is tested once, automatically, on an idle connector (no car) of the
first of its charge points that is accepted:

1. a TxDefaultProfile above the dynamic one (stack 2; on stack-0-only firmware in the
   fallback's own slot), limit 6 A (7 A if 6 A is what lies underneath), valid
   ``test_s``; the EMS counts the connector at that limit meanwhile (at its maximum when
   the fallback's slot is used) and sends it nothing;
2. GetCompositeSchedule must show the test limit: the charge point computes with our
   profiles (if it cannot say, the model stays ``unknown`` and is tried again later);
3. after ``test_s`` and a margin, GetCompositeSchedule must show something else (what
   lies underneath): ``verified``; the test limit still: ``failed`` (validTo ignored).
   The test profile is cleared and the fallback put back either way.

Until a model is verified the EMS never gives its charge points more than their
fallback, so a hub that dies leaves the site as safe as the fallbacks are.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from datetime import timedelta
from typing import Any

from ocpp.v16 import call

from hub_engine.clock import iso_utc
from hub_engine.ems.apply import Applier
from hub_engine.ocpp import repo
from hub_engine.ocpp.boot import install_base_profiles
from hub_engine.ocpp.server import OcppServer
from hub_engine.ocpp.station import Station

__all__ = ["Commissioner"]

log = logging.getLogger(__name__)
_TEST_ID = 2000
_MARGIN_S = 5.0


def _name(identity: tuple[str, str, str]) -> str:
    return " ".join(part for part in identity if part) or "(unnamed)"


class Commissioner:
    """Starts one test per untested model on an idle connector (an EMS record listener)."""

    def __init__(self, server: OcppServer, applier: Applier, test_s: float = 60.0,
                 retry_s: float = 600.0) -> None:
        self.server, self.applier = server, applier
        self.test_s, self.retry_s = test_s, retry_s
        self.running: dict[tuple[str, str, str], asyncio.Task[None]] = {}
        self.results: dict[tuple[str, str, str], tuple[str, str]] = {}
        self._tried: dict[tuple[str, str, str], float] = {}

    def __call__(self, record: dict[str, Any]) -> None:
        now = self.server.ctx.clock.monotonic()
        for conn in record["connectors"]:
            cp_id, _, n = conn["id"].partition("/")
            station = self.server.stations.get(cp_id)
            if station is None or station.failsafe != "unknown" or station.boot_state != (
                    "accepted") or station.identity in self.running or (
                    now - self._tried.get(station.identity, -1e18) < self.retry_s):
                continue
            if (conn["session"] is not None or not conn["responsive"]
                    or station.connector_status.get(int(n)) not in (None, "Available")):
                continue
            self._tried[station.identity] = now
            key = station.identity
            task = asyncio.create_task(self._test(station, int(n), conn))
            self.running[key] = task
            task.add_done_callback(functools.partial(self._done, key))

    def _done(self, key: tuple[str, str, str], _task: asyncio.Task[None]) -> None:
        self.running.pop(key, None)

    async def stop(self) -> None:
        for task in list(self.running.values()):
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)

    async def _composite(self, station: Station, n: int) -> float | None:
        try:
            resp = await station.request(call.GetCompositeSchedule(
                connector_id=n, duration=60, charging_rate_unit="A"), timeout_s=10)
        except Exception as exc:
            log.info("%s: GetCompositeSchedule failed: %s", station.id, exc)
            return None
        schedule = getattr(resp, "charging_schedule", None) or {}
        periods = schedule.get("charging_schedule_period") or []
        if resp.status != "Accepted" or not periods:
            return None
        return float(periods[0]["limit"])

    async def _test(self, station: Station, n: int, conn: dict[str, Any]) -> None:
        cid = f"{station.id}/{n}"
        fallback_slot = station.layout.dynamic_stack == 0
        below = {conn["limit_a"], (conn["fallback"] or 0.0)}
        test_a = 7.0 if 6.0 in below else 6.0
        now = station.ctx.clock.now()
        profile = {
            "chargingProfileId": 100 + n if fallback_slot else _TEST_ID + n,
            "stackLevel": 0 if fallback_slot else 2,
            "chargingProfilePurpose": "TxDefaultProfile", "chargingProfileKind": "Absolute",
            "validTo": iso_utc(now + timedelta(seconds=self.test_s)),
            "chargingSchedule": {"chargingRateUnit": "A",
                                 "startSchedule": iso_utc(now - timedelta(minutes=1)),
                                 "chargingSchedulePeriod": [{"startPeriod": 0,
                                                             "limit": test_a}]}}
        log.info("%s: commissioning test of model %s: %.0f A valid %.0f s", cid,
                 _name(station.identity), test_a, self.test_s)
        self.applier.hold_for_test(cid, None if fallback_slot else test_a)
        try:
            result, detail = await self._run(station, n, profile, test_a)
        finally:
            with contextlib.suppress(Exception):
                await station.request(call.ClearChargingProfile(id=profile["chargingProfileId"]),
                                      timeout_s=10)
            if fallback_slot:
                with contextlib.suppress(Exception):
                    await install_base_profiles(station, station.ctx.charge_points[station.id])
            self.applier.release_test(cid)
        self.results[station.identity] = (result, detail)
        log.log(logging.INFO if result == "verified" else logging.WARNING,
                "%s: model %s fail-safe %s: %s", cid, _name(station.identity), result, detail)
        if result != "unknown":
            await station.ctx.store.core.write(repo.set_model_failsafe(
                station.identity, result, station.id, detail, station.ctx.clock.now()))
            for other in self.server.stations.values():
                if other.identity == station.identity:
                    other.failsafe = result

    async def _run(self, station: Station, n: int, profile: dict[str, Any],
                   test_a: float) -> tuple[str, str]:
        try:
            resp = await station.request(call.SetChargingProfile(
                connector_id=n, cs_charging_profiles=profile), timeout_s=10)
        except Exception as exc:
            return "unknown", f"test profile not sent: {exc}"
        if resp.status != "Accepted":
            return "unknown", f"test profile {resp.status}"
        during = await self._composite(station, n)
        if during is None or abs(during - test_a) > 0.1:
            return "unknown", f"the composite schedule does not show the test limit ({during})"
        await station.ctx.clock.sleep(self.test_s + _MARGIN_S)
        after = await self._composite(station, n)
        if after is None:
            return "unknown", "no composite schedule after expiry"
        if abs(after - test_a) <= 0.1:
            return "failed", (f"still {test_a:.0f} A {self.test_s + _MARGIN_S:.0f} s after its"
                              " validTo: this model ignores validTo")
        return "verified", f"{test_a:.0f} A until validTo, then {after:.1f} A"
