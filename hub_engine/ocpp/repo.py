"""What the OCPP handlers write: writer jobs for the core and samples databases.

Each function returns a job for :meth:`DbWriter.write`; the handler awaits it before its
CALLRESULT goes out, so what a charge point was told is on disk.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from hub_engine.clock import iso_utc
from hub_engine.store.samples import last_energy_register_wh, samples

__all__ = [
    "Fault",
    "boot",
    "close_by_hub",
    "connector_state",
    "heartbeat",
    "last_register",
    "model_failsafe",
    "progress",
    "registration",
    "samples",
    "set_model_failsafe",
    "set_registration",
    "start_transaction",
    "status",
    "stop_transaction",
    "store_configuration",
]

Job = Callable[[sqlite_utils.Database], Any]



def registration(cp_id: str) -> Job:
    def job(db: sqlite_utils.Database) -> str | None:
        row = db.execute("SELECT registration FROM charge_points WHERE id = ?", [cp_id]).fetchone()
        return None if row is None else str(row[0])
    return job


def boot(cp_id: str, info: dict[str, Any], now: datetime, default_registration: str) -> Job:
    """Upsert the charge point's identity; return its registration (accepted/pending/…)."""
    def job(db: sqlite_utils.Database) -> str:
        db.execute(
            """INSERT INTO charge_points (id, vendor, model, serial, firmware, registration,
                                          first_seen, last_seen, last_boot)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET vendor = excluded.vendor, model = excluded.model,
                 serial = excluded.serial, firmware = excluded.firmware,
                 last_seen = excluded.last_seen, last_boot = excluded.last_boot""",
            [cp_id, info.get("charge_point_vendor"), info.get("charge_point_model"),
             info.get("charge_point_serial_number") or info.get("charge_box_serial_number"),
             info.get("firmware_version"), default_registration] + [iso_utc(now)] * 3,
        )
        return str(db.execute("SELECT registration FROM charge_points WHERE id = ?",
                              [cp_id]).fetchone()[0])
    return job


def model_failsafe(vendor: str, model: str, firmware: str) -> Job:
    """The model's commissioning result (``unknown`` until tested)."""
    def job(db: sqlite_utils.Database) -> str:
        db.execute("INSERT OR IGNORE INTO models (vendor, model, firmware) VALUES (?, ?, ?)",
                   [vendor, model, firmware])
        return str(db.execute("SELECT failsafe FROM models WHERE vendor = ? AND model = ? AND "
                              "firmware = ?", [vendor, model, firmware]).fetchone()[0])
    return job


