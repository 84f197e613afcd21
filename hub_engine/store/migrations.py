"""Versioned schema migrations, tracked in ``PRAGMA user_version``.

Each database has an ordered list; a migration is SQL run once, in the same transaction as
the version bump, so a crash mid-migration leaves the previous version intact. Never edit a
released migration: append a new one.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass

import sqlite_utils

from hub_engine.errors import StoreError

__all__ = ["CORE_MIGRATIONS", "SAMPLES_MIGRATIONS", "Migration", "migrate", "schema_version"]


@dataclass(frozen=True)
class Migration:
    version: int
    description: str
    sql: str


CORE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "charge points, connectors, transactions, users, badges, ledger, config", """
        CREATE TABLE charge_points (
            id TEXT PRIMARY KEY,
            vendor TEXT, model TEXT, serial TEXT, firmware TEXT,
            registration TEXT NOT NULL DEFAULT 'pending',
            first_seen TEXT NOT NULL, last_seen TEXT NOT NULL
        );
        CREATE TABLE connectors (
            charge_point_id TEXT NOT NULL REFERENCES charge_points(id),
            connector_id INTEGER NOT NULL,
            status TEXT NOT NULL, error_code TEXT, info TEXT,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (charge_point_id, connector_id)
        );
        -- AUTOINCREMENT: a transaction id is never reused, even after the newest row is lost.
        CREATE TABLE transactions (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            charge_point_id TEXT NOT NULL,
            connector_id INTEGER NOT NULL,
            id_tag TEXT NOT NULL,
            meter_start_wh INTEGER NOT NULL,
            started_at TEXT NOT NULL,
            meter_stop_wh INTEGER, stopped_at TEXT, stop_reason TEXT, energy_wh INTEGER
        );
        CREATE TABLE users (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            login TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL DEFAULT '',
            password_hash TEXT,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE TABLE badges (
            id_tag TEXT PRIMARY KEY,
            user_id INTEGER REFERENCES users(id),
            status TEXT NOT NULL DEFAULT 'Accepted',
            expiry TEXT
        );
        CREATE TABLE credit_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES users(id),
            ts TEXT NOT NULL,
            delta_wh INTEGER NOT NULL,
            reason TEXT NOT NULL,
            transaction_id INTEGER REFERENCES transactions(id)
        );
        CREATE TABLE config_history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            ts TEXT NOT NULL, author TEXT NOT NULL, text TEXT NOT NULL
        );
    """),
    Migration(2, "API tokens; session look-ups by charge point and time", """
        CREATE TABLE api_tokens (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            token_hash TEXT NOT NULL UNIQUE,
            role TEXT NOT NULL,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        CREATE INDEX transactions_cp_started ON transactions(charge_point_id, started_at);
        CREATE INDEX transactions_open ON transactions(charge_point_id, connector_id)
            WHERE stopped_at IS NULL;
    """),
    Migration(3, "OCPP: configuration, capabilities, boot and firmware state; orphan stops", """
        ALTER TABLE charge_points ADD COLUMN configuration TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE charge_points ADD COLUMN capabilities TEXT NOT NULL DEFAULT '{}';
        ALTER TABLE charge_points ADD COLUMN last_boot TEXT;
        ALTER TABLE charge_points ADD COLUMN firmware_status TEXT;
        ALTER TABLE charge_points ADD COLUMN diagnostics_status TEXT;
        -- A StopTransaction for an id the hub never issued is kept, flagged, not refused.
        ALTER TABLE transactions ADD COLUMN orphan INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE transactions ADD COLUMN reported_id INTEGER;
    """),
    Migration(4, "charge point models: result of the fail-safe commissioning test", """
        CREATE TABLE models (
            vendor TEXT NOT NULL,
            model TEXT NOT NULL,
            firmware TEXT NOT NULL DEFAULT '',
            failsafe TEXT NOT NULL DEFAULT 'unknown',  -- unknown, verified, failed
            checked_at TEXT,
            checked_on TEXT,  -- the charge point the test ran on
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (vendor, model, firmware)
        );
    """),
    Migration(5, "accounts: disabled users, session and API tokens; external limits", """
        ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE api_tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api';  -- api, session
        ALTER TABLE api_tokens ADD COLUMN user_id INTEGER REFERENCES users(id);
        ALTER TABLE api_tokens ADD COLUMN created_by TEXT NOT NULL DEFAULT '';
        ALTER TABLE api_tokens ADD COLUMN expires_at TEXT;
        ALTER TABLE api_tokens ADD COLUMN last_used_at TEXT;
        -- In force until their expiry across restarts: a shedding order survives a crash.
        CREATE TABLE external_limits (
            target TEXT NOT NULL,
            source TEXT NOT NULL,
            request TEXT NOT NULL,  -- the LimitRequest as JSON
            PRIMARY KEY (target, source)
        );
    """),
    Migration(6, "access control: members, badges' owner and parent, ledger, local lists", """
        CREATE TABLE members (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL UNIQUE,
            grp TEXT NOT NULL DEFAULT '',
            blocked INTEGER NOT NULL DEFAULT 0,
            charge_points TEXT NOT NULL DEFAULT '[]',  -- charge point or node ids; [] = all
            windows TEXT NOT NULL DEFAULT '[]',  -- [{days: [0-6], start: HH:MM, end: HH:MM}]
            credit_wh INTEGER,  -- the balance; NULL: no energy credit
            refill_period TEXT NOT NULL DEFAULT 'none',  -- none, daily, weekly, monthly
            refill_mode TEXT NOT NULL DEFAULT 'add',  -- add, reset
            refill_wh INTEGER NOT NULL DEFAULT 0,
            ceiling_wh INTEGER,
            last_refill TEXT,
            on_exhausted TEXT NOT NULL DEFAULT 'limit',  -- limit (to 0 A) or stop
            priority INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL
        );
        ALTER TABLE badges ADD COLUMN member_id INTEGER REFERENCES members(id);
        ALTER TABLE badges ADD COLUMN parent_id_tag TEXT;
        ALTER TABLE badges ADD COLUMN label TEXT NOT NULL DEFAULT '';
        CREATE UNIQUE INDEX badges_nocase ON badges(id_tag COLLATE NOCASE);
        CREATE TABLE member_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            member_id INTEGER NOT NULL REFERENCES members(id),
            ts TEXT NOT NULL,
            delta_wh INTEGER NOT NULL,
            balance_wh INTEGER NOT NULL,
            reason TEXT NOT NULL,  -- refill, reset, session, adjustment
            transaction_id INTEGER
        );
        CREATE TABLE unknown_badges (
            id_tag TEXT PRIMARY KEY COLLATE NOCASE,
            charge_point_id TEXT NOT NULL,
            first_seen TEXT NOT NULL,
            last_seen TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 1
        );
        CREATE TABLE local_lists (
            charge_point_id TEXT PRIMARY KEY,
            version INTEGER NOT NULL,
            entries TEXT NOT NULL  -- {idTag: idTagInfo} as last sent
        );
        CREATE INDEX transactions_open_tag ON transactions(id_tag COLLATE NOCASE)
            WHERE stopped_at IS NULL;
    """),
    Migration(7, "access control: a member's minimum current and PV-only charging", """
        ALTER TABLE members ADD COLUMN min_current_a REAL;
        ALTER TABLE members ADD COLUMN pv_only INTEGER NOT NULL DEFAULT 0;
    """),
    Migration(8, "sessions closed by the hub (a charge point forgot them), with the reason", """
        ALTER TABLE transactions ADD COLUMN closed_by_hub TEXT;
        UPDATE transactions SET stopped_at = started_at, meter_stop_wh = meter_start_wh,
            energy_wh = 0, stop_reason = 'ClosedByHub',
            closed_by_hub = 'a newer session was opened on the connector'
          WHERE stopped_at IS NULL AND orphan = 0 AND id NOT IN (
            SELECT max(id) FROM transactions WHERE stopped_at IS NULL AND orphan = 0
            GROUP BY charge_point_id, connector_id);
    """),
    Migration(9, "connectors: the vendor's own error code beside OCPP's errorCode", """
        ALTER TABLE connectors ADD COLUMN vendor_id TEXT;
        ALTER TABLE connectors ADD COLUMN vendor_error_code TEXT;
    """),
    Migration(10, "alerts: raised once, cleared when their condition ends, acknowledged", """
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            target TEXT NOT NULL,
            severity TEXT NOT NULL,  -- warning, critical
            raised_at TEXT NOT NULL,
            cleared_at TEXT,
            acked_at TEXT,
            acked_by TEXT,
            data TEXT NOT NULL DEFAULT '{}'
        );
        CREATE UNIQUE INDEX alerts_active ON alerts(kind, target) WHERE cleared_at IS NULL;
        CREATE INDEX alerts_raised ON alerts(raised_at);
    """),
    Migration(11, "the hub's own settings (the pseudonymisation key)", """
        CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE INDEX transactions_started ON transactions(started_at);
    """),
    Migration(12, "a member's solar mode (off, surplus, min_solar) instead of PV-only", """
        ALTER TABLE members ADD COLUMN solar_mode TEXT;
        UPDATE members SET solar_mode = 'surplus' WHERE pv_only = 1;
        ALTER TABLE members DROP COLUMN pv_only;
    """),
    Migration(13, "departure plans: a session's (when its car leaves, the energy it needs),"
                  " a member's defaults", """
        ALTER TABLE transactions ADD COLUMN departure_at TEXT;
        ALTER TABLE transactions ADD COLUMN energy_need_wh REAL;
        ALTER TABLE transactions ADD COLUMN plan_source TEXT;
        ALTER TABLE members ADD COLUMN departure_time TEXT;  -- local HH:MM
        ALTER TABLE members ADD COLUMN energy_need_wh INTEGER;
    """),
    Migration(14, "diagnostics asked of charge points and the files they uploaded", """
        CREATE TABLE diagnostics (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            charge_point_id TEXT NOT NULL,
            requested_at TEXT,
            requested_by TEXT,
            status TEXT NOT NULL,  -- requested, accepted, none, Uploading, UploadFailed,
                                   -- Uploaded, received, failed
            file_name TEXT,  -- as the charge point named it
            stored_as TEXT,  -- under <data_dir>/diagnostics
            size_bytes INTEGER,
            sha256 TEXT,
            received_at TEXT,
            error TEXT
        );
        CREATE INDEX diagnostics_cp ON diagnostics(charge_point_id, id);
    """),
    Migration(15, "firmware files, update campaigns and each charge point's progress", """
        CREATE TABLE firmware (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            name TEXT NOT NULL,
            stored_as TEXT NOT NULL,  -- under <data_dir>/firmware
            size_bytes INTEGER NOT NULL,
            sha256 TEXT NOT NULL,
            uploaded_at TEXT NOT NULL,
            uploaded_by TEXT
        );
        CREATE TABLE campaigns (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            firmware_id INTEGER NOT NULL REFERENCES firmware(id),
            created_at TEXT NOT NULL,
            created_by TEXT,
            retrieve_at TEXT NOT NULL,  -- not before (UTC)
            concurrency INTEGER NOT NULL,
            retries INTEGER NOT NULL,
            retry_interval_s REAL NOT NULL,
            state TEXT NOT NULL,  -- running, done, cancelled
            ended_at TEXT
        );
        CREATE TABLE campaign_targets (
            campaign_id INTEGER NOT NULL REFERENCES campaigns(id),
            charge_point_id TEXT NOT NULL,
            status TEXT NOT NULL,  -- pending, sent, Downloading, Downloaded, Installing,
                                   -- Installed, failed, cancelled
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try_at TEXT,
            updated_at TEXT,
            error TEXT,
            firmware_before TEXT,
            firmware_after TEXT,
            PRIMARY KEY (campaign_id, charge_point_id)
        );
        CREATE INDEX campaign_targets_cp ON campaign_targets(charge_point_id, status);
    """),
    Migration(16, "configuration keys changed on charge points, and each one's answer", """
        CREATE TABLE config_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at TEXT NOT NULL,
            by TEXT,
            charge_point_id TEXT NOT NULL,
            key TEXT NOT NULL,
            value TEXT,  -- masked for a key that looks secret
            result TEXT NOT NULL,  -- Accepted, RebootRequired, Rejected, NotSupported,
                                   -- offline, timed_out, error
            error TEXT
        );
        CREATE INDEX config_changes_cp ON config_changes(charge_point_id, id);
    """),
    Migration(17, "reservations of a connector for a badge (ReserveNow)", """
        CREATE TABLE reservations (
            id INTEGER PRIMARY KEY,  -- the reservationId sent
            charge_point_id TEXT NOT NULL,
            connector_id INTEGER NOT NULL,  -- 0: any connector of the charge point
            id_tag TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            created_at TEXT NOT NULL,
            created_by TEXT,
            status TEXT NOT NULL,  -- Accepted (held), Occupied, Faulted, Unavailable,
                                   -- Rejected, offline, timed_out, used, cancelled
            transaction_id INTEGER,
            ended_at TEXT
        );
        CREATE INDEX reservations_cp ON reservations(charge_point_id, status);
    """),
    Migration(18, "the CPO relay: its outbox, transaction ids, badges, profiles", """
        -- Transaction messages owed to the CPO, in order, until it answers them.
        CREATE TABLE cpo_outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            charge_point_id TEXT NOT NULL,
            unique_id TEXT NOT NULL,
            action TEXT NOT NULL,  -- StartTransaction, MeterValues, StopTransaction
            payload TEXT NOT NULL,  -- as the charge point sent it (the hub's ids)
            local_tx INTEGER,
            queued_at TEXT NOT NULL
        );
        CREATE INDEX cpo_outbox_cp ON cpo_outbox(charge_point_id, id);
        -- The CPO's transaction id for each of the hub's (learned from its answer).
        CREATE TABLE cpo_transactions (
            charge_point_id TEXT NOT NULL,
            local_tx INTEGER NOT NULL,
            cpo_tx INTEGER,
            status TEXT,  -- the CPO's idTagInfo status for the start
            answered_at TEXT,
            PRIMARY KEY (charge_point_id, local_tx)
        );
        -- Badges the CPO accepted or refused (its answers and its SendLocalList), for
        -- deciding while it is away; id_tag casefolded.
        CREATE TABLE cpo_badges (
            site_id TEXT NOT NULL,
            id_tag TEXT NOT NULL,
            status TEXT NOT NULL,
            expiry TEXT,
            parent_id_tag TEXT,
            source TEXT NOT NULL,  -- answer or list
            seen_at TEXT NOT NULL,
            PRIMARY KEY (site_id, id_tag)
        );
        CREATE TABLE cpo_state (
            charge_point_id TEXT PRIMARY KEY,
            boot TEXT,  -- its last BootNotification, replayed to the CPO on reconnection
            list_version INTEGER NOT NULL DEFAULT 0
        );
        -- The CPO's charging profiles: never sent raw, combined with the EMS's limit.
        CREATE TABLE cpo_profiles (
            charge_point_id TEXT NOT NULL,
            connector_id INTEGER NOT NULL,
            purpose TEXT NOT NULL,
            stack_level INTEGER NOT NULL,
            profile_id INTEGER NOT NULL,
            local_tx INTEGER,
            profile TEXT NOT NULL,
            set_at TEXT NOT NULL,
            PRIMARY KEY (charge_point_id, connector_id, purpose, stack_level)
        );
    """),
)

SAMPLES_MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "meter samples (raw and downsampled), OCPP message log, events", """
        CREATE TABLE series (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            source TEXT NOT NULL,
            measurand TEXT NOT NULL,
            phase TEXT NOT NULL DEFAULT '',
            unit TEXT NOT NULL,
            UNIQUE (source, measurand, phase, unit)
        );
        CREATE TABLE samples (
            series_id INTEGER NOT NULL,
            ts_ms INTEGER NOT NULL,
            value REAL NOT NULL,
            PRIMARY KEY (series_id, ts_ms)
        ) WITHOUT ROWID;
        CREATE INDEX samples_ts ON samples(ts_ms);
        CREATE TABLE samples_agg (
            series_id INTEGER NOT NULL,
            bucket_ms INTEGER NOT NULL,
            interval_s INTEGER NOT NULL,
            avg REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, n INTEGER NOT NULL,
            PRIMARY KEY (series_id, bucket_ms)
        ) WITHOUT ROWID;
        CREATE TABLE ocpp_log (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            charge_point_id TEXT NOT NULL,
            direction TEXT NOT NULL,
            message TEXT NOT NULL
        );
        CREATE INDEX ocpp_log_cp_ts ON ocpp_log(charge_point_id, ts_ms);
        CREATE INDEX ocpp_log_ts ON ocpp_log(ts_ms);
        CREATE TABLE events (
            id INTEGER PRIMARY KEY,
            ts_ms INTEGER NOT NULL,
            topic TEXT NOT NULL,
            data TEXT NOT NULL
        );
        CREATE INDEX events_ts ON events(ts_ms);
    """),
    Migration(2, "downsampled buckets found by their length and age (retention tiers)", """
        CREATE INDEX samples_agg_tier ON samples_agg(interval_s, bucket_ms);
    """),
    Migration(3, "the OCPP log's action, so that MeterValues frames expire sooner", """
        ALTER TABLE ocpp_log ADD COLUMN action TEXT;
        CREATE INDEX ocpp_log_action_ts ON ocpp_log(action, ts_ms);
    """),
)


def schema_version(db: sqlite_utils.Database) -> int:
    return int(db.execute("PRAGMA user_version").fetchone()[0])


def migrate(db: sqlite_utils.Database, migrations: Sequence[Migration],
            target: int | None = None) -> int:
    """Bring ``db`` up to ``target`` (default: the newest); return the resulting version."""
    versions = [m.version for m in migrations]
    if versions != list(range(1, len(migrations) + 1)):
        raise StoreError(f"migrations must be numbered 1..n, got {versions}")
    current = schema_version(db)
    newest = len(migrations) if target is None else target
    if current > len(migrations):
        raise StoreError(
            f"database schema version {current} is newer than this hub knows "
            f"({len(migrations)}): refusing to run an older hub on a newer database"
        )
    conn = db.conn
    for migration in migrations[current:newest]:
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in _statements(migration.sql):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version={migration.version}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return schema_version(db)


def _statements(sql: str) -> list[str]:
    # executescript() would commit on its own; split so the version bump shares the transaction.
    out: list[str] = []
    buf = ""
    for line in sql.splitlines(keepends=True):
        if line.strip().startswith("--"):
            continue
        buf += line
        if buf.strip() and sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    if buf.strip():
        out.append(buf.strip())
    return out
