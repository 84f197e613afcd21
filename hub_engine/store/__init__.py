"""Durable storage: SQLite (WAL) written by one thread per file with group commit."""

from hub_engine.store.migrations import (
    CORE_MIGRATIONS,
    SAMPLES_MIGRATIONS,
    Migration,
    migrate,
    schema_version,
)
from hub_engine.store.retention import downsample_samples, purge_before
from hub_engine.store.store import Store
from hub_engine.store.writer import DbWriter, open_reader

__all__ = [
    "CORE_MIGRATIONS",
    "SAMPLES_MIGRATIONS",
    "DbWriter",
    "Migration",
    "Store",
    "downsample_samples",
    "migrate",
    "open_reader",
    "purge_before",
    "schema_version",
]
