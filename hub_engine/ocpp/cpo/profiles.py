"""The CPO's charging profiles: kept by the hub, never sent raw to the charge point.

What a CPO's profiles allow a connector now (OCPP 1.6 §3.13 stacking, evaluated by
:func:`hub_engine.ocpp.schedule.limit_at`) becomes an external limit of source ``cpo``
on that connector; the EMS then sends the charge point the lower of it and its own
share, in the hub's own profile layout (stack levels the hub owns). The site's limits
always win: a CPO can lower what a car gets, never raise it above the EMS's.

A ChargePointMaxProfile limits the whole charge point: each of its n connectors gets
1/n of it (the EMS has no node per charge point; sharing it evenly is the safe reading).
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from hub_engine.clock import Clock, iso_utc
from hub_engine.config import ChargePointConfig
from hub_engine.ocpp.schedule import limit_at
from hub_engine.store import Store

__all__ = ["CpoProfiles"]

log = logging.getLogger(__name__)
_PURPOSES = ("ChargePointMaxProfile", "TxDefaultProfile", "TxProfile")

# Called with (connector target "CP/1", limit_a, limit_w); both None: no CPO limit.
Apply = Callable[[str, float | None, float | None], None]


class CpoProfiles:
    def __init__(self, store: Store, clock: Clock, charge_points: dict[str, ChargePointConfig],
                 voltage_v: dict[str, float]) -> None:
        self.store, self.clock = store, clock
        self.charge_points, self.voltage_v = charge_points, voltage_v
        self.installed: dict[str, dict[int, list[dict[str, Any]]]] = {}
        self.tx_start: dict[tuple[str, int], tuple[int, datetime]] = {}
        self.applied: dict[str, tuple[float | None, float | None, datetime]] = {}
        self.apply: Apply | None = None

    def restore(self) -> None:
        """The profiles kept before a restart (of the charge points still relayed)."""
        for cp_id, conn, text in self.store.read(
                "SELECT charge_point_id, connector_id, profile FROM cpo_profiles"):
            if cp_id in self.charge_points:
                self.installed.setdefault(cp_id, {}).setdefault(int(conn), []).append(
                    json.loads(text))

    # -- SetChargingProfile / ClearChargingProfile --------------------------------------
    async def set(self, cp_id: str, connector_id: int, profile: dict[str, Any],
                  open_tx: dict[int, int], local_tx: int | None) -> str:
        """Keep it (replacing one of the same id, or of the same purpose and stack
        level); the SetChargingProfile status to answer."""
        cp = self.charge_points[cp_id]
        purpose = profile["chargingProfilePurpose"]
        if connector_id > cp.connectors or (purpose == "ChargePointMaxProfile"
                                            and connector_id != 0):
            return "Rejected"
        if purpose == "TxProfile":
            if connector_id == 0 or connector_id not in open_tx:
                return "Rejected"  # §5.16.3: a TxProfile needs a transaction on it
            profile = {**profile, "transactionId": local_tx or open_tx[connector_id]}
        level = int(profile["stackLevel"])
        mine = self.installed.setdefault(cp_id, {})
        for conn, profiles in mine.items():
            mine[conn] = [p for p in profiles if p["chargingProfileId"] != profile[
                "chargingProfileId"] and not (conn == connector_id and p[
                    "chargingProfilePurpose"] == purpose and p["stackLevel"] == level)]
        mine.setdefault(connector_id, []).append(profile)
        await self._save(cp_id)
        self.refresh(cp_id)
        return "Accepted"

    async def clear(self, cp_id: str, criteria: dict[str, Any]) -> str:
        mine = self.installed.get(cp_id, {})
        found = False
        for conn, profiles in mine.items():
            keep = [p for p in profiles if not _matches(p, conn, criteria)]
            found = found or len(keep) != len(profiles)
            mine[conn] = keep
        if not found:
            return "Unknown"
        await self._save(cp_id)
        self.refresh(cp_id)
        return "Accepted"

    async def pending_tx(self, cp_id: str, connector_id: int, profile: dict[str, Any]) -> None:
        """A RemoteStartTransaction's profile: for the transaction about to start."""
        mine = self.installed.setdefault(cp_id, {})
        mine[connector_id] = [p for p in mine.get(connector_id, [])
                              if p["chargingProfilePurpose"] != "TxProfile"]
        mine[connector_id].append({**profile, "transactionId": None})
        await self._save(cp_id)
        self.refresh(cp_id)

    async def _save(self, cp_id: str) -> None:
        rows = [(cp_id, conn, p["chargingProfilePurpose"], int(p["stackLevel"]),
                 int(p["chargingProfileId"]), p.get("transactionId"), json.dumps(p),
                 iso_utc(self.clock.now()))
                for conn, ps in self.installed.get(cp_id, {}).items() for p in ps]

        def job(db: Any) -> None:
            db.conn.execute("DELETE FROM cpo_profiles WHERE charge_point_id = ?", (cp_id,))
            db.conn.executemany("INSERT OR REPLACE INTO cpo_profiles VALUES "
                                "(?, ?, ?, ?, ?, ?, ?, ?)", rows)
        await self.store.core.write(job)

    # -- transactions -------------------------------------------------------------------
    async def started(self, cp_id: str, connector_id: int, local_tx: int) -> None:
        self.tx_start[(cp_id, connector_id)] = (local_tx, self.clock.now())
        waiting = [p for p in self.installed.get(cp_id, {}).get(connector_id, [])
                   if p["chargingProfilePurpose"] == "TxProfile" and p["transactionId"] is None]
        for p in waiting:
            p["transactionId"] = local_tx
        if waiting:
            await self._save(cp_id)
        self.refresh(cp_id)

    async def stopped(self, cp_id: str, local_tx: int) -> None:
        """A TxProfile ends with its transaction (§3.13.2)."""
        mine = self.installed.get(cp_id, {})
        changed = False
        for conn, profiles in mine.items():
            keep = [p for p in profiles if not (p["chargingProfilePurpose"] == "TxProfile"
                                                and p["transactionId"] == local_tx)]
            changed = changed or len(keep) != len(profiles)
            mine[conn] = keep
            if self.tx_start.get((cp_id, conn), (None,))[0] == local_tx:
                del self.tx_start[(cp_id, conn)]
        if changed:
            await self._save(cp_id)
        self.refresh(cp_id)

    # -- what they allow ----------------------------------------------------------------
    def cap(self, cp_id: str, connector_id: int, now: datetime) -> float | None:
        """Amps per phase the CPO's profiles allow the connector now (None: no limit)."""
        cp = self.charge_points[cp_id]
        installed = self.installed.get(cp_id)
        if not installed or not any(installed.values()):
            return None
        if cp.connectors > 1:  # its ChargePointMaxProfile is shared by its connectors
            installed = {c: [_share(p, cp.connectors) for p in ps]
                         for c, ps in installed.items()}
        tx, start = self.tx_start.get((cp_id, connector_id), (None, None))
        hardware_a = cp.max_current_a if not cp.dc else 1e6
        limit = limit_at(installed, connector_id, now, tx, start, hardware_a,
                         ev_phases=cp.phases, voltage_v=self.voltage_v.get(cp_id, 230.0))
        return None if limit.source == "unconstrained" else limit.current_a

    def refresh(self, cp_id: str | None = None) -> None:
        """Put each connector's CPO limit in force (called each second and on changes)."""
        if self.apply is None:
            return
        now = self.clock.now()
        for cid in [cp_id] if cp_id else list(self.installed):
            cp = self.charge_points[cid]
            for k in range(1, cp.connectors + 1):
                target = f"{cid}/{k}"
                amps = self.cap(cid, k, now)
                limit_a, limit_w = amps, None
                if amps is not None and (cp.dc or cp.control == "W"):
                    limit_a, limit_w = None, amps * self.voltage_v.get(cid, 230.0) * cp.phases
                last = self.applied.get(target)
                if last is not None and last[:2] == (limit_a, limit_w) and (
                        amps is None or now - last[2] < timedelta(days=1)):
                    continue
                if last is None and amps is None:
                    continue
                self.applied[target] = (limit_a, limit_w, now)
                log.info("%s: CPO limit %s", target, "none" if amps is None else
                         f"{amps:.1f} A per phase")
                self.apply(target, limit_a, limit_w)


def _matches(p: dict[str, Any], conn: int, criteria: dict[str, Any]) -> bool:
    """ClearChargingProfile (§5.5): an id alone, or every criterion given."""
    if criteria.get("id") is not None:
        return bool(p["chargingProfileId"] == criteria["id"])
    checks = (("connectorId", conn), ("chargingProfilePurpose", p["chargingProfilePurpose"]),
              ("stackLevel", p["stackLevel"]))
    return all(criteria.get(k) is None or criteria[k] == v for k, v in checks)


def _share(profile: dict[str, Any], n: int) -> dict[str, Any]:
    if profile["chargingProfilePurpose"] != "ChargePointMaxProfile":
        return profile
    shared = copy.deepcopy(profile)
    for period in shared["chargingSchedule"]["chargingSchedulePeriod"]:
        period["limit"] = float(period["limit"]) / n
    return shared

