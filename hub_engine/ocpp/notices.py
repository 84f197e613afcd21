"""The charge point's notices besides sessions: vendor data and its firmware and
diagnostics progress. A mixin of :class:`hub_engine.ocpp.station.Station`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ocpp.routing import on
from ocpp.v16 import call_result
from ocpp.v16.enums import Action, DataTransferStatus

from hub_engine.ocpp import repo

if TYPE_CHECKING:
    from hub_engine.ocpp.station import OcppContext

__all__ = ["Notices"]

_DATA_TRANSFER = {s.value for s in DataTransferStatus}


class Notices:
    id: str
    ctx: OcppContext
    current_call: Any

    if TYPE_CHECKING:  # the station's
        def _event(self, topic: str, journal: bool = True, **data: Any) -> None: ...
        def _relay(self) -> Any: ...

    @on(Action.data_transfer)
    async def on_data_transfer(self, vendor_id: str, message_id: str | None = None,
                               data: str | None = None) -> call_result.DataTransfer:
        self._event("data_transfer", vendor_id=vendor_id, message_id=message_id, data=data)
        relay, msg = self._relay(), self.current_call
        answer = (await relay.ask(self, "DataTransfer", msg.payload, msg.unique_id)
                  if relay is not None and msg is not None else None)
        if answer is not None and answer.get("status") in _DATA_TRANSFER:
            return call_result.DataTransfer(status=DataTransferStatus(answer["status"]),
                                            data=answer.get("data"))
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
