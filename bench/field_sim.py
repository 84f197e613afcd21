"""Charge points as the field makes them, behind the EMS's own port interface.

The simulated week of ``bench.ems_field``: the physics and cars of
``bench/quality_sim.py``, the real :class:`EmsLoop` on a fake clock, and each connector
a :class:`FieldPort` that behaves like real firmware and a real network, the way
``hub_engine/sim/chargepoint.py`` does over OCPP (each quirk there has its closed-loop
test in ``tests/integration/test_ems_field_truth.py``):

* a :class:`Model` per charge point, drawn from a mix: currents without phase labels,
  W-only profiles, no ``Current.Offered`` read-back, a TxDefaultProfile ignored during a
  transaction (undeclared: only the read-back finds it out; on models with a read-back,
  since without one nothing but an installer's declaration can), MeterValues every 10
  or 60 s (the EMS sees each reading as old as it is);
* answers: after ``latency_s``; a share ``lost`` never comes (the limit applied or not,
  at random), told as a timeout after ``send_timeout_s``;
* link drops (the charge point goes on with its last limit, then its fallback when that
  expires) and reboots (power off for ``reboot_s``; dynamic limit and transaction lost;
  the car, still plugged, starts a new transaction a little later).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bench.quality_sim import Conn
from hub_engine.clock import FakeClock
from hub_engine.ems.interfaces import ConnectorState, Dip

__all__ = ["Faults", "FieldPort", "Model", "draw_model"]


@dataclass(frozen=True)
class Model:
    unlabelled: bool = False
    w_only: bool = False
    read_back: bool = True
    tx_default_ignored: bool = False
    meter_interval_s: float = 10.0


@dataclass(frozen=True)
class Faults:
    lost: float = 0.0  # share of answers that never come
    drops_per_day: float = 0.0  # per charge point
    reboots_per_day: float = 0.0
    latency_s: float = 0.5
    send_timeout_s: float = 10.0
    reboot_s: float = 60.0
    restart_tx_s: tuple[float, float] = (30.0, 120.0)  # the car starts again after a reboot
    drop_s: tuple[float, float] = (30.0, 600.0)


def draw_model(rng: random.Random) -> Model:
    """One charge point model from the field's mix (SITES.md fleets are mixed)."""
    read_back = rng.random() < 0.7
    return Model(unlabelled=rng.random() < 0.3, w_only=rng.random() < 0.15,
                 read_back=read_back,
                 tx_default_ignored=read_back and rng.random() < 0.15,
                 meter_interval_s=10.0 if rng.random() < 0.7 else 60.0)


Limit = tuple[float, str]  # value, unit


