"""One connected charge point: its receive loop, its handlers, its calls.

The receive loop is the engine's, not the library's: a frame the library cannot unpack
still gets its CALLERROR, answers to the hub's own calls are routed at once (never queued
behind a handler), and the charge point's own calls are handled one after another in a
task of their own. Handlers await the store's commit before their CALLRESULT goes out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from ocpp.exceptions import OCPPError
from ocpp.messages import Call, MessageType, unpack
from ocpp.routing import after, on
from ocpp.v16 import ChargePoint, call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import (
    Action,
    AuthorizationStatus,
    DataTransferStatus,
    RegistrationStatus,
)

from hub_engine.clock import Clock, iso_utc, parse_iso
from hub_engine.config import ChargePointConfig, OcppConfig
from hub_engine.ocpp import repo
from hub_engine.ocpp.boot import configure_station
from hub_engine.ocpp.frames import check_frame, error_frame
from hub_engine.ocpp.measured import Measured, PlausibilityLimits, check_samples, connector_current
from hub_engine.ocpp.meter_values import meter_summary, normalise_meter_values
from hub_engine.ocpp.priority import PRIORITY, PriorityLock
from hub_engine.ocpp.profiles import Layout
from hub_engine.store import Store

__all__ = ["OcppContext", "Station"]

_ACTIONS = {a.value for a in Action}
_ASK_BOOT_AFTER_S = 5.0
_REJECT_ALERT_EVERY_S = 60.0

log = logging.getLogger(__name__)


@dataclass
class OcppContext:
    config: OcppConfig
    charge_points: dict[str, ChargePointConfig]
    store: Store
    clock: Clock
    rng: random.Random = field(default_factory=random.Random)
    # Fallback limit per connector ("CP/1" → (limit, unit)), kept by the EMS and installed
    # at every boot before the charge point is accepted.
    fallbacks: dict[str, tuple[float, str]] = field(default_factory=dict)
    # Boots seen per charge point: a new boot may have lost its profiles.
    epochs: dict[str, int] = field(default_factory=dict)
    # True when an EMS manages the charge points: the boot installs the profile layout.
    managed: bool = False
    # Called with (charge point id, topic, data) for every event a charge point causes.
    listeners: list[Callable[[str, str, dict[str, Any]], None]] = field(default_factory=list)
    # Access control (members, badges, windows, credit): answers Authorize and
    # StartTransaction when set; else accept_all_id_tags / id_tags decide.
    access: Any = None


class Station(ChargePoint):  # type: ignore[misc]
    def __init__(self, cp_id: str, connection: Any, ctx: OcppContext) -> None:
        super().__init__(cp_id, connection, response_timeout=ctx.config.call_timeout_s,
                         logger=log)
        self.ctx = ctx
        self.boot_state = "new"  # new → configuring → configured → accepted
        self.capabilities: dict[str, Any] = {}
        self.layout = Layout()
        # This boot installed every connector's fallback (Accepted): what it may draw is
        # bounded again, by the fallback or a dynamic limit that survived the reboot.
        self.base_profiles_ok = False
        # (vendor, model, firmware) from BootNotification, and the model's commissioning
        # result: unknown, verified (its dynamic limits expire as they should) or failed.
        self.identity = ("", "", "")
        self.failsafe = "unknown"
        self.configuration: dict[str, Any] = {}
        self.connector_status: dict[int, str] = {}
        self.open_transactions: dict[int, int] = {}  # connector → transaction id
        # Latest believed current per connector on the charge point's L1..L3, and when.
        self.measured: dict[int, Measured] = {}
        self.plausible = PlausibilityLimits.of(ctx.charge_points.get(cp_id))
        self._rejected_at: dict[int, float] = {}  # connector → when last alerted
        self._calls: asyncio.Queue[Call] = asyncio.Queue()
        self._call_lock = PriorityLock()  # the library's lock, with the EMS's calls first
        self._tasks: set[asyncio.Task[Any]] = set()

    # -- plumbing -----------------------------------------------------------------------
    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def start(self) -> None:
        for conn, (status, tx) in (await self.ctx.store.core.write(
                repo.connector_state(self.id))).items():
            if status is not None:
                self.connector_status.setdefault(conn, status)
            if tx is not None:
                self.open_transactions.setdefault(conn, tx)
        worker = self.spawn(self._handle_calls())
        self.spawn(self._ask_boot())
        try:
            while True:
                raw = await self._connection.recv()
                await self._on_frame(raw)
        finally:
            worker.cancel()
            for task in list(self._tasks):
                task.cancel()

    async def _on_frame(self, raw: str | bytes) -> None:
        text = raw if isinstance(raw, str) else raw.decode("utf-8", "replace")
        self._log("in", text)
        problem = check_frame(raw, self.ctx.config.max_frame_bytes)
        if problem is not None:
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
            try:
                await self._handle_call(msg)
            except OCPPError as error:
                await self._send(msg.create_call_error(error).to_json())
            except Exception as exc:  # a bug must not kill the connection
                log.exception("%s: error handling %s", self.id, msg.action)
                await self._send(error_frame(msg.unique_id, "InternalError", str(exc)[:200]))

    async def _ask_boot(self) -> None:
        """A charge point that reconnects (after a hub restart) without a BootNotification
        is asked for one: until its boot sequence has run, the EMS counts it as silent."""
        await self.ctx.clock.sleep(_ASK_BOOT_AFTER_S)
        if self.boot_state == "new":
            log.info("%s: connected without BootNotification; asking for one", self.id)
            with contextlib.suppress(Exception):
                await self.request(call.TriggerMessage(requested_message="BootNotification"),
                                   timeout_s=10)

    async def _send(self, message: str) -> None:
        self._log("out", message)
        await self._connection.send(message)

    def _log(self, direction: str, message: str) -> None:
        self.ctx.store.journal.frame(self.id, direction, message, self.ctx.clock.now())

    async def request(self, payload: Any, timeout_s: float | None = None,
                      trusted: bool = False) -> Any:
        """Call the charge point; raise on CALLERROR (OCPPError) or timeout.

        ``trusted``: the EMS's own limit, built by the hub and checked against the OCPP
        schema by the tests (``tests/unit/test_profiles.py``): the library's validation
        of it and of the answer is skipped, and it goes before other waiting calls.
        """
        token = PRIORITY.set(trusted)
        try:
            return await asyncio.wait_for(
                self.call(payload, suppress=False, skip_schema_validation=trusted),
                timeout_s or self.ctx.config.call_timeout_s)
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

    def _authorized(self, id_tag: str, connector_id: int | None = None) -> IdTagInfo:
        if self.ctx.access is not None:
            d = self.ctx.access.authorize(self.id, id_tag, connector_id)
            return IdTagInfo(status=AuthorizationStatus(d.status),
                             expiry_date=iso_utc(d.expiry) if d.expiry else None,
                             parent_id_tag=d.parent_id_tag)
        cfg = self.ctx.config
        known = {t.casefold() for t in cfg.id_tags}
        ok = cfg.accept_all_id_tags or id_tag.casefold() in known  # idTags: CiString20
        return IdTagInfo(status=AuthorizationStatus.accepted if ok
                         else AuthorizationStatus.invalid)

    # -- charge-point-initiated messages ------------------------------------------------
    @on(Action.boot_notification)
    async def on_boot(self, **info: Any) -> call_result.BootNotification:
        cfg, now = self.ctx.config, self.ctx.clock.now()
        default = "accepted" if self.id in self.ctx.charge_points else {
            "accept": "accepted", "pending": "pending", "reject": "rejected"
        }[cfg.unknown_charge_points]
        registration = await self.ctx.store.core.write(repo.boot(self.id, info, now, default))
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
            self.ctx.epochs[self.id] = self.ctx.epochs.get(self.id, 0) + 1
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
            await configure_station(self)
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

    @on(Action.status_notification)
    async def on_status(self, connector_id: int, error_code: str, status: str,
                        info: str | None = None, **_: Any) -> call_result.StatusNotification:
        now = self.ctx.clock.now()
        await self.ctx.store.core.write(
            repo.status(self.id, connector_id, status, error_code, info, now))
        self.connector_status[connector_id] = status
        self._event("status", connector_id=connector_id, status=status, error_code=error_code)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        info = self._authorized(id_tag)
        self._event("authorize", id_tag=id_tag, status=str(info.status))
        return call_result.Authorize(id_tag_info=info)

    @on(Action.start_transaction)
    async def on_start(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str,
                       **_: Any) -> call_result.StartTransaction:
        ts = parse_iso(timestamp) or self.ctx.clock.now()
        tx_id = await self.ctx.store.core.write(
            repo.start_transaction(self.id, connector_id, id_tag, meter_start, ts))
        self.open_transactions[connector_id] = tx_id
        info = self._authorized(id_tag, connector_id)
        self._event("session.started", connector_id=connector_id, transaction_id=tx_id,
                    id_tag=id_tag, status=str(info.status), meter_start_wh=meter_start)
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info=info)

    @on(Action.stop_transaction, skip_schema_validation=True)
    async def on_stop(self, meter_stop: int, timestamp: str, transaction_id: int,
                      reason: str | None = None, id_tag: str | None = None,
                      transaction_data: list[dict[str, Any]] | None = None,
                      **_: Any) -> call_result.StopTransaction:
        now = self.ctx.clock.now()
        ts = parse_iso(timestamp) or now
        if transaction_data:
            await self._store_samples(0, transaction_data, transaction_id)
        stored_id, orphan = await self.ctx.store.core.write(
            repo.stop_transaction(self.id, transaction_id, meter_stop, ts, reason, id_tag))
        if orphan:
            log.warning("%s: StopTransaction for unknown id %s kept as %s", self.id,
                        transaction_id, stored_id)
        for conn, tx in list(self.open_transactions.items()):
            if tx == transaction_id:
                del self.open_transactions[conn]
        self._event("session.stopped", transaction_id=stored_id, orphan=orphan,
                    meter_stop_wh=meter_stop, reason=reason)
        info = self._authorized(id_tag) if id_tag else None
        return call_result.StopTransaction(id_tag_info=info)

    # Field firmware sends measurands outside the schema's enum (``Current.Import.L1``,
    # OCPP-INTEROP §7): validated by the normaliser instead of refused whole.
    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, connector_id: int, meter_value: list[dict[str, Any]],
                              transaction_id: int | None = None) -> call_result.MeterValues:
        await self._store_samples(connector_id, meter_value, transaction_id)
        return call_result.MeterValues()

    async def _store_samples(self, connector_id: int, meter_value: list[dict[str, Any]],
                             transaction_id: int | None) -> None:
        items, dropped = normalise_meter_values(meter_value, self.ctx.clock.now())
        items, rejected = check_samples(items, self.plausible)
        if rejected:
            self._reject(connector_id, rejected)
        measured = connector_current(items, self.ctx.clock.monotonic())
        if measured is not None and connector_id:
            self.measured[connector_id] = measured
        if dropped:
            log.warning("%s: %d unreadable meter values dropped", self.id, dropped)
        if items:
            await self.ctx.store.samples.write(repo.samples(f"{self.id}/{connector_id}", items))
            self._event("meter", journal=False, connector_id=connector_id,
                        transaction_id=transaction_id, **meter_summary(items))

    def _reject(self, connector_id: int, reasons: list[str]) -> None:
        """Implausible values never reach the EMS or the samples; said once a minute."""
        now = self.ctx.clock.monotonic()
        if now - self._rejected_at.get(connector_id, -math.inf) < _REJECT_ALERT_EVERY_S:
            return
        self._rejected_at[connector_id] = now
        log.warning("%s/%s: implausible meter values rejected: %s", self.id, connector_id,
                    "; ".join(reasons[:3]))
        self._event("reading.rejected", connector_id=connector_id, reasons=reasons[:10])

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, message_id: str | None = None,
                               data: str | None = None) -> call_result.DataTransfer:
        self._event("data_transfer", vendor_id=vendor_id, message_id=message_id, data=data)
        return call_result.DataTransfer(status=DataTransferStatus.unknown_vendor_id)

    @on(Action.firmware_status_notification)
    async def on_firmware_status(self, status: str) -> call_result.FirmwareStatusNotification:
        await self.ctx.store.core.write(repo.progress(self.id, "firmware_status", status))
        self._event("firmware_status", status=status)
        return call_result.FirmwareStatusNotification()

    @on(Action.diagnostics_status_notification)
    async def on_diagnostics_status(self, status: str
                                    ) -> call_result.DiagnosticsStatusNotification:
        await self.ctx.store.core.write(repo.progress(self.id, "diagnostics_status", status))
        self._event("diagnostics_status", status=status)
        return call_result.DiagnosticsStatusNotification()
