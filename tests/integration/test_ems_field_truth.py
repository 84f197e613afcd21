"""The EMS against what real charge points report and do (issue "EMS field truth"): each
case is a simulator quirk or fault, run closed loop over real websockets with breakers."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from pathlib import Path

import pytest
from ocpp.v16 import call

from hub_engine.config import parse_config
from hub_engine.ems.external import LimitRequest
from hub_engine.sim.chargepoint import SimConfig
from hub_engine.sim.ev import EV
from hub_engine.sim.quirks import Quirk
from tests.integration.ems_harness import (
    EMS_FAST,
    HEAD,
    REACTION_S,
    running_site,
    site_config,
)


def _quirky(quirks: dict[str, set[Quirk]]):  # type: ignore[no-untyped-def]
    def sims(cp_id: str) -> SimConfig:
        return SimConfig(cp_id, apply_delay_s=1.0, meter_interval_s=1.0,
                         quirks=frozenset(quirks.get(cp_id, set())))
    return sims


async def test_currents_without_phase_labels_count_on_every_phase(tmp_path: Path) -> None:
    """Three 3-phase cars on charge points wired with three rotations, reporting one
    unlabelled Current.Import (or L1 only): read as single-phase they would each be given
    32 A on "their" phase and every grid phase would carry 96 A on a 63 A supply."""
    body = """
sites:
  - id: s
    grid:
      id: grid
      limit_a: 200
      meter: m
      meter_fallback_load_a: 10
      children:
        - id: td  # the car park's board: no meter of its own, a 63 A breaker
          limit_a: 63
          margin_a: 3
          charge_points: [{id: CP1}, {id: CP2, rotation: L2L3L1},
                          {id: CP3, rotation: L3L1L2}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""
    quirks = {"CP1": {Quirk.CURRENT_NO_PHASE}, "CP2": {Quirk.CURRENT_NO_PHASE},
              "CP3": {Quirk.CURRENT_L1_ONLY}}
    async with running_site(site_config(tmp_path, body), _quirky(quirks)) as site:
        t0 = time.monotonic()
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0, phases=3))
        await asyncio.sleep(12)
        assert site.trace.max_import_after(t0 + REACTION_S) <= 60.0 + 0.01
        assert not site.sim.report.trips, site.sim.report.trips
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        assert all(19.5 <= a <= 20.1 for a in cars.values()), cars
        record = {c["id"]: c["session"] for c in site.loop.record["connectors"]}
        assert all(s["ev_phases"] is None and "without phase labels" in s["phases_basis"]
                   for s in record.values()), record


async def test_labelled_currents_still_detect_a_single_phase_car(tmp_path: Path) -> None:
    """The other side: with L1, L2, L3 labelled, a 1-phase car is seen as such and its
    neighbours on the other phases get the room it leaves."""
    body = """
sites:
  - id: s
    grid:
      id: grid
      limit_a: 40
      margin_a: 2
      meter: m
      meter_fallback_load_a: 10
      charge_points: [{id: CP1}, {id: CP2, rotation: L2L3L1}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""
    async with running_site(site_config(tmp_path, body)) as site:
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0, phases=1))
        await site.cp("CP2").plug(1, EV(max_current_a=32, ramp_s=1.0, phases=1))
        await asyncio.sleep(12)
        record = {c["id"]: c["session"] for c in site.loop.record["connectors"]}
        assert record["CP1/1"]["ev_phases"] == 1, record
        assert record["CP1/1"]["phases_basis"] == "1 measured (labelled currents)"
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        assert cars == {"CP1": 32.0, "CP2": 32.0}, cars  # one on L1, one on L2
        assert not site.sim.report.trips


async def test_a_current_in_milliamps_is_rejected_not_subtracted(tmp_path: Path) -> None:
    """A firmware sending mA as A reports 16,000 A: subtracted from the grid meter it made
    the building's load hugely negative and every car got its maximum (+43 % on the
    breaker). It is rejected and alerted; the site stays under its limit."""
    body = """