class FieldPort:
    def __init__(self, conn: Conn, model: Model, faults: Faults, clock: FakeClock,
                 volt: float, rng: random.Random, new_tx: Callable[[], int]) -> None:
        self.conn, self.model, self.faults, self.new_tx = conn, model, faults, new_tx
        self.clock, self.volt, self.rng = clock, volt, rng
        self.dynamic: tuple[float, str, float] | None = None  # value, unit, valid until
        self.fallback: Limit | None = None  # installed on the charge point
        self.fallback_kept: Limit | None = None  # the hub's, installed at each boot
        self.frozen: tuple[tuple[float, str, float] | None, Limit | None] | None = None
        self.tx: int | None = None
        self.epoch = 0
        self.offline_until = -1.0
        self.rebooting = False
        self.restart_at: float | None = None
        self.sampled: tuple[tuple[float, float, float], float, float] | None = None
        self.next_sample = clock.monotonic()
        self.next_drop = self._next(faults.drops_per_day)
        self.next_reboot = self._next(faults.reboots_per_day)
        self.answers_lost = self.reboots = self.drops = 0
        # Limited by TxProfile (the hub found its TxDefaultProfile ignored in a
        # transaction and adapted the layout, as hub_engine.ocpp.ems_port does).
        self.per_tx = False

    def _next(self, per_day: float) -> float:
        if per_day <= 0:
            return float("inf")
        return self.clock.monotonic() + self.rng.expovariate(per_day / 86400.0)

    @property
    def online(self) -> bool:
        return not self.rebooting and self.clock.monotonic() >= self.offline_until

    # -- what the hub sees ---------------------------------------------------------------
    def state(self) -> ConnectorState:
        now = self.clock.monotonic()
        c = self.conn
        status = "Available" if c.ev is None else "Preparing" if self.tx is None else (
            "Charging" if c.current_a > 0 else "SuspendedEV" if c.ev.full
            else "SuspendedEVSE")
        measured = offered = age = None
        if self.sampled is not None:
            measured, offered_a, at = self.sampled
            age = now - at
            offered = offered_a if self.model.read_back else None
        return ConnectorState(
            online=self.online, status=status, transaction_id=self.tx,
            measured_a=measured, measured_age_s=age,
            epoch=f"{self.epoch}/{self.tx}" if self.per_tx else str(self.epoch),
            fallback_installed=self.fallback is not None,
            phases_labelled=not self.model.unlabelled,
            units=("W",) if self.model.w_only else ("A", "W"),
            offered_a=offered, offered_age_s=age if offered is not None else None)

    async def set_limit(self, limit: float, unit: Literal["A", "W"], valid_s: float) -> str:
        if not self.online:
            return "offline"
        if self.per_tx and self.tx is None:
            return "accepted"  # as the OCPP port: a TxProfile needs a transaction
        epoch = self.epoch
        await self.clock.sleep(self.faults.latency_s)
        if not self.online or self.epoch != epoch:
            return "lost"
        value, sent = self._convert(limit, unit)
        if self.rng.random() < self.faults.lost:
            self.answers_lost += 1
            if self.rng.random() < 0.5:  # carried out, the answer lost on the way
                self.dynamic = (value, sent, self.clock.monotonic() + valid_s)
            await self.clock.sleep(self.faults.send_timeout_s - self.faults.latency_s)
            return "timed_out"
        self.dynamic = (value, sent, self.clock.monotonic() + valid_s)
        return "accepted"

    async def set_fallback(self, limit: float, unit: Literal["A", "W"],
                           dips: tuple[Dip, ...] = ()) -> str:
        self.fallback_kept = self._convert(limit, unit)  # the hub installs it at each boot
        if not self.online:
            return "offline"
        await self.clock.sleep(self.faults.latency_s)
        if not self.online:
            return "lost"
        self.fallback = self.fallback_kept
        return "accepted"

    def _convert(self, limit: float, unit: str) -> Limit:
        """As :class:`hub_engine.ocpp.ems_port.OcppConnectorPort` does for a unit the
        charge point does not take."""
        if self.model.w_only and unit == "A":
            return limit * self.volt, "W"
        return limit, unit

    # -- the charge point's own life, each step ------------------------------------------
    def pilot_a(self) -> float:
        """What its electronics offer the car now."""
        c = self.conn
        if self.rebooting or c.ev is None or self.tx is None:
            return 0.0
        dynamic, fallback = (self.frozen if self.model.tx_default_ignored and not self.per_tx
                             and self.frozen is not None else (self.dynamic, self.fallback))
        now = self.clock.monotonic()
        if dynamic is not None and now < dynamic[2]:
            limit: Limit | None = (dynamic[0], dynamic[1])
        else:
            limit = fallback
        if limit is None:
            return c.max_a
        value, unit = limit
        amps = value if unit == "A" else value / (self.volt * min(c.ev.phases, 3))
        return min(c.max_a, max(0.0, amps))

    def step(self, arrived: bool, left: bool) -> None:
        now = self.clock.monotonic()
        if left:
            self.tx, self.frozen, self.restart_at = None, None, None
            if self.per_tx:
                self.dynamic = None  # a TxProfile ends with its transaction
        if arrived and not self.rebooting:
            self._start_tx(self.conn.tx)
        if self.restart_at is not None and now >= self.restart_at and self.conn.ev is not None:
            self.restart_at = None
            self._start_tx(self.new_tx())
        if self.rebooting and now >= self.offline_until:
            self.rebooting = False
            self.epoch += 1
            self.dynamic, self.fallback = None, self.fallback_kept  # installed at boot
            if self.conn.ev is not None:
                lo, hi = self.faults.restart_tx_s
                self.restart_at = now + self.rng.uniform(lo, hi)
        if now >= self.next_reboot:
            self.next_reboot = self._next(self.faults.reboots_per_day)
            if self.online:
                self.reboots += 1
                self.rebooting, self.offline_until = True, now + self.faults.reboot_s
                self.tx, self.frozen, self.sampled = None, None, None  # lost, no Stop
        if now >= self.next_drop:
            self.next_drop = self._next(self.faults.drops_per_day)
            if self.online:
                self.drops += 1
                self.offline_until = now + self.rng.uniform(*self.faults.drop_s)
        self.conn.pilot_a = self.pilot_a()

    def sample(self) -> None:
        """Its MeterValues, every ``meter_interval_s`` (lost while it is offline)."""
        now = self.clock.monotonic()
        if now < self.next_sample:
            return
        self.next_sample = now + self.model.meter_interval_s
        if not self.online:
            return
        c = self.conn
        phases = c.ev.phases if c.ev is not None else 0
        labelled = tuple(c.current_a if k < phases else 0.0 for k in range(3))
        measured = (max(labelled),) * 3 if self.model.unlabelled else labelled
        self.sampled = (measured, self.pilot_a(), now)  # type: ignore[assignment]

    def _start_tx(self, tx_id: int) -> None:
        self.tx = tx_id
        self.frozen = (self.dynamic, self.fallback)  # what a frozen firmware keeps
