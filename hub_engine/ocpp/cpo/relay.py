"""The hub as an OCPP proxy: charge points in ``mode: cpo`` relayed to their site's CPO.

The hub stays each charge point's central system (it records everything, manages the
power, answers every call itself); for a relayed one it also opens a link to the CPO as
that charge point (:mod:`.link`) and passes everything on:

- transaction messages (StartTransaction, MeterValues, StopTransaction) go through a
  queue on disk (:mod:`.outbox`), written before the charge point's answer, sent in
  order and removed once the CPO answered: a CPO away for days, or a hub restart
  meanwhile, loses and reorders nothing. The charge point is given the hub's transaction
  id; the CPO's is learned from its answer and put in every later message;
- other messages (StatusNotification, firmware and diagnostics status) go up as they
  come while the link is up (DataTransfer waits for the CPO's answer, :mod:`.badges`);
  a link that comes back replays the charge point's BootNotification, then each
  connector's status;
- a badge is decided by the CPO when it answers within ``auth_timeout_s``; otherwise by
  ``offline_auth`` (docs/cpo.md). A start the CPO refuses later is stopped by the hub;
- the CPO's calls are relayed to the charge point, but for what the hub owns
  (:mod:`.commands`).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import ssl
from collections.abc import Callable, Coroutine
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from hub_engine.clock import Clock
from hub_engine.config import ChargePointConfig, HubConfig
from hub_engine.config.cpo import CpoConfig
from hub_engine.ems.external import ExternalLimits, LimitRequest
from hub_engine.logs import redact_url, register_secret
from hub_engine.ocpp.cpo.badges import CpoBadges
from hub_engine.ocpp.cpo.link import CallHandler, CpoCallError, Link, LinkDown, LinkSettings
from hub_engine.ocpp.cpo.outbox import Outbox, Queued
from hub_engine.ocpp.cpo.profiles import CpoProfiles
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.ocpp.server import OcppServer
    from hub_engine.ocpp.station import Station

__all__ = ["LIVE", "CpoRelay"]

log = logging.getLogger(__name__)
# Sent as they come (the queued ones are the charge point's handlers' to owe).
LIVE = frozenset({"StatusNotification", "FirmwareStatusNotification",
                  "DiagnosticsStatusNotification"})


class CpoRelay(CpoBadges):
    name = "cpo"

    def __init__(self, config: HubConfig, server: OcppServer, store: Store,
                 clock: Clock) -> None:
        self.server, self.store, self.clock = server, store, clock
        self.outbox = Outbox(store)
        self.sites: dict[str, tuple[str, CpoConfig, ChargePointConfig]] = {}
        for site in config.sites:
            for cp in site.charge_points():
                if cp.mode == "cpo" and site.cpo is not None:
                    self.sites[cp.id] = (site.id, site.cpo, cp)
                    if cp.cpo_password:
                        register_secret(cp.cpo_password)
        self.profiles = CpoProfiles(
            store, clock, {cp_id: cp for cp_id, (_, _, cp) in self.sites.items()},
            {cp.id: s.voltage_v for s in config.sites for cp in s.charge_points()})
        self.links: dict[str, Link] = {}
        self._wake: dict[str, asyncio.Event] = {}
        self._starts: dict[int, asyncio.Future[dict[str, Any] | None]] = {}
        self._booted: dict[str, int] = {}  # epoch of the boot each link sent up
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closing = False
        self._external: ExternalLimits | None = None
        self.dropped = 0  # messages the CPO answered with a CALLERROR, or unmappable
        self.on_call: CallHandler | None = None
        self.on_list: Callable[[], None] | None = None  # the CPO sent a local list

    # -- component ----------------------------------------------------------------------
    async def start(self) -> None:
        self.profiles.restore()
        if self._external is not None:  # restored before: a charge point local again
            for req in self._external.requests():  # is no longer capped by its old CPO
                if req.source == "cpo" and req.target.split("/")[0] not in self.sites:
                    self._external.clear(req.target, "cpo")
        for cp_id in self.outbox.waiting():
            if cp_id in self.sites:
                self.ensure(cp_id)  # owed messages go up even before it reconnects
        if self.sites:
            self._spawn(self._tick())

    async def stop(self) -> None:
        self._closing = True
        for link in list(self.links.values()):
            await link.close()
        for task in list(self._tasks):
            task.cancel()
        self.links.clear()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _tick(self) -> None:
        while True:  # a CPO schedule's next period, and the daily renewal of its limits
            self.profiles.refresh()
            await self.clock.sleep(1.0)

    def relayed(self, cp_id: str) -> bool:
        return cp_id in self.sites

    def ensure(self, cp_id: str) -> None:
        """Its link up (while it is connected to the hub or messages are owed)."""
        if self._closing:
            return
        if cp_id in self.links:
            self._wake[cp_id].set()
            return
        _, cfg, cp = self.sites[cp_id]
        url = cp.cpo_url or f"{(cfg.url or '').rstrip('/')}/{cp_id}"
        context = None
        if url.startswith("wss://"):
            context = ssl.create_default_context(cafile=cfg.ca_file)
            if cp.cpo_client_cert_file and cp.cpo_client_key_file:  # security profile 3
                context.load_cert_chain(cp.cpo_client_cert_file, cp.cpo_client_key_file)
        def journal(direction: str, frame: str) -> None:  # kept beside the charge point's
            self.store.journal.frame(cp_id, direction, redact_url(frame), self.clock.now())
        link = Link(LinkSettings(cp_id, url, cp.cpo_password, context, cfg), self.clock,
                    self._on_cpo_call, self._on_up, journal)
        self.links[cp_id], self._wake[cp_id] = link, asyncio.Event()
        self._spawn(self._run(cp_id, link))

    async def _run(self, cp_id: str, link: Link) -> None:
        runner = self._spawn(link.run())
        try:
            await self._drain(cp_id, link)
        finally:
            await link.close()
            runner.cancel()
            if self.links.get(cp_id) is link:
                del self.links[cp_id]
            log.info("%s: CPO link closed (charge point gone, nothing owed)", cp_id)
        if cp_id in self.server.stations and not self._closing:
            self.ensure(cp_id)  # it came back while this link was closing

    # -- the charge point's messages ----------------------------------------------------
    def on_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        """A listener of the OCPP server's events."""
        if cp_id not in self.sites:
            return
        if topic == "disconnected" and cp_id in self._wake:
            self._wake[cp_id].set()  # the drain closes the link once nothing is owed
        elif topic == "session.started" and data.get("connector_id"):
            self._spawn(self.profiles.started(cp_id, int(data["connector_id"]),
                                              int(data["transaction_id"])))
        elif topic == "session.stopped" and data.get("transaction_id") is not None:
            self._spawn(self.profiles.stopped(cp_id, int(data["transaction_id"])))

    async def queue(self, station: Station, action: str, payload: dict[str, Any],
                    unique_id: str, local_tx: int | None) -> int:
        """Owe a transaction message to the CPO (before the charge point's answer)."""
        cfg = self.config_of(station.id)
        row = await self.outbox.put(station.id, unique_id, action, payload, local_tx,
                                    self.clock.now())
        if row % 1000 == 0 and self.outbox.count(station.id) > cfg.max_queued:
            dropped = await self.outbox.trim(station.id, cfg.max_queued)
            log.warning("%s: CPO queue full: %d oldest meter values dropped", station.id,
                        dropped)
        self.ensure(station.id)
        return row

    def live(self, station: Station, action: str, payload: dict[str, Any],
             unique_id: str) -> None:
        link = self.links.get(station.id)
        if action == "BootNotification":
            self._spawn(self.outbox.set_state(station.id, boot=_json(payload)))
            epoch = self.server.ctx.epochs.get(station.id, 0)
            if link is None or not link.online.is_set() or self._booted.get(
                    station.id) == epoch:
                return  # the link sends it when it comes up; a retry is no news
            self._booted[station.id] = epoch
        # A meter value outside a transaction (connector 0, a site meter) is news only now.
        untied = action == "MeterValues" and payload.get("transactionId") is None
        if link is not None and link.online.is_set() and (
                action in LIVE or action == "BootNotification" or untied):
            self._spawn(self._send_live(link, action, payload, unique_id))

    async def _send_live(self, link: Link, action: str, payload: dict[str, Any],
                         unique_id: str) -> None:
        with contextlib.suppress(LinkDown, TimeoutError, CpoCallError):
            await link.call(action, payload, unique_id)

    # -- towards the CPO ----------------------------------------------------------------
    async def _on_up(self, link: Link) -> None:
        """A new link: its BootNotification (until accepted), each connector's status."""
        cp_id = link.cp_id
        while True:
            boot, _ = self.outbox.state(cp_id)
            if boot is None:  # never booted here yet: wait for its first boot
                await self.clock.sleep(1.0)
                continue
            answer = await link.call("BootNotification", boot)
            interval = float(answer.get("interval") or 0)
            if answer.get("status") == "Accepted":
                if interval > 0:
                    link.heartbeat_s = max(interval, 10.0)
                break
            await self.clock.sleep(interval if interval >= 1 else 30.0)  # as it says
        self._booted[cp_id] = self.server.ctx.epochs.get(cp_id, 0)
        station = self.server.stations.get(cp_id)
        for conn, status in sorted((station.connector_status if station else {}).items()):
            await link.call("StatusNotification", {"connectorId": conn, "status": status,
                                                   "errorCode": "NoError"})
        link.online.set()
        self._wake[cp_id].set()

    async def _drain(self, cp_id: str, link: Link) -> None:
        wake = self._wake[cp_id]
        while True:
            wake.clear()  # before the read: a message queued after it sets it again
            item = self.outbox.first(cp_id)
            if item is None:
                if cp_id not in self.server.stations:
                    return
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), 5.0)
                continue
            if not link.online.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(link.online.wait(), 5.0)
                continue
            await self._send_queued(cp_id, link, item)

    async def _send_queued(self, cp_id: str, link: Link, item: Queued) -> None:
        payload = self._cpo_ids(cp_id, item)
        answer: dict[str, Any] | None = None
        if payload is not None:
            try:
                answer = await link.call(item.action, payload, item.unique_id)
            except CpoCallError as exc:
                self.dropped += 1
                log.warning("%s: the CPO refused %s %s: %s", cp_id, item.action,
                            item.unique_id, exc)
            except TimeoutError:
                log.warning("%s: the CPO did not answer %s in time; relinking", cp_id,
                            item.action)
                await link.drop()
                return
            except LinkDown:
                return
        else:
            self.dropped += 1
        cpo_tx = status = None
        if item.action == "StartTransaction" and answer is not None:
            info = answer.get("idTagInfo") or {}
            cpo_tx, status = answer.get("transactionId"), info.get("status")
            site_id = self.sites[cp_id][0]
            await self.outbox.remember(site_id, str(item.payload.get("idTag", "")), info,
                                       "answer", self.clock.now())
        await self.outbox.done(cp_id, item, cpo_tx, status, self.clock.now())
        fut = self._starts.get(item.id)
        if fut is not None and not fut.done():
            fut.set_result((answer or {}).get("idTagInfo") if answer else None)
        elif status not in (None, "Accepted") and item.local_tx is not None:
            self._stop_refused(cp_id, item.local_tx, str(status))

    def _cpo_ids(self, cp_id: str, item: Queued) -> dict[str, Any] | None:
        """The message with the CPO's transaction id (None: the CPO has no such one)."""
        local = item.payload.get("transactionId")
        if item.action == "StartTransaction" or local is None:
            return item.payload
        cpo_tx = self.outbox.cpo_tx(cp_id, int(local))
        if cpo_tx is None:
            log.warning("%s: %s for transaction %s, which the CPO does not know: not sent",
                        cp_id, item.action, local)
            return None
        return {**item.payload, "transactionId": cpo_tx}

    def _stop_refused(self, cp_id: str, local_tx: int, status: str) -> None:
        """A start the CPO refused once it heard of it: stopped if it still runs."""
        station = self.server.stations.get(cp_id)
        if station is None or local_tx not in station.open_transactions.values():
            return
        log.warning("%s: the CPO refused transaction %d's badge (%s): stopping it", cp_id,
                    local_tx, status)
        self._spawn(station._stop_refused(local_tx))

    async def _on_cpo_call(self, cp_id: str, action: str, payload: dict[str, Any],
                           unique_id: str) -> dict[str, Any]:
        if self.on_call is None:
            raise CpoCallError("NotSupported", "this hub relays no CPO calls")
        return await self.on_call(cp_id, action, payload, unique_id)

    def attach_ems(self, external: ExternalLimits) -> None:
        """The CPO's profiles become external limits of source ``cpo``."""
        self._external = external
        def apply(target: str, limit_a: float | None, limit_w: float | None) -> None:
            if limit_a is None and limit_w is None:
                external.clear(target, "cpo")
                return
            external.set(LimitRequest(target=target, source="cpo", limit_a=limit_a,
                                      limit_w=limit_w,
                                      expires_at=self.clock.now() + timedelta(days=6)))
        self.profiles.apply = apply

    # -- for the API --------------------------------------------------------------------
    def describe(self) -> list[dict[str, Any]]:
        out = []
        for cp_id in sorted(self.sites):
            link = self.links.get(cp_id)
            out.append({"charge_point_id": cp_id, "linked": link is not None,
                        "online": link is not None and link.online.is_set(),
                        # A password written in the URL is never shown.
                        "url": redact_url(link.settings.url) if link else None,
                        "queued": self.outbox.count(cp_id),
                        "last_error": link.last_error if link else None})
        return out


def _json(payload: dict[str, Any]) -> str:
    return json.dumps(payload, separators=(",", ":"))

