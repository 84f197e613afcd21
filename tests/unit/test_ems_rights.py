"""A session's rights in the allocation: tier and minimum current (its solar mode is
read by the solar control: tests/unit/test_ems_solar.py)."""

from __future__ import annotations

from hub_engine.ems.model import Connector, Session
from hub_engine.ems.rights import SessionRights, apply_rights


def test_rights_raise_tier_and_minimum() -> None:
    plain = Connector("CP2/1", "grid", 32.0, tier=1)
    fleet = Connector("CP1/1", "grid", 32.0, session=Session())
    out = apply_rights([fleet, plain], {"CP1/1": SessionRights(tier=5, min_current_a=10),
                                        "CP2/1": SessionRights(tier=0)})
    assert (out[0].tier, out[0].min_current_a) == (5, 10.0)
    assert out[1] == plain  # no session: nothing changes; a lower tier never lowers
    lower = apply_rights([fleet], {"CP1/1": SessionRights(tier=-1, min_current_a=None)})
    assert (lower[0].tier, lower[0].min_current_a) == (0, 6.0)  # rights only ever raise
