"""A simulated day of the office site against the hub with no EMS: what the EMS must prevent."""

from __future__ import annotations

from pathlib import Path

from hub_engine.config import load_config
from hub_engine.sim.scenario import run_scenario
from tests.integration.ocpp_fixtures import Hub, running_hub


async def test_office_day_without_ems_trips_and_overshoots(tmp_path: Path) -> None:
    demo = load_config(None, env={"HUB_DATA_DIR": str(tmp_path), "HUB_OCPP_WS_PORT": "0",
                                  "HUB_OCPP_TLS": "off", "HUB_OCPP_BOOT_SPREAD_S": "0"})
    async with running_hub(demo) as hub:
        report = await run_scenario(demo, hub.url, speed=2400, hours=24, seed=3)
        assert isinstance(hub, Hub)
        sessions = hub.rows("SELECT count(*), sum(stopped_at IS NOT NULL) FROM transactions")
    tripped = {node for node, _ in report.trips}
    # Twenty cars drawing what they want: the group breakers cannot hold them.
    assert "group-a" in tripped
    assert report.max_import_a > demo.sites[0].grid.limit_a or report.max_overshoot_pct > 0
    assert report.seconds_over_limit > 0
    assert sessions == [(20, 20)]  # every car came and went through the hub
    assert report.energy_wh > 0
