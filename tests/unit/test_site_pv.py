"""The site's measured PV: its inverters' power summed; unknown (not 0) when one is not
read, or without inverters; an inverter counts on the site whose tree holds its node."""

from __future__ import annotations

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.devices.site import SiteDevices
from hub_engine.errors import ReadError

CONFIG = parse_config("""
sites:
  - {id: a, grid: {id: ga, limit_a: 63, children: [{id: roof-board, limit_a: 40}]}}
  - {id: b, grid: {id: gb, limit_a: 63}}
devices:
  - {id: inv1, role: pv, node: roof-board, options: {host: 127.0.0.1, template: x}}
  - {id: inv2, role: pv, node: ga, options: {host: 127.0.0.1, template: x}}
""")


class Inverter:
    def __init__(self, power_w: float | None) -> None:
        self.power_w = power_w

    def value(self, name: str) -> tuple[float, ...]:
        if self.power_w is None:
            raise ReadError("silent")
        return (self.power_w,)


def test_a_site_s_inverters_summed_and_a_silent_one_makes_it_unknown() -> None:
    site = SiteDevices(CONFIG, FakeClock())
    site.modbus = {"inv1": Inverter(3000.0), "inv2": Inverter(1500.5)}  # type: ignore[dict-item]
    assert site.pv_power_w("a") == 4500.5
    assert site.pv_power_w("b") is None  # no inverter there
    site.modbus["inv2"] = Inverter(None)  # type: ignore[assignment]
    assert site.pv_power_w("a") is None
