"""What the signal services share: their kept state in ``core.db``'s settings, and a
site-wide external limit held or lifted."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, Any

from hub_engine.ems.external import LimitRequest
from hub_engine.store import Store

if TYPE_CHECKING:
    from hub_engine.ems.loop import EmsLoop

__all__ = ["hold_limit", "load_setting", "save_setting"]


def load_setting(store: Store, key: str) -> Any:
    """The JSON kept under ``key``, or None."""
    rows = store.rows("SELECT value FROM settings WHERE key = ?", [key])
    return json.loads(rows[0][0]) if rows else None


async def save_setting(store: Store, key: str, value: Any) -> None:
    text = json.dumps(value)
    await store.core.write(lambda db: db.execute(
        "INSERT INTO settings (key, value) VALUES (?, ?)"
        " ON CONFLICT (key) DO UPDATE SET value = excluded.value", [key, text]))


def hold_limit(ems: EmsLoop, target: str, source: str, limit_a: float | None,
               expires_at: datetime) -> bool:
    """Put ``source``'s limit on ``target`` (None: lift it); True when something changed."""
    if limit_a is None:
        return ems.external.clear(target, source)
    held = next((lim for lim in ems.external.in_force()
                 if lim.target == target and lim.source == source), None)
    if held is not None and held.limit_a == limit_a:
        return False
    ems.external.set(LimitRequest(target=target, source=source, expires_at=expires_at,
                                  limit_a=limit_a))
    return True