sites:
  - id: s
    grid:
      id: grid
      limit_a: 100
      margin_a: 3
      meter: m
      meter_fallback_load_a: 20
      charge_points: [{id: CP1}, {id: CP2}, {id: CP3}, {id: CP4}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""
    alerts: list[tuple[str, str]] = []
    async with running_site(site_config(tmp_path, body),
                            _quirky({"CP1": {Quirk.CURRENT_IN_MA}})) as site:
        site.server.ctx.listeners.append(lambda cp, topic, data: alerts.append((cp, topic)))
        site.sim.extra_load_a = (15.0, 15.0, 15.0)
        t0 = time.monotonic()
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(18)  # the last rise, under 1 A, is paced (5 × 1.5 s)
        assert site.trace.max_import_after(t0 + REACTION_S) <= 97.0 + 0.01
        assert not site.sim.report.trips
        assert ("CP1", "reading.rejected") in alerts
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        # Not starved either: CP1's unmeasured draw reads as building load (counted twice,
        # on the safe side), so 4 × 16.4 A of the 82 A left by the building.
        assert sum(cars.values()) >= 64, cars
        stored = site.rows("SELECT max(s.value) FROM samples s JOIN series r ON r.id = "
                           "s.series_id WHERE r.source = 'CP1/1' AND r.measurand = "
                           "'Current.Import'", db="samples")
        assert stored[0][0] is None or stored[0][0] <= 48  # none of it in the samples


THREE = """
sites:
  - id: s
    grid:
      id: grid
      limit_a: 40
      margin_a: 2
      meter: m
      meter_fallback_load_a: 20
      charge_points: [{id: CP1}, {id: CP2}, {id: CP3}]
meters: [{id: m, driver: static, options: {current_a: [0, 0, 0]}}]
"""
ONE = THREE.replace("[{id: CP1}, {id: CP2}, {id: CP3}]", "[{id: CP1}]")
TWO = THREE.replace("[{id: CP1}, {id: CP2}, {id: CP3}]", "[{id: CP1}, {id: CP2}]").replace(
    "meter_fallback_load_a: 20", "meter_fallback_load_a: 10")


async def test_an_increase_whose_answer_is_lost_counts_until_a_lower_one_is_confirmed(
        tmp_path: Path) -> None:
    """CP1 applies an increase but its CALLRESULT is lost. Counted back at its old limit,
    the hub would later "keep" that old limit without sending it again and give CP1's
    extra amps to the others: 12.6 + 15 + 15 A on a 38 A budget until the next refresh."""
    ems = EMS_FAST.replace("profile_validity_s: 6", "profile_validity_s: 120").replace(
        "ignore_after_s: 4", "ignore_after_s: 60")  # the default: not the safety net here

    def cap_cp1(limit_a: float) -> None:
        site.loop.external.set(LimitRequest(
            target="CP1/1", source="test", limit_a=limit_a,
            expires_at=site.loop.clock.now() + timedelta(minutes=5)))
        site.loop.wake()

    async with running_site(site_config(tmp_path, THREE, ems)) as site:
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        cap_cp1(8)
        steady = {"CP1": 8.0, "CP2": 15.0, "CP3": 15.0}
        for _ in range(40):  # the non-charging window (5 s) holds the ramps' readings
            await asyncio.sleep(0.5)
            if site.trace.cars_at(time.monotonic() - 0.2) == steady:
                break
        assert site.trace.cars_at(time.monotonic() - 0.2) == steady
        cp1 = site.cp("CP1")
        cp1.lose_answers = 1.0
        site.loop.external.clear("CP1/1", "test")  # CP1 is raised to 12.6 A
        site.loop.wake()
        for _ in range(60):
            await asyncio.sleep(0.1)
            if cp1.answers_lost:
                break
        await asyncio.sleep(0.3)  # a physics tick
        # Raised (to 12.6 A, or part of the way while the others' decreases settle).
        assert cp1.answers_lost == 1 and cp1.connectors[1].target_a > 8.0
        cp1.lose_answers = 0.0
        t_cap = time.monotonic()
        cap_cp1(8)  # while the lost call waits for its answer
        await asyncio.sleep(10 + REACTION_S + 8)  # the lost call times out (10 s), then on
        assert site.trace.max_import_after(t_cap + REACTION_S) <= 38.0 + 0.01
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        assert cars == {"CP1": 8.0, "CP2": 15.0, "CP3": 15.0}, cars
        assert not site.sim.report.trips


async def test_an_expired_limit_counts_at_the_fallback_the_charge_point_runs_on(
        tmp_path: Path) -> None:
    """CP1's car is paused (0 A) and CP1 refuses every refresh: its dynamic profile
    expires and it falls back to its 6 A fallback. Still counted at 0 A, the others would
    share all 38 A: 44 A on a 40 A supply."""
    ems = EMS_FAST.replace("ignore_after_s: 4", "ignore_after_s: 60")
    async with running_site(site_config(tmp_path, THREE, ems)) as site:
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        site.loop.external.set(LimitRequest(
            target="CP1/1", source="test", limit_a=0,
            expires_at=site.loop.clock.now() + timedelta(minutes=5)))
        site.loop.wake()
        for _ in range(30):  # the non-charging window (5 s) holds the ramps' readings
            await asyncio.sleep(0.5)
            cars = site.trace.cars_at(time.monotonic() - 0.2)
            if cars == {"CP1": 0.0, "CP2": 19.0, "CP3": 19.0}:
                break
        assert cars == {"CP1": 0.0, "CP2": 19.0, "CP3": 19.0}, cars
        assert site.loop.fallbacks.sent["CP1/1"] == 6.0
        t_refuse = time.monotonic()
        site.cp("CP1").refuse_profiles = True
        await asyncio.sleep(6 + 2 + REACTION_S + 3)  # validity, refresh, then the window
        assert site.cp("CP1").connectors[1].current_a == 6.0  # on its fallback
        record = {c["id"]: c for c in site.loop.record["connectors"]}
        assert site.trace.max_import_after(t_refuse + 6 + REACTION_S) <= 38.0 + 0.01, (
            [(c["id"], c["limit_a"], c["may_draw_a"], c["reason"]) for c in record.values()],
            site.loop.record["nodes"], site.loop.applier.states["CP1/1"])
        assert record["CP1/1"]["may_draw_a"] == 6.0
        assert not site.sim.report.trips


async def test_a_session_the_charge_point_forgot_is_closed_and_its_share_freed(
        tmp_path: Path) -> None:
    """CP2 reboots and loses its transaction (no StopTransaction will ever come), then
    reports its connector free. Left open, the session kept half the site for an empty
    connector and the only car was held at 19 A."""
    async with running_site(site_config(tmp_path, THREE), _quirky(
            {"CP2": {Quirk.TRANSACTIONS_LOST_ON_REBOOT}})) as site:
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await site.cp("CP2").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(6)
        assert site.trace.cars_at(time.monotonic() - 0.2) == {"CP1": 19.0, "CP2": 19.0,
                                                              "CP3": 0.0}
        cp2 = site.cp("CP2")
        cp2.connectors[1].ev = None  # the driver leaves during the outage
        cp2.reboot()
        await cp2._connection.close()
        await asyncio.sleep(2)
        await asyncio.wait_for(site.runners["CP2"].connected.wait(), 30)
        await asyncio.sleep(REACTION_S + 4)
        assert site.trace.cars_at(time.monotonic() - 0.2)["CP1"] == 32.0
        open_sessions = site.rows("SELECT charge_point_id FROM transactions WHERE "
                                  "stopped_at IS NULL")
        assert open_sessions == [("CP1",)]
        closed = site.rows("SELECT stop_reason, closed_by_hub, energy_wh > 0 FROM "
                           "transactions WHERE charge_point_id = 'CP2'")
        assert closed == [("ClosedByHub", "status Available with no transaction", 1)]
        record = {c["id"]: c for c in site.loop.record["connectors"]}
        assert record["CP2/1"]["session"] is None
        assert not site.sim.report.trips


async def test_an_offline_charge_point_keeps_its_share_not_its_maximum(
        tmp_path: Path) -> None:
    """CP1's network drops for 20 s; it keeps charging its car on its last limit (then on
    its fallback). Counted at its 32 A maximum meanwhile, it cut both other cars to 3 A
    (paused). It is reserved at the higher of its last limit and its fallback instead,
    and a reconnection without a reboot changes nothing."""
    async with running_site(site_config(tmp_path, THREE)) as site:
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(8)
        t_drop = time.monotonic()
        await site.runners["CP1"].drop_link(20)
        await asyncio.sleep(15)
        during = [c for t, c in site.trace.cars if t >= t_drop + REACTION_S]
        assert min(c["CP2"] + c["CP3"] for c in during) >= 25.0, during[-1]
        assert site.trace.max_import_after(t_drop) <= 38.0 + 0.01
        await asyncio.wait_for(site.runners["CP1"].connected.wait(), 30)
        t_back = time.monotonic()
        await asyncio.sleep(REACTION_S + 8)  # asked for a boot, configured, accepted
        assert site.server.stations["CP1"].boot_state == "accepted"
        assert site.trace.max_import_after(t_drop) <= 38.0 + 0.01
        after = [c for t, c in site.trace.cars if t >= t_back]
        assert min(c["CP2"] + c["CP3"] for c in after) >= 25.0
        assert site.trace.cars_at(time.monotonic() - 0.2) == {
            "CP1": 12.6, "CP2": 12.6, "CP3": 12.6}
        assert site.rows("SELECT count(*) FROM transactions WHERE stopped_at IS NULL") == [
            (3,)]
        assert not site.sim.report.trips



async def test_a_power_cut_does_not_make_the_building_look_lighter(tmp_path: Path) -> None:
    """CP1 and CP2 lose power for 12 s: their cars stop, their links go, the hub keeps
    their last readings (12.6 A each). Meter minus those readings put the building at
    -25 A: past the non-charging window CP3 was raised to 32 A, and when power came back
    the two cars resumed on their limits, 57 A on a 40 A supply. The window now reaches
    back to the oldest reading still subtracted, and readings from before a reboot are
    dropped."""
    async with running_site(site_config(tmp_path, THREE)) as site:
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(8)
        assert site.trace.cars_at(time.monotonic() - 0.2) == {
            "CP1": 12.6, "CP2": 12.6, "CP3": 12.6}
        t_cut = time.monotonic()
        await asyncio.gather(site.runners["CP1"].power_off(12),
                             site.runners["CP2"].power_off(12))
        await asyncio.sleep(11)
        during = [c["CP3"] for t, c in site.trace.cars if t >= t_cut]
        assert max(during) <= 13.0, max(during)  # 12.8 A left beside two at 12.6 A
        await asyncio.wait_for(asyncio.gather(site.runners["CP1"].connected.wait(),
                                              site.runners["CP2"].connected.wait()), 30)
        await asyncio.sleep(REACTION_S + 3)
        assert site.trace.max_import_after(t_cut) <= 38.0 + 0.01
        assert not site.sim.report.trips
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        assert min(cars.values()) >= 10.0, cars  # all three charge again


async def test_a_charge_point_taking_only_watts_gets_its_whole_share(tmp_path: Path) -> None:
    """A W-only charge point left at ``control: A`` (the default): its limit in A was sent
    as A × 230 W, a third of its share for a 3-phase car. The unit it declared at boot
    now reaches the allocation, which gives watts for the car's measured phases."""
    async with running_site(site_config(tmp_path, TWO),
                            _quirky({"CP1": {Quirk.W_ONLY}})) as site:
        t0 = time.monotonic()
        for cp in site.cps().values():
            await cp.plug(1, EV(max_current_a=32, ramp_s=1.0, phases=3))
        await asyncio.sleep(15)
        cars = site.trace.cars_at(time.monotonic() - 0.2)
        assert cars["CP1"] >= 17.0, cars  # 19 A each; 6.3 A before
        assert site.trace.max_import_after(t0 + REACTION_S) <= 38.0 + 0.01
        assert not site.sim.report.trips
        record = {c["id"]: c for c in site.loop.record["connectors"]}
        assert record["CP1/1"]["limit_w"] is not None, record["CP1/1"]


async def test_a_call_the_charge_point_never_answers_does_not_hold_back_a_decrease(
        tmp_path: Path) -> None:
    """CP1 swallows a GetDiagnostics (60 s timeout) just before the building's load
    steps up by 15 A: the decrease waited behind it on the one CALL channel, 47 A on a
    40 A supply until the call timed out. Another call to a charge point with a car now
    waits at most what the reaction window leaves (6 - 0.5 - 2 = 3.5 s here)."""
    ems = EMS_FAST.replace("cycle_s: 0.5,", "cycle_s: 0.5, reaction_window_s: 6, "
                                             "send_timeout_s: 3,").replace(
        "profile_validity_s: 6", "profile_validity_s: 60")  # no expiry to the rescue
    head = (HEAD % tmp_path).replace("call_timeout_s: 5", "call_timeout_s: 30")
    async with running_site(parse_config(head + ems + "\n" + ONE)) as site:
        cp = site.cp("CP1")
        await cp.plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(6)
        assert site.trace.cars_at(time.monotonic() - 0.2) == {"CP1": 32.0}
        cp.unanswered = {"GetDiagnostics"}
        hung = asyncio.create_task(site.server.stations["CP1"].request(
            call.GetDiagnostics(location="ftp://127.0.0.1/"), timeout_s=60))
        await asyncio.sleep(0.3)
        t_step = time.monotonic()
        site.sim.extra_load_a = (15.0, 15.0, 15.0)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(hung, 10)  # cut at 3.5 s, told as a timeout
        await asyncio.sleep(6)
        assert site.trace.max_import_after(t_step + 6.0) <= 38.0 + 0.01, \
            site.trace.max_import_after(t_step + 6.0)
        assert site.trace.cars_at(time.monotonic() - 0.2)["CP1"] <= 23.1
        assert not site.sim.report.trips


async def test_a_load_step_between_two_cycles_is_acted_on_at_once(tmp_path: Path) -> None:
    """With a 4 s cycle, a building's load step just after a cycle waited for the next
    tick: 47 A on a 40 A supply for 5 s. The meter's rise now wakes the loop at once."""
    ems = EMS_FAST.replace("cycle_s: 0.5,", "cycle_s: 4,").replace(
        "profile_validity_s: 6", "profile_validity_s: 30")
    async with running_site(site_config(tmp_path, ONE, ems)) as site:
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(12)
        assert site.trace.cars_at(time.monotonic() - 0.2) == {"CP1": 32.0}
        cycles = site.loop.cycles
        while site.loop.cycles == cycles:  # just after a cycle
            await asyncio.sleep(0.01)
        t_step = time.monotonic()
        site.sim.extra_load_a = (15.0, 15.0, 15.0)
        await asyncio.sleep(6)
        late = site.trace.max_import_after(t_step + 3.0)
        assert late <= 38.0 + 0.01, late
        assert not site.sim.report.trips


async def test_a_limit_accepted_but_not_applied_is_read_back(tmp_path: Path) -> None:
    """CP1's firmware ignores TxDefaultProfile changes during a transaction, and nobody
    declared it: it answers Accepted to 12.6 A and goes on offering its car 18 A. Only a
    car drawing too much for ``ignore_after_s`` (60 s) gave it away: 43.2 A on a 40 A
    supply for a minute. Its Current.Offered now says what it really offers: counted at
    that after one reading, the others are cut within the reaction window; and its model
    gets per-transaction TxProfiles from then on (which it does apply): fair shares."""
    ems = EMS_FAST.replace("ignore_after_s: 4", "ignore_after_s: 60")
    quirky = _quirky({"CP1": {Quirk.TX_DEFAULT_IGNORED_IN_TX}})
    async with running_site(site_config(tmp_path, THREE, ems), quirky) as site:
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0))
        await asyncio.sleep(8)  # alone: 32 A, then its frozen fallback of 18 A
        t0 = time.monotonic()
        for cp_id in ("CP2", "CP3"):
            await site.cp(cp_id).plug(1, EV(max_current_a=32, ramp_s=1.0))
        steady = {"CP1": 12.6, "CP2": 12.6, "CP3": 12.6}
        for _ in range(60):
            await asyncio.sleep(0.5)
            if site.trace.cars_at(time.monotonic() - 0.2) == steady:
                break
        assert site.trace.cars_at(time.monotonic() - 0.2) == steady
        assert site.trace.longest_over(38.0, t0) <= REACTION_S, site.trace.imports[-1]
        assert not site.sim.report.trips
        alerts = [(k, t, d["offered"]) for k, t, d in site.loop.alerts
                  if k.startswith("limit_")]
        assert alerts == [("limit_not_applied", "CP1/1", 18.0)], alerts
        station = site.server.stations["CP1"]
        assert station.layout.per_transaction  # learned, for the model
        assert site.server.ctx.learned_quirks == {
            station.identity: {"tx_default_ignored_in_tx"}}
        assert "Current.Offered" in station.capabilities["MeterValuesSampledData"]
        await asyncio.sleep(1.5)  # its next MeterValues (every second here)
        record = {c["id"]: c for c in site.loop.record["connectors"]}
        assert record["CP1/1"]["offered"] == 12.6  # read back: it applies its limit


