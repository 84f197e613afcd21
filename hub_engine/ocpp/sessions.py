"""The charge point's own messages about sessions: status, badges, transactions, meters.

Besides recording them, this is where the hub's picture of a connector is kept true to
the field: a session the charge point forgot (a reboot that lost its transaction) is
closed by the rules of OCPP 1.6 rather than left open for ever, and a meter value no
connector could produce is rejected (:mod:`hub_engine.ocpp.measured`).
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocpp.exceptions import (
    OccurenceConstraintViolationError,
    PropertyConstraintViolationError,
    TypeConstraintViolationError,
)
from ocpp.routing import after, on
from ocpp.v16 import call, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus

from hub_engine.clock import iso_utc, parse_iso
from hub_engine.ocpp import repo
from hub_engine.ocpp.measured import (
    Measured,
    Offered,
    PlausibilityLimits,
    check_samples,
    connector_current,
    connector_offered,
)
from hub_engine.ocpp.meter_values import meter_summary, normalise_meter_values

if TYPE_CHECKING:
    from hub_engine.ocpp.station import OcppContext

__all__ = ["SessionHandlers"]

log = logging.getLogger(__name__)
_REJECT_ALERT_EVERY_S = 60.0
_NO_TRANSACTION = frozenset({"Available", "Preparing"})
_UNCONFIGURED_CONNECTORS = 8  # a charge point not in the configuration that did not say
_MAX_REGISTER_WH = 10**11  # 100 GWh (see measured.py)


def _required(name: str, value: Any) -> Any:
    if value is None:
        raise OccurenceConstraintViolationError(description=f"{name} is required")
    return value


def _check_int(name: str, value: Any, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeConstraintViolationError(
            description=f"{name} must be an integer, got {value!r:.40}")
    if not lo <= value <= hi:
        raise PropertyConstraintViolationError(description=f"{name} {value!s:.40}: expected "
                                                           f"{lo}..{hi}")


def _check_register(name: str, value: Any) -> None:
    _check_int(name, value, 0, _MAX_REGISTER_WH)


class SessionHandlers:
    """Mixed into :class:`hub_engine.ocpp.station.Station` (its state is declared here)."""

    id: str
    ctx: OcppContext
    connector_status: dict[int, str]
    open_transactions: dict[int, int]  # connector → transaction id
    refused_starts: dict[int, int]  # connector → a transaction to stop once answered

    if TYPE_CHECKING:  # the station's
        def spawn(self, coro: Any) -> Any: ...

        async def request(self, payload: Any, timeout_s: float | None = None,
                          trusted: bool = False) -> Any: ...
    # Latest believed current per connector on the charge point's L1..L3, and when.
    measured: dict[int, Measured]
    offered: dict[int, Offered]
    meter_start_wh: dict[int, float]
    register_wh: dict[int, float]
    plausible: PlausibilityLimits
    _rejected_at: dict[int, float]  # connector → when last alerted

    capabilities: dict[str, Any]
    current_call: Any  # the charge point's call being handled (ocpp.messages.Call)

    def _relay(self) -> Any:
        """The CPO relay, when this charge point is relayed (hub_engine.ocpp.cpo)."""
        relay = self.ctx.cpo
        return relay if relay is not None and relay.relayed(self.id) else None

    async def _queue_for_cpo(self, action: str, local_tx: int | None) -> int | None:
        """Owe this call to the CPO, on disk, before the charge point's answer."""
        relay, msg = self._relay(), self.current_call
        if relay is None or msg is None:
            return None
        row: int = await relay.queue(self, action, msg.payload, msg.unique_id, local_tx)
        return row

    def _event(self, topic: str, journal: bool = True, **data: Any) -> None:
        raise NotImplementedError

    def _check_connector(self, connector_id: Any, whole: bool) -> None:
        """A connector it has (0, the whole charge point, where ``whole``): a session or
        a sample on connector 99 or -1 would never close or never count."""
        if not isinstance(connector_id, int) or isinstance(connector_id, bool):
            raise TypeConstraintViolationError(
                description=f"connectorId must be an integer, got {connector_id!r:.40}")
        cp = self.ctx.charge_points.get(self.id)
        reported = str(self.capabilities.get("NumberOfConnectors", ""))
        n = cp.connectors if cp is not None else (
            int(reported) if reported.isdigit() else _UNCONFIGURED_CONNECTORS)
        if not (0 if whole else 1) <= connector_id <= n:
            raise PropertyConstraintViolationError(
                description=f"connectorId {connector_id}: this charge point has "
                            f"connectors 1..{n}")

    def _authorized(self, id_tag: str, connector_id: int | None = None) -> IdTagInfo:
        if self.ctx.access is not None:
            d = self.ctx.access.authorize(self.id, id_tag, connector_id)
            info = IdTagInfo(status=AuthorizationStatus(d.status),
                             expiry_date=iso_utc(d.expiry) if d.expiry else None,
                             parent_id_tag=d.parent_id_tag)
        else:
            cfg = self.ctx.config
            known = {t.casefold() for t in cfg.id_tags}
            ok = cfg.accept_all_id_tags or id_tag.casefold() in known  # idTags: CiString20
            info = IdTagInfo(status=AuthorizationStatus.accepted if ok
                             else AuthorizationStatus.invalid)
        if connector_id is not None and self._reserved(connector_id, id_tag, info):
            return IdTagInfo(status=AuthorizationStatus.invalid)
        return info

    def _reserved(self, connector_id: int, id_tag: str, info: IdTagInfo) -> bool:
        """Held for another badge (hub_engine.access.reservations)."""
        held = self.ctx.reservations
        if held is None or info.status != AuthorizationStatus.accepted:
            return False
        why = held.refuses(self.id, connector_id, id_tag, info.parent_id_tag)
        if why is not None:
            log.info("%s/%d: badge refused: %s", self.id, connector_id, why)
        return why is not None

    @on(Action.status_notification)
    async def on_status(self, connector_id: int, error_code: str, status: str,
                        info: str | None = None, vendor_id: str | None = None,
                        vendor_error_code: str | None = None,
                        **_: Any) -> call_result.StatusNotification:
        self._check_connector(connector_id, whole=True)
        now = self.ctx.clock.now()
        fault = repo.Fault(error_code, info, vendor_id, vendor_error_code)
        await self.ctx.store.core.write(repo.status(self.id, connector_id, status, fault, now))
        self.connector_status[connector_id] = status
        self._event("status", connector_id=connector_id, status=status, error_code=error_code,
                    vendor_error_code=vendor_error_code)
        if status in _NO_TRANSACTION and connector_id in self.open_transactions:
            # OCPP 1.6 §4.9: no transaction runs on an Available or Preparing connector;
            # a charge point that rebooted and lost it never sends its StopTransaction.
            await self._close_stale(connector_id, f"status {status} with no transaction",
                                    now)
        return call_result.StatusNotification()

    @on(Action.authorize)
    async def on_authorize(self, id_tag: str) -> call_result.Authorize:
        relay = self._relay()
        info = (await relay.authorize(self, id_tag, self.current_call.unique_id)
                if relay is not None else self._authorized(id_tag))
        self._event("authorize", id_tag=id_tag, status=str(info.status))
        return call_result.Authorize(id_tag_info=info)

    @on(Action.start_transaction)
    async def on_start(self, connector_id: int, id_tag: str, meter_start: int, timestamp: str,
                       reservation_id: int | None = None,
                       **_: Any) -> call_result.StartTransaction:
        self._check_connector(connector_id, whole=False)
        _check_register("meterStart", meter_start)
        ts = parse_iso(timestamp) or self.ctx.clock.now()
        tx_id = await self.ctx.store.core.write(
            repo.start_transaction(self.id, connector_id, id_tag, meter_start, ts))
        # One transaction per connector: any other still open was forgotten by it (the
        # one the hub knows of; the job closes every other in the database with it).
        if self.open_transactions.get(connector_id, tx_id) != tx_id:
            await self._close_stale(connector_id, "a new transaction started on the "
                                    "connector", ts, keep=tx_id)
        self.open_transactions[connector_id] = tx_id
        self.meter_start_wh[connector_id] = meter_start
        self.register_wh.pop(connector_id, None)
        row = await self._queue_for_cpo("StartTransaction", tx_id)
        if row is None:
            info = self._authorized(id_tag, connector_id)
        else:  # the CPO decides if it answers in time (docs/cpo.md)
            info = await self._relay().start_info(self, id_tag, row)
            if self._reserved(connector_id, id_tag, info):
                info = IdTagInfo(status=AuthorizationStatus.invalid)
        if info.status != AuthorizationStatus.accepted and (row is not None or (
                self.ctx.reservations is not None
                and self.ctx.reservations.holder(self.id, connector_id) is not None)):
            # Held for another badge: stopped by the hub whatever the firmware does with
            # the refusal (StopTransactionOnInvalidId false, or a reservation it ignores),
            # once it has its transaction id (after the answer).
            self.refused_starts[connector_id] = tx_id
        self._event("session.started", connector_id=connector_id, transaction_id=tx_id,
                    id_tag=id_tag, status=str(info.status), meter_start_wh=meter_start,
                    reservation_id=reservation_id)
        return call_result.StartTransaction(transaction_id=tx_id, id_tag_info=info)

    @after(Action.start_transaction)
    async def after_start(self, connector_id: int, **_: Any) -> None:
        tx_id = self.refused_starts.pop(connector_id, None)
        if tx_id is not None:
            self.spawn(self._stop_refused(tx_id))  # not in the receive loop: its answer

    async def _stop_refused(self, tx_id: int) -> None:
        try:
            await self.request(call.RemoteStopTransaction(transaction_id=tx_id), timeout_s=30)
        except Exception as exc:  # recorded; the EMS still counts what it may draw
            log.warning("%s: could not stop transaction %s on a reserved connector: %s",
                        self.id, tx_id, exc)

    @on(Action.stop_transaction, skip_schema_validation=True)
    async def on_stop(self, meter_stop: Any = None, timestamp: Any = None,
                      transaction_id: Any = None, reason: str | None = None,
                      id_tag: str | None = None,
                      transaction_data: list[dict[str, Any]] | None = None,
                      **_: Any) -> call_result.StopTransaction:
        # Not schema-validated (field firmware's transactionData): checked here instead.
        _check_register("meterStop", _required("meterStop", meter_stop))
        # Any id a database row can hold: an unknown one (even -1) is kept as an orphan.
        _check_int("transactionId", _required("transactionId", transaction_id), -2**63,
                   2**63 - 1)
        _required("timestamp", timestamp)
        if transaction_data is not None and not isinstance(transaction_data, list):
            raise TypeConstraintViolationError(description="transactionData must be a list")
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
        await self._queue_for_cpo("StopTransaction", None)
        relay = self._relay()
        info = None if not id_tag else (
            relay.offline(self, id_tag) if relay is not None else self._authorized(id_tag))
        return call_result.StopTransaction(id_tag_info=info)

    # Field firmware sends measurands outside the schema's enum (``Current.Import.L1``,
    # OCPP-INTEROP §7): validated by the normaliser instead of refused whole.
    @on(Action.meter_values, skip_schema_validation=True)
    async def on_meter_values(self, connector_id: Any = None, meter_value: Any = None,
                              transaction_id: Any = None) -> call_result.MeterValues:
        self._check_connector(_required("connectorId", connector_id), whole=True)
        if transaction_id is not None:
            _check_int("transactionId", transaction_id, -2**63, 2**63 - 1)
        if not isinstance(_required("meterValue", meter_value), list):
            raise TypeConstraintViolationError(description="meterValue must be a list")
        await self._store_samples(connector_id, meter_value, transaction_id)
        if transaction_id is not None:
            await self._queue_for_cpo("MeterValues", None)
        return call_result.MeterValues()

    async def _store_samples(self, connector_id: int, meter_value: list[dict[str, Any]],
                             transaction_id: int | None) -> None:
        received = self.ctx.clock.now()
        items, dropped = normalise_meter_values(meter_value, received)
        items, rejected = check_samples(items, self.plausible)
        if rejected:
            self._reject(connector_id, rejected)
        measured = connector_current(items, self.ctx.clock.monotonic())
        if measured is not None and connector_id:
            self.measured[connector_id] = measured
        offered = connector_offered(items, self.ctx.clock.monotonic(), received)
        if offered is not None and connector_id:
            self.offered[connector_id] = offered
        if dropped:
            log.warning("%s: %d unreadable meter values dropped", self.id, dropped)
        if items:
            await self.ctx.store.samples.write(repo.samples(f"{self.id}/{connector_id}", items))
            summary = meter_summary(items)
            if connector_id and "energy_wh" in summary:
                self.register_wh[connector_id] = summary["energy_wh"]
            self._event("meter", journal=False, connector_id=connector_id,
                        transaction_id=transaction_id, **summary)

    def _reject(self, connector_id: int, reasons: list[str]) -> None:
        """Implausible values never reach the EMS or the samples; said once a minute."""
        now = self.ctx.clock.monotonic()
        if now - self._rejected_at.get(connector_id, -math.inf) < _REJECT_ALERT_EVERY_S:
            return
        self._rejected_at[connector_id] = now
        log.warning("%s/%s: implausible meter values rejected: %s", self.id, connector_id,
                    "; ".join(reasons[:3]))
        self._event("reading.rejected", connector_id=connector_id, reasons=reasons[:10])


    async def _close_stale(self, connector_id: int, reason: str, ts: datetime,
                           keep: int | None = None) -> None:
        """Close the sessions the charge point forgot: marked as closed by the hub, with
        the reason, at the last energy register it reported (a StopTransaction arriving
        later still overwrites them with its own figures)."""
        if keep is None:
            self.open_transactions.pop(connector_id, None)
        register = await self.ctx.store.samples.write(
            repo.last_register(f"{self.id}/{connector_id}"))
        closed = await self.ctx.store.core.write(repo.close_by_hub(
            self.id, connector_id, register, ts, reason, keep))
        if closed:
            log.warning("%s/%s: session %s closed by the hub: %s", self.id, connector_id,
                        ", ".join(map(str, closed)), reason)
        for tx_id in closed:
            self._event("session.stopped", transaction_id=tx_id, orphan=False,
                        meter_stop_wh=register, reason="ClosedByHub",
                        closed_by_hub=reason)
