"""One connected charge point: its receive loop, its handlers, its calls.

The receive loop is the engine's, not the library's: a frame the library cannot unpack
still gets its CALLERROR, answers to the hub's own calls are routed at once (never queued
behind a handler), and the charge point's own calls are handled one after another in a
task of their own. Handlers await the store's commit before their CALLRESULT goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.enums import (
    Action,
    RegistrationStatus,
)

from hub_engine.clock import Clock, iso_utc
from hub_engine.config import ChargePointConfig, OcppConfig
from hub_engine.logs import LogBudget, redact_url
from hub_engine.ocpp import repo
from hub_engine.ocpp.boot import configure_station
from hub_engine.ocpp.frames import check_frame, error_frame
from hub_engine.ocpp.measured import Measured, Offered, PlausibilityLimits
from hub_engine.ocpp.notices import Notices
from hub_engine.ocpp.priority import PRIORITY, PriorityLock
from hub_engine.ocpp.profiles import Layout
from hub_engine.ocpp.sessions import SessionHandlers
from hub_engine.store import Store

__all__ = ["OcppContext", "Station"]

_ACTIONS = {a.value for a in Action}
_ASK_BOOT_AFTER_S = 5.0

log = logging.getLogger(__name__)


def _v16_code(message: str) -> str:
    """The library answers schema errors with OCPP 2.0's FormatViolation; OCPP-J 1.6 has
    FormationViolation (not the PDU's structure: an unknown field) and
    PropertyConstraintViolation (a value out of its enumeration or range)."""
    frame = json.loads(message)
    cause = str(frame[4].get("cause", "")) if isinstance(frame[4], dict) else ""
    frame[2] = ("FormationViolation" if "Additional properties" in cause
                else "PropertyConstraintViolation")
    return json.dumps(frame)


_CURRENT_CP: contextvars.ContextVar[str] = contextvars.ContextVar("cp", default="?")


class _RefusedCall(logging.Filter):
    """The library logs every handler exception with its traceback; a call refused with
    an OCPP error is the charge point's mistake, answered with its CALLERROR: one line
    naming the charge point, within a budget (:class:`LogBudget`)."""

    budget = LogBudget(log, "calls refused")

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if not isinstance(exc, OCPPError):
            return True
        if not self.budget.allow():
            return False
        record.exc_info = None
        record.levelno, record.levelname = logging.WARNING, "WARNING"
        record.msg, record.args = "%s: call refused (%s): %s", (
            _CURRENT_CP.get(), exc.code, str(exc.description))
        return True


_BAD_FRAMES = LogBudget(log, "bad frames")


# The library's own logger for this class (handler errors, frames at debug level).
_library_log = logging.getLogger("hub_engine.ocpp.calls")
_library_log.addFilter(_RefusedCall())


@dataclass
class OcppContext:
    config: OcppConfig
    charge_points: dict[str, ChargePointConfig]
    store: Store
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    # Fallback limit per connector ("CP/1" → (limit, unit)), kept by the EMS and installed
    # at every boot before the charge point is accepted.
    # Each connector's fallback: limit, unit, and its steps (the grid signal's dips).
    fallbacks: dict[str, tuple[float, str, tuple[tuple[datetime, float], ...]]] = field(
        default_factory=dict)
    # Boots seen per charge point: a new boot may have lost its profiles.
    epochs: dict[str, int] = field(default_factory=dict)
    # True when an EMS manages the charge points: the boot installs the profile layout.
    managed: bool = False
    # Calls refused because their charge point is not accepted, per action.
    refused: dict[str, int] = field(default_factory=dict)
    # Called with (charge point id, topic, data) for every event a charge point causes.
    listeners: list[Callable[[str, str, dict[str, Any]], None]] = field(default_factory=list)
    # Access control (members, badges, windows, credit): answers Authorize and
    # StartTransaction when set; else accept_all_id_tags / id_tags decide.
    access: Any = None
    # Reservations the hub holds (hub_engine.access.reservations): a held connector
    # starts only for its badge.
    reservations: Any = None
    # Set by the EMS: while a charge point has a transaction, no other call holds its one
    # CALL channel longer than this, so a decrease waiting behind it still fits the
    # reaction window (a SendLocalList or GetDiagnostics unanswered for 60 s held it).
    channel_hold_s: float | None = None
    # Quirks the hub found out by itself, per model (vendor, model, firmware): applied
    # to the profile layout of every charge point of that model from then on.
    learned_quirks: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)
    # The CPO relay (hub_engine.ocpp.cpo.relay.CpoRelay): charge points in mode cpo.
    cpo: Any = None
    # Configuration exchanges after a boot (after the profiles, which go at once: a
    # rebooted charge point may draw unconstrained), at most ``boot_concurrency`` at once.
    boot_slots: asyncio.Semaphore = field(default_factory=asyncio.Semaphore)

    def __post_init__(self) -> None:
        self.boot_slots = asyncio.Semaphore(self.config.boot_concurrency)


class Station(SessionHandlers, Notices, ChargePoint):  # type: ignore[misc]
    def __init__(self, cp_id: str, connection: Any, ctx: OcppContext) -> None:
        super().__init__(cp_id, connection, response_timeout=ctx.config.call_timeout_s,
                         logger=_library_log)
        self.ctx = ctx
        self.boot_state = "new"  # new → configuring → configured → accepted
        self.capabilities: dict[str, Any] = {}
        self.layout = Layout()
        # This boot installed every connector's fallback (Accepted): what it may draw is
        # bounded again, by the fallback or a dynamic limit that survived the reboot.
        self.base_profiles_ok = False
        # True once the hub asked it for a BootNotification: the one that answers is no
        # reboot (a real reboot sends its BootNotification first, unasked).
        self._boot_asked = False
        self._booted = False  # a BootNotification came on this connection
        # (vendor, model, firmware) from BootNotification, and the model's commissioning
        # result: unknown, verified (its dynamic limits expire as they should) or failed.
        self.identity = ("", "", "")
        self.failsafe = "unknown"
        # accepted, pending, rejected (None: never seen): all but BootNotification is
        # refused until accepted (read at connection, updated by every BootNotification).
        self.registration: str | None = None
        self.configuration: dict[str, Any] = {}
        self.connector_status: dict[int, str] = {}
        self.open_transactions: dict[int, int] = {}  # connector → transaction id
        self.refused_starts: dict[int, int] = {}  # connector → a start to stop
        self.measured: dict[int, Measured] = {}
        self.offered: dict[int, Offered] = {}  # Current.Offered read back, if it sends it
        # The open transaction's meterStart and the latest register: its energy so far.
        self.meter_start_wh: dict[int, float] = {}
        self.register_wh: dict[int, float] = {}
        self.plausible = PlausibilityLimits.of(ctx.charge_points.get(cp_id))
        self._rejected_at: dict[int, float] = {}
        self._calls: asyncio.Queue[Call] = asyncio.Queue()
        self.current_call: Call | None = None  # the charge point's call being handled
        self._call_lock = PriorityLock()  # the library's lock, with the EMS's calls first
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- plumbing -----------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        self.registration = await self._registration()
        for conn, (status, tx, start) in (await self.ctx.store.core.write(
                repo.connector_state(self.id))).items():
            if status is not None:
                self.connector_status.setdefault(conn, status)
            if tx is not None and start is not None:
                self.open_transactions.setdefault(conn, tx)
                self.meter_start_wh.setdefault(conn, start)
        if self.ctx.cpo is not None and self.ctx.cpo.relayed(self.id):
            self.ctx.cpo.ensure(self.id)
        worker = self.spawn(self._handle_calls())
        self.spawn(self._ask_boot())
        if self.registration != "accepted":
            self.spawn(self._drop_if_silent())
        try:
            while True:
                raw = await self._connection.recv()
                await self._on_frame(raw)
        finally:
            worker.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _registration(self) -> str | None:
        if self.id in self.ctx.charge_points or self.ctx.config.unknown_charge_points == (
                "accept"):
            return "accepted"
        stored: str | None = await self.ctx.store.core.write(repo.registration(self.id))
        return stored

    async def _on_frame(self, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        self._log("in", text)
        problem = check_frame(raw, self.ctx.config.max_frame_bytes)
        if problem is not None:
            if _BAD_FRAMES.allow():
                log.warning("%s: bad frame (%s): %.200s", self.id, problem.description, text)
            if problem.unique_id is not None:
                await self._send(error_frame(problem.unique_id, problem.code,
                                             problem.description))
            return
        try:
            msg = unpack(text)
        except OCPPError as exc:  # checked above; kept as a last guard
            log.warning("%s: cannot unpack frame: %s", self.id, exc)
            return
        if msg.message_type_id == MessageType.Call:
            self._calls.put_nowait(msg)
        else:
            self._response_queue.put_nowait(msg)

    async def _handle_calls(self) -> None:
        _CURRENT_CP.set(self.id)  # this task's context: the refused-call log line names it
        while True:
            msg = await self._calls.get()
            if msg.action not in self.route_map:
                # OCPP-J §4.2.3: an action the receiver does not know is NotImplemented;
                # one it knows but does not support is NotSupported (the library swaps them).
                known = msg.action in _ACTIONS
                code = "NotSupported" if known else "NotImplemented"
                why = (f"{msg.action} is not a message a charge point sends" if known
                       else f"unknown action {msg.action!r}")
                await self._send(error_frame(msg.unique_id, code, why))
                continue
            if self.registration != "accepted" and msg.action != "BootNotification":
                # OCPP 1.6 §4.2: nothing but BootNotification before it is accepted; a
                # pending or refused charge point reaches no session, credit or sample.
                self.ctx.refused[msg.action] = self.ctx.refused.get(msg.action, 0) + 1
                await self._send(error_frame(
                    msg.unique_id, "SecurityError",
                    f"{msg.action} refused: this charge point is not accepted "
                    f"({self.registration or 'unknown'}); send BootNotification"))
                continue
            try:
                self.current_call = msg
                await self._handle_call(msg)
                relay = self._relay()
                if relay is not None:
                    relay.live(self, msg.action, msg.payload, msg.unique_id)
            except OCPPError as error:
                await self._send(msg.create_call_error(error).to_json())
            except Exception as exc:  # a bug must not kill the connection
                log.exception("%s: error handling %s", self.id, msg.action)
                await self._send(error_frame(msg.unique_id, "InternalError", str(exc)[:200]))

    async def _drop_if_silent(self) -> None:
        """A stranger that does not even boot holds a connection for nothing: closed."""
        await self.ctx.clock.sleep(self.ctx.config.unaccepted_idle_s)
        if not self._booted:
            log.warning("%s: not accepted and no BootNotification in %.0f s: closed",
                        self.id, self.ctx.config.unaccepted_idle_s)
            await self._connection.close(code=1008, reason="no BootNotification")

    async def _ask_boot(self) -> None:
        """A charge point that reconnects (after a hub restart) without a BootNotification
        is asked for one: until its boot sequence has run, the EMS counts it as silent."""
        await self.ctx.clock.sleep(_ASK_BOOT_AFTER_S)
        if self.boot_state == "new":
            log.info("%s: connected without BootNotification; asking for one", self.id)
            self._boot_asked = True
            with contextlib.suppress(Exception):
                await self.request(call.TriggerMessage(requested_message="BootNotification"),
                                   timeout_s=10)

    async def _send(self, message: str) -> None:
        if message.startswith("[4") and '"FormatViolation"' in message:
            message = _v16_code(message)
        self._log("out", message)
        await self._connection.send(message)

    def _log(self, direction: str, message: str) -> None:
        if self.registration not in ("accepted", "pending"):
            return  # a refused or unknown id's chatter is counted, not kept for years
        # An FTP location carries its transfer's password: kept masked.
        self.ctx.store.journal.frame(self.id, direction, redact_url(message),
                                     self.ctx.clock.now())

    async def request(self, payload: Any, timeout_s: float | None = None,
                      trusted: bool = False, unique_id: str | None = None) -> Any:
        """Call the charge point; raise on CALLERROR (OCPPError) or timeout.

        ``trusted``: the EMS's own limit, built by the hub and checked against the OCPP
        schema by the tests (``tests/unit/test_profiles.py``): the library's validation
        of it and of the answer is skipped, and it goes before other waiting calls. Any
        other call to a charge point with a transaction waits at most ``channel_hold_s``.
        """
        timeout = timeout_s or self.ctx.config.call_timeout_s
        hold = self.ctx.channel_hold_s
        if not trusted and hold is not None and self.open_transactions and timeout > hold:
            log.debug("%s: %s waits at most %g s (a car is charging)", self.id,
                      type(payload).__name__, hold)
            timeout = hold
        token = PRIORITY.set(trusted)
        try:
            return await asyncio.wait_for(
                self.call(payload, suppress=False, skip_schema_validation=trusted,
                          unique_id=unique_id), timeout)
        finally:
            PRIORITY.reset(token)

    def disconnected(self) -> None:
        self._event("disconnected")

    def _event(self, topic: str, journal: bool = True, **data: Any) -> None:
        if journal:  # meter readings are in the samples already: not twice, not for years
            self.ctx.store.journal.event(f"event.cp.{self.id}.{topic}", data,
                                         self.ctx.clock.now())
        for listener in self.ctx.listeners:
            try:
                listener(self.id, topic, data)
            except Exception:  # a listener's bug must not break the charge point's call
                log.exception("event listener failed")

    # -- charge-point-initiated messages ------------------------------------------------
    @on(Action.boot_notification)
    async def on_boot(self, **info: Any) -> call_result.BootNotification:
        cfg, now = self.ctx.config, self.ctx.clock.now()
        if getattr(self, "_configuring", False) and self.boot_state == "configuring":
            # Asked again while the hub configures it (firmware that does not wait the
            # interval, thousands at once after a blackout): answered from memory, no disk
            # write and no event, so that repeats never queue ahead of the configuration.
            return call_result.BootNotification(
                current_time=iso_utc(now), status=RegistrationStatus.pending,
                interval=10 + int(self.ctx.rng.uniform(0, cfg.boot_spread_s)))
        self._booted = True
        default = "accepted" if self.id in self.ctx.charge_points else {
            "accept": "accepted", "pending": "pending", "reject": "rejected"
        }[cfg.unknown_charge_points]
        if default == "rejected" and self.id not in self.ctx.charge_points:
            # Refused by policy: counted, not stored (random ids must not fill the disk).
            self.ctx.refused["BootNotification"] = self.ctx.refused.get("BootNotification",
                                                                        0) + 1
            registration = await self.ctx.store.core.write(repo.registration(self.id)) or (
                "rejected")
        else:
            registration = await self.ctx.store.core.write(
                repo.boot(self.id, info, now, default))
        self.registration = registration
        self.identity = (str(info.get("charge_point_vendor") or ""),
                         str(info.get("charge_point_model") or ""),
                         str(info.get("firmware_version") or ""))
        self.failsafe = await self.ctx.store.core.write(repo.model_failsafe(*self.identity))
        self._event("boot", registration=registration, **info)
        if registration != "accepted":
            status = (RegistrationStatus.pending if registration == "pending"
                      else RegistrationStatus.rejected)
            return call_result.BootNotification(current_time=iso_utc(now), interval=60,
                                                status=status)
        if self.boot_state == "configured":
            self.boot_state = "accepted"
            log.info("%s: accepted", self.id)
            return call_result.BootNotification(current_time=iso_utc(now),
                                                interval=cfg.heartbeat_interval_s,
                                                status=RegistrationStatus.accepted)
        if self.boot_state != "configuring":
            self.boot_state = "configuring"  # new connection, or a reboot: configure again
            if not self._boot_asked:  # a reboot (a link drop loses no profile, no session)
                self.ctx.epochs[self.id] = self.ctx.epochs.get(self.id, 0) + 1
            self._boot_asked = False
            self.base_profiles_ok = False
        retry = 10 + int(self.ctx.rng.uniform(0, cfg.boot_spread_s))
        return call_result.BootNotification(current_time=iso_utc(now), interval=retry,
                                            status=RegistrationStatus.pending)

    @after(Action.boot_notification)
    async def after_boot(self, **_: Any) -> None:
        if self.boot_state == "accepted":  # sent: the hub may now call it (local lists…)
            self._event("accepted")
        if self.boot_state == "configuring" and not getattr(self, "_configuring", False):
            self._configuring = True
            self.spawn(self._configure())

    async def _configure(self) -> None:
        try:
            await configure_station(self, paced=self.ctx.boot_slots)
        finally:
            self._configuring = False
        self.boot_state = "configured"
        await self.ctx.clock.sleep(self.ctx.rng.uniform(0, self.ctx.config.boot_spread_s))
        if self.boot_state != "configured":
            return  # its own retry came first and was accepted: a trigger now would reboot it
        with contextlib.suppress(Exception):  # if refused, the charge point retries anyway
            await self.request(call.TriggerMessage(requested_message="BootNotification"),
                               timeout_s=10)

    @on(Action.heartbeat)
    async def on_heartbeat(self) -> call_result.Heartbeat:
        now = self.ctx.clock.now()
        await self.ctx.store.core.write(repo.heartbeat(self.id, now))
        return call_result.Heartbeat(current_time=iso_utc(now))