async def test_an_unlabelled_single_phase_car_on_watts_does_not_lighten_a_kva_limit(
        tmp_path: Path) -> None:
    """A kVA subscription (60 A in all at 230 V). CP1 takes only watts and reports one
    Current.Import without a phase; its car is single-phase, so a limit of P watts is
    P / 230 A on one phase, read as that much on each of the three. Taken off the meter
    three times, the building looked lighter by twice the car and CP2's car was raised:
    the total went over the subscription."""
    body = TWO.replace("margin_a: 2", "limit_va: 13800\n      margin_a: 1")
    assert "limit_va: 13800" in body
    quirks = _quirky({"CP1": {Quirk.W_ONLY, Quirk.CURRENT_NO_PHASE}})
    async with running_site(site_config(tmp_path, body), quirks) as site:
        site.sim.extra_load_a = (10.0, 10.0, 10.0)
        totals: list[tuple[float, float]] = []

        async def watch() -> None:
            while True:
                totals.append((time.monotonic(), sum(site.sim.last_import_a)))
                await asyncio.sleep(0.1)

        watcher = asyncio.create_task(watch())
        t0 = time.monotonic()
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0, phases=1))
        await site.cp("CP2").plug(1, EV(max_current_a=32, ramp_s=1.0, phases=3))
        await asyncio.sleep(20)
        watcher.cancel()
        late = [a for t, a in totals if t >= t0 + REACTION_S]
        assert late and max(late) <= 60.0 + 0.05, max(late)
        # Not starved either. Not judged at one instant: only one car's minimum fits,
        # so the two take turns (min_on_s 3 here) and a switch may find both at 0.
        assert site.sim.report.energy_wh > 5.0, site.sim.report.energy_wh
        assert not site.sim.report.trips


