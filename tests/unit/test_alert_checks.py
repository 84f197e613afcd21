"""What counts as wrong, from the live state: a table per kind of alert."""

from __future__ import annotations

from typing import Any

import pytest

from hub_engine.alerts.checks import cpo_conditions, site_conditions, stalled
from hub_engine.alerts.kinds import describe
from hub_engine.i18n import say


def conn(cid: str = "CP1/1", state: str = "charging", online: bool = True,
         status: str = "Charging", **kw: Any) -> dict[str, Any]:
    base = {"id": cid, "charge_point": cid.split("/")[0], "site": "s1", "online": online,
            "status": status, "state": state, "reason": "fair share", "limit_a": 16.0,
            "max_current_a": 16.0, "fault": None, "session": None}
    return {**base, **kw}


def live(*connectors: dict[str, Any]) -> dict[str, Any]:
    return {"connectors": list(connectors), "sites": [{"id": "s1", "limit_a": 63.0}]}


@pytest.mark.parametrize(("connectors", "devices", "disks", "expected"), [
    ([conn()], {}, {}, set()),
    ([conn(state="faulted", status="Faulted",
           fault={"error_code": "GroundFailure", "vendor_error_code": "E42", "info": None})],
     {}, {}, {("cp_faulted", "CP1/1")}),
    # A charge point is off the network when all its connectors are; one offline
    # connector of two is a charge point that is there.
    ([conn("CP1/1", "offline", False), conn("CP1/2", "offline", False)], {}, {},
     {("cp_offline", "CP1")}),
    ([conn("CP1/1", "offline", False), conn("CP1/2", "free", True, "Available")], {}, {},
     set()),
    ([], {"tgbt": {"online": False, "error": "timeout"}, "io": {"online": True}}, {},
     {("device_silent", "tgbt")}),
    # Held back: below its maximum for want of power, or paused without its minimum.
    ([conn(limit_a=10.0)], {}, {}, {("site_at_limit", "s1")}),
    ([conn(state="paused", limit_a=0.0, reason="paused: not enough power for the minimum")],
     {}, {}, {("site_at_limit", "s1")}),
    # A car that takes less, a car paused for another reason: not the site's limit.
    ([conn(limit_a=10.0, reason="car takes less")], {}, {}, set()),
    ([conn(state="paused", limit_a=0.0, reason="fire alarm")], {}, {}, set()),
    ([], {}, {"/var/lib/hub": 4.0, "/media/usb": 50.0}, {("disk_low", "/var/lib/hub")}),
])
def test_conditions(connectors: list[dict[str, Any]], devices: dict[str, Any],
                    disks: dict[str, float], expected: set[tuple[str, str]]) -> None:
    assert set(site_conditions(live(*connectors), devices, disks, 10.0)) == expected


def test_a_session_is_stalled_when_charging_without_energy_for_long() -> None:
    def at(energy: float, **kw: Any) -> dict[str, Any]:
        return live(conn(session={"energy_wh": energy}, **kw))
    progress, found = stalled({}, at(100.0), 0.0, 600.0)
    assert found == {}
    progress, found = stalled(progress, at(100.0), 599.0, 600.0)
    assert found == {}
    progress, found = stalled(progress, at(100.0), 600.0, 600.0)
    assert found == {("session_stalled", "CP1/1"): {"minutes": 10, "energy_wh": 100.0}}
    progress, found = stalled(progress, at(101.0), 700.0, 600.0)  # energy again: over
    assert found == {}
    # Suspended by the car (full), or paused by the EMS: not an anomaly.
    for quiet in (at(101.0, status="SuspendedEV"), at(101.0, state="paused", limit_a=0.0)):
        assert stalled(progress, quiet, 5000.0, 600.0)[1] == {}


def test_each_alert_reads_as_a_sentence_in_both_languages() -> None:
    text = describe("cp_faulted", "CP1/1", {"error_code": "GroundFailure",
                                            "vendor_error_code": "E42", "info": "RCD"})
    assert text == "CP1/1: fault GroundFailure (vendor code E42) RCD"
    assert say(text, "fr") == "CP1/1 : défaut GroundFailure (code constructeur E42) RCD"


@pytest.mark.parametrize(("link", "raised"), [
    ({"linked": True, "online": False, "queued": 12, "last_error": "refused"}, True),
    ({"linked": True, "online": True, "queued": 12, "last_error": ""}, False),
    # No link wanted (charge point away, nothing owed): cp_offline tells it, not this.
    ({"linked": False, "online": False, "queued": 0, "last_error": None}, False),
])
def test_cpo_unreachable(link: dict[str, Any], raised: bool) -> None:
    found = cpo_conditions([{"charge_point_id": "PUB1", **link}])
    assert (("cpo_unreachable", "PUB1") in found) is raised
    if raised:
        text = describe("cpo_unreachable", "PUB1", found[("cpo_unreachable", "PUB1")])
        assert text == "PUB1: the CPO cannot be reached (refused); 12 message(s) wait for it"
