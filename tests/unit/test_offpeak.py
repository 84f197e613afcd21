"""Peak and off-peak hours: the contract's windows in local time (DST included), French
day names, the site's grid held at its peak limit outside them and released inside."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.ems.external import ExternalLimits
from hub_engine.signals.offpeak import SOURCE, OffPeakService

PARIS = ZoneInfo("Europe/Paris")
CONFIG = ("signals: {offpeak: {windows: 'lun-dim 22h-6h | Sat,Sun 00:00-24:00 | "
          "Mon-Fri 12:30-14:00', peak_limit_a: 20}}\n"
          "sites: [{id: s1, grid: {id: grid, limit_a: 63}}]\n")


class Ems:
    def __init__(self, clock: FakeClock) -> None:
        self.external = ExternalLimits(clock, {"grid"})
        self.woken = 0

    def wake(self) -> None:
        self.woken += 1


@pytest.mark.parametrize(("local", "peak"), [
    (datetime(2027, 1, 18, 21, 59), True),  # Monday evening: peak
    (datetime(2027, 1, 18, 22, 0), False),  # 22:00: off-peak
    (datetime(2027, 1, 19, 5, 59), False),  # past midnight, before 06:00
    (datetime(2027, 1, 19, 6, 0), True),
    (datetime(2027, 1, 19, 13, 0), False),  # the midday off-peak hours Enedis moved
    (datetime(2027, 1, 23, 15, 0), False),  # Saturday: off-peak all day
    (datetime(2027, 3, 28, 12, 0), False),  # Sunday of the DST change
    (datetime(2027, 3, 29, 7, 0), True),  # Monday after it (UTC+2 now)
])
def test_the_site_is_held_in_peak_hours_only(local: datetime, peak: bool) -> None:
    clock = FakeClock(local.replace(tzinfo=PARIS))
    service = OffPeakService(parse_config(CONFIG), clock)
    ems = Ems(clock)
    service.ems = ems  # type: ignore[assignment]
    service.apply()
    held = [lim for lim in ems.external.in_force() if lim.source == SOURCE]
    assert service.peak is peak
    assert [lim.limit_a for lim in held] == ([20.0] if peak else [])
    if peak:  # and released when the off-peak hours come
        service.peak = None
        clock.advance(10 * 3600)
        service.apply()
        if not service.peak:
            assert not [lim for lim in ems.external.in_force() if lim.source == SOURCE]


def test_a_bad_window_is_refused_in_words() -> None:
    with pytest.raises(Exception, match="'25h' is not an hour"):
        parse_config(CONFIG.replace("lun-dim 22h-6h", "lun 25h-26h"))