def set_model_failsafe(identity: tuple[str, str, str], result: str, cp_id: str, detail: str,
                       now: datetime) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute("INSERT OR REPLACE INTO models (vendor, model, firmware, failsafe, "
                   "checked_at, checked_on, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   [*identity, result, iso_utc(now), cp_id, detail])
    return job


def set_registration(cp_id: str, value: str) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute("UPDATE charge_points SET registration = ? WHERE id = ?", [value, cp_id])
    return job


def heartbeat(cp_id: str, now: datetime) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute("UPDATE charge_points SET last_seen = ? WHERE id = ?", [iso_utc(now), cp_id])
    return job


@dataclass(frozen=True)
class Fault:
    """What a StatusNotification says beside the status: OCPP's errorCode, the free
    ``info`` and the vendor's own code (the one a maintenance contract asks for)."""
    error_code: str | None = None
    info: str | None = None
    vendor_id: str | None = None
    vendor_error_code: str | None = None


def status(cp_id: str, connector_id: int, value: str, fault: Fault, ts: datetime) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute(
            """INSERT INTO connectors (charge_point_id, connector_id, status, error_code, info,
                                       vendor_id, vendor_error_code, updated_at)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (charge_point_id, connector_id) DO UPDATE SET
                 status = excluded.status, error_code = excluded.error_code,
                 info = excluded.info, vendor_id = excluded.vendor_id,
                 vendor_error_code = excluded.vendor_error_code,
                 updated_at = excluded.updated_at""",
            [cp_id, connector_id, value, fault.error_code, fault.info, fault.vendor_id,
             fault.vendor_error_code, iso_utc(ts)])
    return job


def start_transaction(cp_id: str, connector_id: int, id_tag: str, meter_start_wh: int,
                      ts: datetime) -> Job:
    """Insert the transaction; a resent StartTransaction gets the id it was given before."""
    def job(db: sqlite_utils.Database) -> int:
        row = db.execute(
            """SELECT id FROM transactions WHERE charge_point_id = ? AND connector_id = ?
               AND started_at = ? AND meter_start_wh = ? AND id_tag = ? AND orphan = 0""",
            [cp_id, connector_id, iso_utc(ts), meter_start_wh, id_tag]).fetchone()
        if row is not None:
            return int(row[0])
        cur = db.execute(
            """INSERT INTO transactions (charge_point_id, connector_id, id_tag, meter_start_wh,
                                         started_at) VALUES (?, ?, ?, ?, ?)""",
            [cp_id, connector_id, id_tag, meter_start_wh, iso_utc(ts)])
        return int(cur.lastrowid or 0)
    return job


def connector_state(cp_id: str) -> Job:
    """What the hub knew of a charge point's connectors: {connector: (status, open tx,
    its meterStart)}.

    Read when it connects, so that a reconnection (or a hub restart) does not make the
    sessions under way look ended to the EMS.
    """
    def job(db: sqlite_utils.Database) -> dict[int, tuple[str | None, int | None,
                                                           float | None]]:
        out: dict[int, tuple[str | None, int | None, float | None]] = {}
        for conn, status in db.execute("SELECT connector_id, status FROM connectors WHERE "
                                       "charge_point_id = ?", [cp_id]).fetchall():
            out[int(conn)] = (str(status), None, None)
        # SQLite takes the bare column from the row holding max(id).
        for conn, tx, start in db.execute(
                "SELECT connector_id, max(id), meter_start_wh FROM transactions WHERE "
                "charge_point_id = ? AND stopped_at IS NULL AND orphan = 0 "
                "GROUP BY connector_id", [cp_id]).fetchall():
            out[int(conn)] = (out.get(int(conn), (None, None, None))[0], int(tx),
                              float(start))
        return out
    return job


def stop_transaction(cp_id: str, transaction_id: int, meter_stop_wh: int, ts: datetime,
                     reason: str | None, id_tag: str | None) -> Job:
    """Close the transaction; an unknown id is kept as an orphan row. Return (id, orphan)."""
    def job(db: sqlite_utils.Database) -> tuple[int, bool]:
        row = db.execute("SELECT meter_start_wh FROM transactions WHERE id = ? AND "
                         "charge_point_id = ?", [transaction_id, cp_id]).fetchone()
        if row is not None:
            db.execute(
                """UPDATE transactions SET meter_stop_wh = ?, stopped_at = ?, stop_reason = ?,
                     energy_wh = MAX(0, ? - meter_start_wh), closed_by_hub = NULL
                   WHERE id = ?""",
                [meter_stop_wh, iso_utc(ts), reason, meter_stop_wh, transaction_id])
            return transaction_id, False
        cur = db.execute(
            """INSERT INTO transactions (charge_point_id, connector_id, id_tag, meter_start_wh,
                 started_at, meter_stop_wh, stopped_at, stop_reason, orphan, reported_id)
               VALUES (?, 0, ?, ?, ?, ?, ?, ?, 1, ?)""",
            [cp_id, id_tag or "", meter_stop_wh, iso_utc(ts), meter_stop_wh, iso_utc(ts), reason,
             transaction_id])
        return int(cur.lastrowid or 0), True
    return job


def close_by_hub(cp_id: str, connector_id: int, register_wh: float | None, ts: datetime,
                 reason: str, keep: int | None = None) -> Job:
    """Close every session still open on the connector but ``keep``, at the last energy
    register reported (none: no energy counted); return their ids."""
    def job(db: sqlite_utils.Database) -> list[int]:
        ids = [int(r[0]) for r in db.execute(
            "SELECT id FROM transactions WHERE charge_point_id = ? AND connector_id = ? AND "
            "stopped_at IS NULL AND orphan = 0 AND id IS NOT ?",
            [cp_id, connector_id, keep]).fetchall()]
        for tx in ids:
            db.execute(
                """UPDATE transactions SET stopped_at = ?, stop_reason = 'ClosedByHub',
                     closed_by_hub = ?,
                     meter_stop_wh = MAX(meter_start_wh, COALESCE(?, meter_start_wh)),
                     energy_wh = MAX(0, COALESCE(?, meter_start_wh) - meter_start_wh)
                   WHERE id = ?""",
                [iso_utc(ts), reason, register_wh, register_wh, tx])
        return ids
    return job


def last_register(source: str) -> Job:
    """The last energy register a connector (``CP/1``) reported (samples database)."""
    def job(db: sqlite_utils.Database) -> float | None:
        def read(sql: str, params: Any, **_: Any) -> list[Any]:
            return db.execute(sql, params).fetchall()
        return last_energy_register_wh(read, source)
    return job


def progress(cp_id: str, column: str, value: str) -> Job:
    if column not in ("firmware_status", "diagnostics_status"):
        raise ValueError(column)

    def job(db: sqlite_utils.Database) -> None:
        db.execute(f"UPDATE charge_points SET {column} = ? WHERE id = ?", [value, cp_id])
    return job


def store_configuration(cp_id: str, configuration: dict[str, Any],
                        capabilities: dict[str, Any]) -> Job:
    def job(db: sqlite_utils.Database) -> None:
        db.execute("UPDATE charge_points SET configuration = ?, capabilities = ? WHERE id = ?",
                   [json.dumps(configuration), json.dumps(capabilities), cp_id])
    return job


