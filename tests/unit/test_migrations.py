"""Schema migrations: from empty, from a previous version with data, refusal of the future."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from hub_engine.errors import StoreError
from hub_engine.store import CORE_MIGRATIONS, SAMPLES_MIGRATIONS, Migration, migrate, schema_version


def _db(path: Path) -> sqlite_utils.Database:
    return sqlite_utils.Database(sqlite3.connect(path, isolation_level=None),
                                 execute_plugins=False)


@pytest.mark.parametrize("migrations", [CORE_MIGRATIONS, SAMPLES_MIGRATIONS],
                         ids=["core", "samples"])
def test_from_empty(tmp_path: Path, migrations: tuple[Migration, ...]) -> None:
    db = _db(tmp_path / "x.db")
    assert migrate(db, migrations) == len(migrations)
    assert migrate(db, migrations) == len(migrations)  # idempotent


def test_from_previous_schema_keeps_data(tmp_path: Path) -> None:
    db = _db(tmp_path / "core.db")
    assert migrate(db, CORE_MIGRATIONS, target=1) == 1
    db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag, meter_start_wh,"
               " started_at) VALUES ('CP1', 1, 'TAG', 1000, '2026-01-01T00:00:00Z')")
    assert "api_tokens" not in db.table_names()
    assert migrate(db, CORE_MIGRATIONS) == len(CORE_MIGRATIONS)
    assert "api_tokens" in db.table_names()
    row = db.execute("SELECT id, id_tag, meter_start_wh FROM transactions").fetchone()
    assert row == (1, "TAG", 1000)
    indexes = {i.name for i in db["transactions"].indexes}
    assert {"transactions_cp_started", "transactions_open"} <= indexes


def test_failed_migration_leaves_previous_version(tmp_path: Path) -> None:
    db = _db(tmp_path / "x.db")
    broken = (*CORE_MIGRATIONS, Migration(len(CORE_MIGRATIONS) + 1, "broken",
                                          "CREATE TABLE ok_so_far (x);\nNOT SQL AT ALL;"))
    with pytest.raises(sqlite3.OperationalError):
        migrate(db, broken)
    assert schema_version(db) == len(CORE_MIGRATIONS)
    assert "ok_so_far" not in db.table_names()


def test_newer_database_is_refused(tmp_path: Path) -> None:
    db = _db(tmp_path / "x.db")
    migrate(db, CORE_MIGRATIONS)
    with pytest.raises(StoreError, match="newer than this hub knows"):
        migrate(db, CORE_MIGRATIONS[:1])