async def test_an_unlabelled_single_phase_car_on_watts_charges_without_pauses(
        tmp_path: Path) -> None:
    """The same charge point alone, with room for its car. Its unlabelled 27 A, read on
    every phase, was mended in the kVA total twice (once by the phases' recent peaks,
    once more as excess): a total capacity of -27 A paused the car each time it was
    measured, every ~7 s. And while it ramped, its credit of 9 A a phase (its watts
    spread on three) left 18 A of its draw on L1 to read as building load."""
    body = ONE.replace("margin_a: 2", "limit_va: 13800\n      margin_a: 1").replace(
        "meter_fallback_load_a: 20", "meter_fallback_load_a: 10")
    quirks = _quirky({"CP1": {Quirk.W_ONLY, Quirk.CURRENT_NO_PHASE}})
    async with running_site(site_config(tmp_path, body), quirks) as site:
        site.sim.extra_load_a = (10.0, 10.0, 10.0)
        await asyncio.sleep(6)  # the building's 10 A in the non-EV window
        await site.cp("CP1").plug(1, EV(max_current_a=32, ramp_s=1.0, phases=1))
        seen: list[tuple[float, float]] = []  # (limit W, building load on L1)
        for _ in range(40):
            await asyncio.sleep(0.5)
            grid = site.loop.record["nodes"][0]
            seen.append((site.loop.record["connectors"][0]["limit_w"] or 0.0,
                         grid["non_ev_current_a"][0]))
        started = next(i for i, (w, _) in enumerate(seen) if w > 0)
        assert all(w >= 4000 for w, _ in seen[started:]), seen
        assert max(load for _, load in seen) <= 11.0, seen
        assert not site.sim.report.trips
