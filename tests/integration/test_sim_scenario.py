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
        report = (await run_scenario(demo, hub.url, speed=2400, hours=24, seed=3))["office"]
        assert isinstance(hub, Hub)
        sessions = hub.rows("SELECT count(*), sum(stopped_at IS NOT NULL) FROM transactions")
    tripped = {node for node, _ in report.trips}
    # Twenty cars drawing what they want: the group breakers cannot hold them.
    assert "group-a" in tripped
    assert report.max_import_a > demo.sites[0].grid.limit_a or report.max_overshoot_pct > 0
    assert report.seconds_over_limit > 0
    assert sessions == [(20, 20)]  # every car came and went through the hub
    assert report.energy_wh > 0


def test_hub_sim_command(tmp_path: Path) -> None:
    import json
    import subprocess
    import sys
    import time

    from tests.conftest import free_port
    port = free_port()
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"hub: {{data_dir: {tmp_path}}}\nocpp: {{host: 127.0.0.1, ws_port: {port},"
                   " tls: off, boot_spread_s: 0}\nhttp: {port: 0}\n"
                   "sites: [{id: s, grid: {id: g, limit_a: 200, charge_points: [{id: CP1}]}}]\n")
    hub = subprocess.Popen([sys.executable, "-m", "hub_engine", "run", "--config", str(cfg)],
                           stderr=subprocess.DEVNULL)
    try:
        time.sleep(1.5)
        cmd = [sys.executable, "-m", "hub_engine", "sim", "--url", f"ws://127.0.0.1:{port}",
               "--config", str(cfg), "--speed", "3600", "--hours", "12",
               "--scenario", "office"]
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
        report = json.loads(out.stdout)["s"]
        assert report["limit_a"] == 200 and report["energy_delivered_kwh"] > 0
        bad = subprocess.run([*cmd, "--quirks", "teleports"], capture_output=True, text=True,
                             timeout=60, check=False)
        assert bad.returncode == 1 and "known quirks" in bad.stderr
    finally:
        hub.terminate()
        hub.wait(20)


SITES = Path(__file__).resolve().parents[2] / "hub_engine" / "sim" / "sites"


async def _day(tmp_path: Path, name: str, hours: float = 34, speed: float = 8000):
    from hub_engine.config import load_config as load
    from tests.conftest import free_port
    site = tmp_path / f"{name}.yaml"  # the simulated CPO on a free port, not 9190
    site.write_text((SITES / f"{name}.yaml").read_text().replace("9190", str(free_port())))
    config = load(site, env={
        "HUB_DATA_DIR": str(tmp_path), "HUB_OCPP_HOST": "127.0.0.1", "HUB_OCPP_WS_PORT": "0",
        "HUB_OCPP_TLS": "off", "HUB_OCPP_BOOT_SPREAD_S": "0",
        "HUB_OCPP_UNKNOWN_CHARGE_POINTS": "accept", "HUB_HTTP_PORT": "0"})
    async with running_hub(config) as hub:
        reports = await run_scenario(config, hub.url, speed=speed, hours=hours, seed=5,
                                     scenario=config.simulation.scenario)
        sessions = hub.rows("SELECT count(*), sum(stopped_at IS NOT NULL),"
                            " sum(energy_wh) FROM transactions")[0]
        if name == "campus":  # the public car park's sessions reached its CPO
            assert hub.rows("SELECT count(*) FROM cpo_transactions WHERE cpo_tx > 1000"
                            " AND status = 'Accepted'") == [(10,)]
    return config, reports, sessions


async def test_condominium_evening_overloads_the_small_supply(tmp_path: Path) -> None:
    _, reports, (n, closed, _) = await _day(tmp_path, "condominium")
    r = reports["condominium"]
    assert n >= 15 and closed == n  # households came home and left in the morning
    # Eight single-phase cars per phase on a 52 A supply: the breaker cannot hold them.
    assert [node for node, _ in r.trips] == ["linky"]
    assert 17 * 3600 <= r.trips[0][1] <= 22 * 3600


async def test_fleet_vans_charge_overnight_on_ac_and_dc(tmp_path: Path) -> None:
    _, reports, (n, closed, energy_wh) = await _day(tmp_path, "fleet")
    assert n == 32 and closed == 32 and energy_wh > 0
    r = reports["fleet"]
    assert r.energy_wh > 0 and r.max_import_a > 0
    assert {node for node, _ in r.trips} <= {"tgbt", "td-ac", "td-dc"}


async def test_island_visitors_come_and_go(tmp_path: Path) -> None:
    _, reports, (n, closed, _) = await _day(tmp_path, "island", hours=20)
    assert n > 8 and closed == n  # several visitors per charge point in a day
    assert reports["island"].energy_wh > 0


async def test_campus_runs_both_sites(tmp_path: Path) -> None:
    _, reports, (n, closed, _) = await _day(tmp_path, "campus", hours=20)
    assert set(reports) == {"campus-a", "campus-b"}
    assert n == 61 and closed == 61
    assert reports["campus-b"].limit_va is None  # the remote car park has no meter
