"""The CPO relay's decisions on badges and its other questions to the CPO: asked while
it answers in time, decided here otherwise (``offline_auth``, docs/cpo.md). A mixin of
:class:`hub_engine.ocpp.cpo.relay.CpoRelay`."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from ocpp.v16.datatypes import IdTagInfo
from ocpp.v16.enums import AuthorizationStatus

from hub_engine.clock import Clock, parse_iso
from hub_engine.config import ChargePointConfig
from hub_engine.config.cpo import CpoConfig
from hub_engine.ocpp.cpo.link import CpoCallError, Link, LinkDown
from hub_engine.ocpp.cpo.outbox import Outbox
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.ocpp.station import Station

__all__ = ["CpoBadges", "tag_info"]

log = logging.getLogger(__name__)


class CpoBadges:
    clock: Clock
    store: Store
    outbox: Outbox
    sites: dict[str, tuple[str, CpoConfig, ChargePointConfig]]
    links: dict[str, Link]
    _starts: dict[int, asyncio.Future[dict[str, Any] | None]]

    def config_of(self, cp_id: str) -> CpoConfig:
        return self.sites[cp_id][1]

    async def ask(self, station: Station, action: str, payload: dict[str, Any],
                  unique_id: str) -> dict[str, Any] | None:
        """The CPO's own answer to a call of the charge point (DataTransfer: vendor data
        meant for it), if it comes within ``auth_timeout_s``; None otherwise."""
        cfg = self.config_of(station.id)
        link = self.links.get(station.id)
        if link is None:
            return None
        deadline = self.clock.monotonic() + cfg.auth_timeout_s
        try:
            await asyncio.wait_for(link.online.wait(), cfg.auth_timeout_s)
            return await link.call(action, payload, unique_id,
                                   max(0.1, deadline - self.clock.monotonic()))
        except (LinkDown, TimeoutError, CpoCallError):
            return None

    # -- badges -------------------------------------------------------------------------
    async def authorize(self, station: Station, id_tag: str, unique_id: str) -> IdTagInfo:
        site_id, cfg, _ = self.sites[station.id]
        link = self.links.get(station.id)
        if link is not None:
            try:  # a link coming up (after a boot, a restart) gets the time left
                deadline = self.clock.monotonic() + cfg.auth_timeout_s
                await asyncio.wait_for(link.online.wait(), cfg.auth_timeout_s)
                answer = await link.call("Authorize", {"idTag": id_tag}, unique_id,
                                         max(0.1, deadline - self.clock.monotonic()))
                info = answer.get("idTagInfo") or {}
                await self.outbox.remember(site_id, id_tag, info, "answer", self.clock.now())
                return tag_info(info)
            except (LinkDown, TimeoutError, CpoCallError) as exc:
                log.info("%s: CPO gave no answer for a badge (%s): decided here",
                         station.id, exc or type(exc).__name__)
        return self.offline(station, id_tag)

    def offline(self, station: Station, id_tag: str) -> IdTagInfo:
        """The decision without the CPO (``offline_auth``)."""
        site_id, cfg, _ = self.sites[station.id]
        policy = cfg.offline_auth
        if policy == "access":
            return station._authorized(id_tag)
        if policy in ("accept", "reject"):
            return IdTagInfo(status=AuthorizationStatus.accepted if policy == "accept"
                             else AuthorizationStatus.invalid)
        known = self.outbox.badge(site_id, id_tag)
        now = self.clock.now()
        ok = known is not None and known[0].status == "Accepted"
        if ok and known is not None:
            expiry = parse_iso(known[0].expiry)
            seen = parse_iso(known[1]) or now
            ok = (expiry is None or expiry > now) and (
                now - seen <= timedelta(days=cfg.auth_cache_days))
        return IdTagInfo(status=AuthorizationStatus.accepted if ok
                         else AuthorizationStatus.invalid)

    async def start_info(self, station: Station, id_tag: str, row: int) -> IdTagInfo:
        """The CPO's answer to this start if it comes within ``auth_timeout_s`` (it goes
        up at once when nothing is owed before it); else the decision made here."""
        cfg = self.config_of(station.id)
        fut: asyncio.Future[dict[str, Any] | None] = (
            asyncio.get_running_loop().create_future())
        self._starts[row] = fut
        try:
            info = await asyncio.wait_for(asyncio.shield(fut), cfg.auth_timeout_s)
        except TimeoutError:
            info = None
        finally:
            self._starts.pop(row, None)
        return tag_info(info) if info is not None else self.offline(station, id_tag)

    def local_list(self, cp_id: str) -> dict[str, dict[str, Any]]:
        """The charge point's own local list when relayed (for when the hub itself is
        away): the badges the CPO listed or answered, Accepted or Blocked, not expired."""
        site_id = self.sites[cp_id][0]
        now = self.clock.now()
        out: dict[str, dict[str, Any]] = {}
        for tag, status, expiry, parent in self.store.read(
                "SELECT id_tag, status, expiry, parent_id_tag FROM cpo_badges WHERE "
                "site_id = ? AND status IN ('Accepted', 'Blocked') ORDER BY seen_at DESC "
                "LIMIT 10000", (site_id,)):
            at = parse_iso(expiry)
            if at is not None and at <= now:
                continue
            info: dict[str, Any] = {"status": status}
            if expiry:
                info["expiryDate"] = expiry
            if parent:
                info["parentIdTag"] = parent
            out[tag] = info
        return out


def tag_info(info: dict[str, Any] | None) -> IdTagInfo:
    info = info or {}
    try:
        status = AuthorizationStatus(info.get("status", "Invalid"))
    except ValueError:
        status = AuthorizationStatus.invalid
    return IdTagInfo(status=status, expiry_date=info.get("expiryDate"),
                     parent_id_tag=info.get("parentIdTag"))
