"""What a simulated charge point does when the central system operates it remotely:
remote start and stop, reservations, reset. A mixin of
:class:`~hub_engine.sim.chargepoint.SimChargePoint` (the `ocpp` library finds inherited
``@on`` handlers by name)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from ocpp.routing import after, on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action

from hub_engine.clock import parse_iso

if TYPE_CHECKING:
    from hub_engine.sim.chargepoint import Connector

__all__ = ["RemoteOperations"]


class RemoteOperations:
    if TYPE_CHECKING:  # what the charge point provides
        connectors: dict[int, Connector]
        _connection: Any

        async def _start(self, conn: Connector, id_tag: str) -> int: ...
        async def unplug(self, connector_id: int, reason: str = ...) -> None: ...
        async def status(self, conn: Connector, status: str) -> None: ...
        def reboot(self) -> None: ...

    # reservation id → (connector, idTag, expiry); made empty by the charge point
    reservations: dict[int, tuple[int, str, datetime | None]]

    @on(Action.remote_start_transaction)
    def on_remote_start(self, id_tag: str, connector_id: int | None = None,
                        charging_profile: dict[str, Any] | None = None) -> Any:
        conn = self.connectors.get(connector_id or 1)
        ok = conn is not None and conn.ev is not None and conn.transaction_id is None
        return call_result.RemoteStartTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.remote_start_transaction)
    async def after_remote_start(self, id_tag: str, connector_id: int | None = None,
                                 **_: Any) -> None:
        conn = self.connectors.get(connector_id or 1)
        if conn is not None and conn.ev is not None and conn.transaction_id is None:
            await self._start(conn, id_tag)  # AuthorizeRemoteTxRequests false: no Authorize

    @on(Action.remote_stop_transaction)
    def on_remote_stop(self, transaction_id: int) -> Any:
        ok = any(c.transaction_id == transaction_id for c in self.connectors.values())
        return call_result.RemoteStopTransaction(status="Accepted" if ok else "Rejected")

    @after(Action.remote_stop_transaction)
    async def after_remote_stop(self, transaction_id: int) -> None:
        for conn in self.connectors.values():
            if conn.transaction_id == transaction_id:
                await self.unplug(conn.id, reason="Remote")

    @on(Action.reserve_now)
    def on_reserve(self, connector_id: int, expiry_date: str, id_tag: str,
                   reservation_id: int, **_: Any) -> Any:
        conn = self.connectors.get(connector_id)
        if conn is None:
            return call_result.ReserveNow(status="Rejected")
        if conn.status == "Faulted":
            return call_result.ReserveNow(status="Faulted")
        if conn.ev is not None or conn.transaction_id is not None:
            return call_result.ReserveNow(status="Occupied")
        self.reservations[reservation_id] = (connector_id, id_tag, parse_iso(expiry_date))
        return call_result.ReserveNow(status="Accepted")

    @after(Action.reserve_now)
    async def after_reserve(self, connector_id: int, reservation_id: int, **_: Any) -> None:
        if reservation_id in self.reservations:
            await self.status(self.connectors[connector_id], "Reserved")

    @on(Action.cancel_reservation)
    def on_cancel_reservation(self, reservation_id: int) -> Any:
        ok = reservation_id in self.reservations
        return call_result.CancelReservation(status="Accepted" if ok else "Rejected")

    @after(Action.cancel_reservation)
    async def after_cancel_reservation(self, reservation_id: int) -> None:
        held = self.reservations.pop(reservation_id, None)
        if held is not None and self.connectors[held[0]].status == "Reserved":
            await self.status(self.connectors[held[0]], "Available")

    @on(Action.reset)
    def on_reset(self, type: str) -> Any:
        return call_result.Reset(status="Accepted")

    @after(Action.reset)
    async def after_reset(self, type: str) -> None:
        self.reboot()
        await self._connection.close()
