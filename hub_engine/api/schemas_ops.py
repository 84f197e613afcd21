"""Request and response shapes of the operations routes (backups)."""

from __future__ import annotations

from apiflask import Schema
from apiflask.fields import Boolean, Dict, Integer, List, Nested, String

__all__ = ["BackupStartedOut", "BackupsOut"]


class BackupFileOut(Schema):
    file = String(required=True, metadata={"description": "the first part's name"})
    stamp = String(required=True, metadata={"description": "UTC time, YYYYmmddTHHMMSSZ"})
    parts = Integer(required=True, metadata={"description": "over backup_part_mb: several"})
    size_bytes = Integer(required=True)


class BackupsOut(Schema):
    folder = String(required=True, allow_none=True, metadata={
        "description": "store.backup_dir; null: no daily backup"})
    time = String(required=True, metadata={"description": "daily, local (hub.timezone)"})
    keep = Integer(required=True)
    running = Boolean(required=True)
    next_at = String(required=True, allow_none=True)
    last = Dict(required=True, allow_none=True, metadata={
        "description": "the latest attempt: ok, at, and file/size_bytes/counts or error"})
    backups = List(Nested(BackupFileOut), required=True, metadata={"description": "newest first"})


class BackupStartedOut(Schema):
    started = Boolean(required=True)
