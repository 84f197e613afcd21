"""Configuration keys across charge points: read them again, compare them across a model,
change one on many, and keep the history of every change and each charge point's answer.

Reads and changes go through the :class:`~hub_engine.ocpp.commands.CommandService` (a key
the hub owns is refused before anything is sent), a few charge points at a time. A value
the charge point took (Accepted, RebootRequired) replaces the stored one; the history
keeps every answer (table ``config_changes``), the value masked for a key that looks
secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Sequence
from typing import Any

from hub_engine.clock import Clock, iso_utc
from hub_engine.ocpp.commands import CommandService, Role
from hub_engine.store import Store

__all__ = ["CHANGE_COLUMNS", "ConfigKeys"]

log = logging.getLogger(__name__)
CHANGE_COLUMNS = ("id", "at", "by", "charge_point_id", "key", "value", "result", "error")
_SECRET = re.compile(r"(?i)pass|secret|token|pwd|credential|authorizationkey")
_TAKEN = ("Accepted", "RebootRequired")


class ConfigKeys:
    def __init__(self, commands: CommandService, store: Store, clock: Clock,
                 parallel: int = 8) -> None:
        self.commands, self.store, self.clock = commands, store, clock
        self._slots = asyncio.Semaphore(parallel)

    async def read(self, cps: Sequence[str]) -> dict[str, str]:
        """GetConfiguration of each; what each answered (accepted, offline…)."""
        async def one(cp_id: str) -> str:
            async with self._slots:
                r = await self.commands.run(cp_id, "get_configuration", {}, "operator")
            if r.outcome != "accepted" and not r.payload.get("configuration_key"):
                return r.outcome
            keys = {k["key"]: {"value": k.get("value"), "readonly": bool(k.get("readonly"))}
                    for k in r.payload.get("configuration_key") or []
                    if k.get("key") != "AuthorizationKey"}  # a write-only secret
            await self.store.core.write(lambda db: db.conn.execute(
                "UPDATE charge_points SET configuration = ? WHERE id = ?",
                [json.dumps(keys), cp_id]))
            return "accepted"
        results = await asyncio.gather(*(one(cp) for cp in cps))
        return dict(zip(cps, results, strict=True))

    def compare(self, cps: Sequence[str]) -> dict[str, Any]:
        """Every key any of them has, each one's value (None: it has no such key), and
        whether they all agree."""
        marks = ", ".join("?" for _ in cps)
        stored = {r[0]: json.loads(r[1] or "{}") for r in self.store.read(
            f"SELECT id, configuration FROM charge_points WHERE id IN ({marks})", list(cps))}
        names = sorted({k for conf in stored.values() for k in conf})
        keys = []
        for name in names:
            values = {cp: _value(stored.get(cp, {}).get(name)) for cp in cps}
            keys.append({"key": name, "values": values,
                         "same": len(set(values.values())) == 1})
        return {"charge_points": list(cps), "keys": keys,
                "read": [cp for cp in cps if stored.get(cp)]}

    async def change(self, cps: Sequence[str], key: str, value: str, who: str, role: Role
                     ) -> list[dict[str, Any]]:
        """ChangeConfiguration of ``key`` on each; each one's answer, kept."""
        self.commands.check("change_configuration", {"key": key, "value": value}, role)

        async def one(cp_id: str) -> dict[str, Any]:
            async with self._slots:
                r = await self.commands.run(cp_id, "change_configuration",
                                            {"key": key, "value": value}, role)
            result = r.status if r.status in (*_TAKEN, "Rejected", "NotSupported") else (
                r.outcome)
            return {"charge_point_id": cp_id, "result": result, "error": r.error}
        out = list(await asyncio.gather(*(one(cp) for cp in cps)))
        shown = "***" if _SECRET.search(key) else value
        now = iso_utc(self.clock.now())

        def job(db: Any) -> None:
            db.conn.executemany(
                "INSERT INTO config_changes (at, by, charge_point_id, key, value, result, "
                "error) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(now, who, o["charge_point_id"], key, shown, o["result"], o["error"])
                 for o in out])
            for o in out:
                if o["result"] in _TAKEN:
                    _store_value(db, o["charge_point_id"], key, value)
        await self.store.core.write(job)
        log.info("%s set %s on %d charge point(s): %s", who, key, len(out),
                 ", ".join(f"{o['charge_point_id']} {o['result']}" for o in out[:20]))
        return out

    def history(self, cp_id: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
        where, params = ("WHERE charge_point_id = ?", [cp_id]) if cp_id else ("", [])
        rows = self.store.read(f"SELECT {', '.join(CHANGE_COLUMNS)} FROM config_changes "
                               f"{where} ORDER BY id DESC LIMIT ?", [*params, limit])
        return [dict(zip(CHANGE_COLUMNS, r, strict=True)) for r in rows]


def _value(entry: Any) -> str | None:
    if isinstance(entry, dict):
        v = entry.get("value")
        return None if v is None else str(v)
    return None if entry is None else str(entry)


def _store_value(db: Any, cp_id: str, key: str, value: str) -> None:
    row = db.conn.execute("SELECT configuration FROM charge_points WHERE id = ?",
                          [cp_id]).fetchone()
    if row is None:
        return
    conf = json.loads(row[0] or "{}")
    entry = conf.get(key) if isinstance(conf.get(key), dict) else {"readonly": False}
    conf[key] = {**entry, "value": value}
    db.conn.execute("UPDATE charge_points SET configuration = ? WHERE id = ?",
                    [json.dumps(conf), cp_id])
