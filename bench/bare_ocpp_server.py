"""The reference: a bare ``ocpp`` + ``websockets`` central system that stores nothing.

Same library, same schema validation, answers at once. ``bench.ocpp_scale`` runs it beside
the engine to compare CPU per call.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from datetime import UTC, datetime
from typing import Any

from ocpp.routing import on
from ocpp.v16 import ChargePoint, call_result
from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import Action, AuthorizationStatus, RegistrationStatus
from websockets.asyncio.server import serve


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Bare(ChargePoint):  # type: ignore[misc]
    tx = 0

    @on(Action.boot_notification)
    def boot(self, **_: Any) -> Any:
        return call_result.BootNotification(current_time=_now(), interval=60,
                                            status=RegistrationStatus.accepted)

    @on(Action.heartbeat)
    def heartbeat(self) -> Any:
        return call_result.Heartbeat(current_time=_now())

    @on(Action.status_notification)
    def status(self, **_: Any) -> Any:
        return call_result.StatusNotification()

    @on(Action.start_transaction)
    def start_tx(self, **_: Any) -> Any:
        Bare.tx += 1
        return call_result.StartTransaction(
            transaction_id=Bare.tx, id_tag_info=IdTagInfo(status=AuthorizationStatus.accepted))

    @on(Action.stop_transaction)
    def stop_tx(self, **_: Any) -> Any:
        return call_result.StopTransaction()

    @on(Action.meter_values)
    def meter_values(self, **_: Any) -> Any:
        return call_result.MeterValues()


async def main(port: int) -> None:
    async def handler(ws: Any) -> None:
        cp = Bare(ws.request.path.rsplit("/", 1)[-1], ws)
        with contextlib.suppress(Exception):  # a closed connection ends it
            await cp.start()

    async with serve(handler, "127.0.0.1", port, subprotocols=["ocpp1.6"],  # type: ignore[list-item]
                     ping_interval=None):
        await asyncio.Future()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    import logging
    logging.disable(logging.CRITICAL)
    asyncio.run(main(parser.parse_args().port))
