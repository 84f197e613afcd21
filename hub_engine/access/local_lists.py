"""Local authorisation lists: what each charge point may accept while the hub is away.

A list cannot carry time windows nor credit, so it holds the badges allowed on that
charge point (Accepted) and those blocked (Blocked), with expiry and parent. It is sent
whole when the charge point's version differs from the one recorded here (a new or
reset charge point), else as a differential update of what changed; a list longer than
the charge point's ``SendLocalListMaxLength`` goes as a full update of the first part
and differential updates of the rest, each with the next version. At every boot the hub
also sets the offline policy: local list on, authorisation cache off (a cache cannot
know a window closed or a credit ran out), no offline start for unknown badges.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Any

from hub_engine.clock import iso_utc

if TYPE_CHECKING:
    from hub_engine.access.service import AccessService

__all__ = ["OFFLINE_POLICY", "LocalLists"]

log = logging.getLogger(__name__)
OFFLINE_POLICY = {"LocalAuthListEnabled": "true", "LocalAuthorizeOffline": "true",
                  "LocalPreAuthorize": "false", "AuthorizationCacheEnabled": "false",
                  "AllowOfflineTxForUnknownId": "false"}
DEFAULT_MAX_LENGTH = 100


class LocalLists:
    def __init__(self, access: AccessService) -> None:
        self.access = access
        self._locks: dict[str, asyncio.Lock] = {}

    def entries(self, cp_id: str) -> dict[str, dict[str, Any]]:
        """idTag → idTagInfo for this charge point (badges not allowed here left out)."""
        a, out = self.access, {}
        relay = a.server.ctx.cpo if a.server is not None else None
        if relay is not None and relay.relayed(cp_id) and (
                relay.config_of(cp_id).offline_auth != "access"):
            # Relayed: the CPO's badges, not the hub's members (docs/cpo.md).
            return dict(relay.local_list(cp_id))
        places = a.places.get(cp_id, {cp_id})
        now = a.clock.now()
        for badge in a.badges.values():
            member = a.members.get(badge.member_id) if badge.member_id else None
            if member is not None and member.charge_points and not (
                    set(member.charge_points) & places):
                continue
            if badge.expiry is not None and badge.expiry <= now:
                continue
            blocked = badge.status == "Blocked" or (member is not None and member.blocked)
            info: dict[str, Any] = {"status": "Blocked" if blocked else "Accepted"}
            if badge.expiry is not None:
                info["expiryDate"] = iso_utc(badge.expiry)
            if badge.parent_id_tag:
                info["parentIdTag"] = badge.parent_id_tag
            out[badge.id_tag] = info
        return out

    def _recorded(self, cp_id: str) -> tuple[int, dict[str, dict[str, Any]]]:
        rows = self.access.store.read("SELECT version, entries FROM local_lists WHERE"
                                      " charge_point_id = ?", [cp_id])
        return (int(rows[0][0]), json.loads(rows[0][1])) if rows else (0, {})

    async def _record(self, cp_id: str, version: int, entries: dict[str, Any]) -> None:
        def job(db: Any) -> None:
            db.execute("INSERT OR REPLACE INTO local_lists (charge_point_id, version, entries)"
                       " VALUES (?, ?, ?)", [cp_id, version, json.dumps(entries)])
        await self.access.store.core.write(job)

    async def _call(self, cp_id: str, name: str, params: dict[str, Any]) -> Any:
        commands = self.access.commands
        assert commands is not None
        return await commands.run(cp_id, name, params, "engine")

    def _supported(self, cp_id: str) -> tuple[bool, int]:
        station = self.access.server.stations.get(cp_id) if self.access.server else None
        caps = getattr(station, "capabilities", {}) or {}
        profiles = str(caps.get("SupportedFeatureProfiles", "LocalAuthListManagement"))
        raw = caps.get("SendLocalListMaxLength") or caps.get("LocalAuthListMaxLength")
        try:
            max_len = max(1, int(raw)) if raw is not None else DEFAULT_MAX_LENGTH
        except (TypeError, ValueError):
            max_len = DEFAULT_MAX_LENGTH
        return "LocalAuthListManagement" in profiles, max_len

    async def after_boot(self, cp_id: str) -> None:
        """The charge point was just accepted: the offline policy, then its list."""
        for key, value in OFFLINE_POLICY.items():
            await self._call(cp_id, "change_configuration", {"key": key, "value": value})
        await self.sync(cp_id)

    async def sync_all(self, clear_cache: bool = False) -> None:
        server = self.access.server
        for cp_id in list(server.stations) if server else []:
            if clear_cache:
                await self._call(cp_id, "clear_cache", {})
            await self.sync(cp_id)

    async def sync(self, cp_id: str) -> None:
        lock = self._locks.setdefault(cp_id, asyncio.Lock())
        async with lock:
            supported, max_len = self._supported(cp_id)
            if not supported:
                return
            version, sent = self._recorded(cp_id)
            wanted = self.entries(cp_id)
            got = await self._call(cp_id, "get_local_list_version", {})
            theirs = got.payload.get("list_version") if got.outcome == "accepted" else None
            if theirs != version or not version:
                batches = self._full(wanted, max_len)
            else:
                changed = [{"idTag": t, "idTagInfo": i} for t, i in wanted.items()
                           if sent.get(t) != i]
                changed += [{"idTag": t} for t in sent if t not in wanted]  # removals
                batches = [("Differential", changed[k:k + max_len])
                           for k in range(0, len(changed), max_len)]
            for update, items in batches:
                version += 1
                resp = await self._call(cp_id, "send_local_list", {
                    "list_version": version, "update_type": update,
                    "local_authorization_list": items})
                if resp.outcome != "accepted":
                    log.warning("%s: local list %s refused (%s); full update next time",
                                cp_id, version, resp.status or resp.error)
                    await self._record(cp_id, 0, {})
                    return
            if batches:
                await self._record(cp_id, version, wanted)
                log.info("%s: local list at version %d (%d badges)", cp_id, version,
                         len(wanted))

    @staticmethod
    def _full(wanted: dict[str, dict[str, Any]], max_len: int
              ) -> list[tuple[str, list[dict[str, Any]]]]:
        items = [{"idTag": t, "idTagInfo": i} for t, i in wanted.items()]
        if not items:
            return [("Full", [])]
        return [("Full" if k == 0 else "Differential", items[k:k + max_len])
                for k in range(0, len(items), max_len)]
