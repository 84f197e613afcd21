"""Pseudonymisation after ``store.pseudonymise_after_years`` (GDPR: keep what is needed,
no longer): the badge of every older session becomes a pseudonym, members without a
session for that long lose their name and their badges, unknown badges are forgotten.

A pseudonym is a keyed hash of the badge (``~`` and 11 characters: a valid idTag), so
one badge keeps one pseudonym and the totals per badge, per charge point and per period
stay exact; without the key (in ``core.db``, nowhere else) nobody can tell which badge
it was. Sessions, their energy and their times are never deleted.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

__all__ = ["pseudonym", "pseudonymise_before"]

CHUNK = 5000


def _key(db: Any) -> bytes:
    row = db.execute("SELECT value FROM settings WHERE key = 'pseudonym_key'").fetchone()
    if row is None:
        value = secrets.token_hex(32)
        db.execute("INSERT INTO settings (key, value) VALUES ('pseudonym_key', ?)", [value])
        return bytes.fromhex(value)
    return bytes.fromhex(row[0])


def pseudonym(key: bytes, id_tag: str) -> str:
    digest = hmac.new(key, id_tag.upper().encode(), hashlib.sha256).digest()
    return "~" + base64.b32encode(digest).decode()[:11].lower()


def pseudonymise_before(db: Any, before_iso: str) -> dict[str, int]:
    """One chunk of work on ``core.db`` (a writer job); the caller repeats while it did
    something. Counts per kind of row changed."""
    key = _key(db)
    rows = db.execute("SELECT id, id_tag FROM transactions WHERE started_at < ?"
                      " AND substr(id_tag, 1, 1) != '~' LIMIT ?", [before_iso, CHUNK]).fetchall()
    db.conn.executemany("UPDATE transactions SET id_tag = ? WHERE id = ?",
                        [(pseudonym(key, tag), tx) for tx, tag in rows])
    # Members with no session since the cutoff, created before it: name and badges go.
    members = db.execute(
        "SELECT m.id FROM members m WHERE m.created_at < ? AND substr(m.name, 1, 1) != '~'"
        " AND NOT EXISTS (SELECT 1 FROM badges b JOIN transactions t"
        "  ON t.id_tag = b.id_tag COLLATE NOCASE WHERE b.member_id = m.id"
        "  AND t.started_at >= ?) LIMIT ?", [before_iso, before_iso, CHUNK]).fetchall()
    for (member_id,) in members:
        db.execute("UPDATE members SET name = ?, grp = '', blocked = 1 WHERE id = ?",
                   [f"~member-{member_id}", member_id])
        for (tag,) in db.execute("SELECT id_tag FROM badges WHERE member_id = ?",
                                 [member_id]).fetchall():
            db.execute("UPDATE badges SET id_tag = ?, status = 'Blocked' WHERE id_tag = ?",
                       [pseudonym(key, tag), tag])
    unknown = db.execute("DELETE FROM unknown_badges WHERE last_seen < ?", [before_iso])
    return {"sessions": len(rows), "members": len(members), "unknown_badges": unknown.rowcount}
