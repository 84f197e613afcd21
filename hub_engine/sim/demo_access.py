"""The demo's access control: a few members with their badges (a fleet, the front
desk, two employees, one with an energy credit and one with hours, a blocked visitor),
enrolled once in an empty database; the demo's drivers present them, and now and then a
badge nobody enrolled, so the Members page shows access control at work."""

from __future__ import annotations

import random
from datetime import datetime
from typing import Any

from hub_engine.access import repo

__all__ = ["MEMBERS", "UNKNOWN_BADGES", "pick_badge", "seed_job"]

# (member settings, its badges)
MEMBERS: list[tuple[dict[str, Any], list[str]]] = [
    ({"name": "Flotte", "grp": "fleet", "priority": 1},
     [f"FLEET-{k:02d}" for k in range(1, 11)]),
    ({"name": "Accueil", "grp": "staff"}, [f"STAFF-{k:02d}" for k in range(1, 5)]),
    ({"name": "Marie Dupont", "grp": "staff", "credit_wh": 30_000, "refill_period": "monthly",
      "refill_mode": "reset", "refill_wh": 30_000}, ["MARIE-01"]),
    ({"name": "Jean Martin", "grp": "staff",
      "windows": [{"days": [0, 1, 2, 3, 4], "start": "07:00", "end": "20:00"}]}, ["JEAN-01"]),
    ({"name": "Visiteur", "grp": "guests", "blocked": 1}, ["VISIT-01"]),
]
UNKNOWN_BADGES = ["04A1B2C3", "04D5E6F7", "0479AC12"]
UNKNOWN_SHARE = 0.12


def seed_job(now: datetime) -> Any:
    """A writer job enrolling the demo's members and badges if there are no members yet;
    returns whether it did."""
    def job(db: Any) -> bool:
        if db.execute("SELECT count(*) FROM members").fetchone()[0]:
            return False
        for member, badges in MEMBERS:
            member_id = repo.save_member(dict(member), now)(db)
            for tag in badges:
                repo.save_badge(db, tag, member_id, "Accepted", None, None)
        return True
    return job


def pick_badge(rng: random.Random, in_use: set[str]) -> str:
    """The badge a demo driver presents: mostly an enrolled one not already charging."""
    if rng.random() < UNKNOWN_SHARE:
        return rng.choice(UNKNOWN_BADGES)
    free = [t for _, tags in MEMBERS for t in tags if t not in in_use]
    return rng.choice(free) if free else rng.choice(UNKNOWN_BADGES)
