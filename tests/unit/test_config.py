"""Configuration: every kind of error names its key path; overrides; the embedded demo."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from hub_engine.config import env_variables, load_config, parse_config
from hub_engine.errors import ConfigError
from tests.conftest import MINIMAL_SITE

ROOT = Path(__file__).resolve().parents[2]
SITE = "sites: [{id: s, grid: {id: g, limit_a: 63, %s}}]"

# (case, yaml, expected path, fragment of the message)
BAD = [
    ("wrong type", "http: {port: eighty}\n" + MINIMAL_SITE, "http.port", "expected an integer"),
    ("bool is not a number", SITE % "margin_a: true", "sites[0].grid.margin_a", "a number"),
    ("out of range port", "ocpp: {ws_port: 70000}\n" + MINIMAL_SITE, "ocpp.ws_port", "0..65535"),
    ("typo in a key", SITE % "limt_a: 3", "sites[0].grid.limt_a", "unknown key"),
    ("missing required", "sites: [{grid: {id: g, limit_a: 3}}]", "sites[0].id", "missing"),
    ("enum value", SITE % "charge_points: [{id: c, phases: 2}]",
     "sites[0].grid.charge_points[0].phases", "expected 1 or 3"),
    ("literal string", SITE % "charge_points: [{id: c, control: kW}]",
     "sites[0].grid.charge_points[0].control", "'A' or 'W'"),
    ("negative limit", SITE % "children: [{id: b, limit_a: -5}]",
     "sites[0].grid.children[0].limit_a", "> 0"),
    ("duplicate node id", SITE % "children: [{id: g}]", "sites[0].grid.children[0].id",
     "used twice"),
    ("duplicate charge point", SITE % "charge_points: [{id: c}, {id: c}]",
     "sites[0].grid.charge_points[1].id", "used twice"),
    ("unknown meter", SITE % "meter: nowhere", "sites[0].grid.meter", "no meter"),
    ("grid without limit", "sites: [{id: s, grid: {id: g}}]", "sites[0].grid", "limit_a"),
    ("no site", "sites: []", "sites", "at least one site"),
    ("list expected", "sites: {id: s}", "sites", "expected a list"),
    ("nan", SITE % "margin_a: .nan", "sites[0].grid.margin_a", "finite"),
    ("DC needs power", SITE % "charge_points: [{id: c, dc: true}]",
     "sites[0].grid.charge_points[0].max_power_w", "DC"),
    ("TLS pair", "ocpp: {tls_cert_file: a.pem}\n" + MINIMAL_SITE, "ocpp.tls_key_file", "together"),
    ("slash in id", SITE % "charge_points: [{id: a/b}]",
     "sites[0].grid.charge_points[0].id", "without '/'"),
    ("validity vs cycle", "ems: {cycle_s: 10, profile_validity_s: 20}\n" + MINIMAL_SITE,
     "ems.profile_validity_s", "3 × cycle_s"),
    # Sign errors and impossible figures that would overload the site (trust boundaries).
    ("negative fallback load", SITE % "meter_fallback_load_a: -20",
     "sites[0].grid.meter_fallback_load_a", "≥ 0 A"),
    ("margin at the limit", SITE % "margin_a: 63", "sites[0].grid.margin_a",
     "at or above limit_a"),
    ("margin above a board's limit", SITE % "children: [{id: b, limit_a: 16, margin_a: 20}]",
     "sites[0].grid.children[0].margin_a", "at or above limit_a"),
    ("negative rating", SITE % "charge_points: [{id: c, max_current_a: -32}]",
     "sites[0].grid.charge_points[0].max_current_a", "> 0"),
    ("AC above what AC carries", SITE % "charge_points: [{id: c, max_current_a: 125}]",
     "sites[0].grid.charge_points[0].max_current_a", "at most 63 A"),
    ("single-phase AC above 80 A", SITE % "charge_points: [{id: c, phases: 1, "
     "max_current_a: 100}]", "sites[0].grid.charge_points[0].max_current_a", "at most 80 A"),
    ("minimum above every maximum", "ems: {min_current_a: 20}\n"
     + SITE % "charge_points: [{id: c, max_current_a: 16}]", "ems.min_current_a",
     "no car could ever charge"),
    ("negative minimum", "ems: {min_current_a: -6}\n" + MINIMAL_SITE, "ems.min_current_a",
     "> 0"),
    ("window shorter than a decrease", "ems: {reaction_window_s: 5}\n" + MINIMAL_SITE,
     "ems.reaction_window_s", "cycle_s + confirm_settle_s"),
    ("silent meter longer than the window", "ems: {meter_timeout_s: 30}\n" + MINIMAL_SITE,
     "ems.meter_timeout_s", "longer than reaction_window_s"),
    ("one client holding every thread", "http: {threads: 4, max_reading_per_client: 4}\n"
     + MINIMAL_SITE, "http.max_reading_per_client", "one client could hold them all"),
    ("negative subscription", "sites: [{id: s, grid: {id: g, limit_va: -36000}}]",
     "sites[0].grid.limit_va", "> 0"),
    ("negative load of a meter", "meters: [{id: m, driver: static, options: "
     "{current_a: [0, 0, 0]}}]\n" + SITE % "meter: m, meter_fallback_load_a: -1",
     "sites[0].grid.meter_fallback_load_a", "≥ 0 A"),
    # The CPO relay (docs/cpo.md).
    ("cpo mode without a cpo section", SITE % "charge_points: [{id: c, mode: cpo}]",
     "sites[0].cpo", "needs a cpo section"),
    ("cpo mode without a url", "sites: [{id: s, cpo: {}, grid: {id: g, limit_a: 63, "
     "charge_points: [{id: c, mode: cpo}]}}]", "sites[0].cpo.url", "no cpo_url"),
    ("cpo url not a websocket", "sites: [{id: s, cpo: {url: 'http://cpo'}, grid: {id: g, "
     "limit_a: 63}}]", "sites[0].cpo.url", "ws://host"),
    ("cpo refusing an unknown call", "sites: [{id: s, cpo: {refuse_commands: [Reboot]}, "
     "grid: {id: g, limit_a: 63}}]", "sites[0].cpo.refuse_commands", "unknown OCPP call"),
    ("cpo client certificate alone", SITE % "charge_points: [{id: c, "
     "cpo_client_cert_file: c.pem}]", "sites[0].grid.charge_points[0].cpo_client_key_file",
     "together"),
]


@pytest.mark.parametrize(("case", "text", "path", "fragment"), BAD, ids=[b[0] for b in BAD])
def test_bad_config_names_path(case: str, text: str, path: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        parse_config(text, source="hub.yaml")
    assert info.value.path == path, str(info.value)
    assert fragment in info.value.message
    assert str(info.value).startswith(f"hub.yaml: {path}: ")


def test_bad_yaml_names_line() -> None:
    with pytest.raises(ConfigError, match=r"hub\.yaml: not valid YAML at line 2"):
        parse_config("sites:\n  - [", source="hub.yaml")


@pytest.mark.parametrize("text", ["hub: " + "[" * 5000 + "]" * 5000,
                                  "hub: " + "{a: " * 3000 + "1" + "}" * 3000,
                                  "hub: " + "[" * 70 + "]" * 70])
def test_deeply_nested_yaml_is_refused_not_a_crash(text: str) -> None:
    """The YAML parser and the validator recurse: RecursionError escaped every handler."""
    with pytest.raises(ConfigError, match=r"hub\.yaml: nested deeper than 64 levels"):
        parse_config(text, source="hub.yaml")


def test_value_is_quoted_in_error() -> None:
    with pytest.raises(ConfigError, match="got 'eighty'"):
        parse_config("http: {port: eighty}\n" + MINIMAL_SITE)


def test_defaults_and_frozen() -> None:
    config = parse_config(MINIMAL_SITE)
    assert (config.ocpp.ws_port, config.ocpp.wss_port, config.http.port) == (9000, 9043, 8080)
    assert config.ems.min_current_a == 6.0
    with pytest.raises(AttributeError):
        config.http.port = 1  # type: ignore[misc]


def test_relative_paths_resolve_against_config_file(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("hub: {data_dir: mydata}\n" + MINIMAL_SITE)
    config = load_config(tmp_path / "hub.yaml", env={})
    assert config.hub.data_dir == str(tmp_path / "mydata")


def test_env_overrides_file(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("http: {port: 8081}\n" + MINIMAL_SITE)
    env = {"HUB_HTTP_PORT": "8099", "HUB_EMS_CYCLE_S": "0.5", "HUB_OCPP_HOST": "10.0.0.2"}
    config = load_config(tmp_path / "hub.yaml", env=env)
    assert config.http.port == 8099
    assert config.ems.cycle_s == 0.5
    assert config.ocpp.host == "10.0.0.2"


def test_bad_env_override_named() -> None:
    with pytest.raises(ConfigError, match=r"http\.port: got 'x'"):
        load_config(None, env={"HUB_HTTP_PORT": "x"})


def test_hub_config_env_selects_file(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("http: {port: 8123}\n" + MINIMAL_SITE)
    assert load_config(None, env={"HUB_CONFIG": str(tmp_path / "hub.yaml")}).http.port == 8123


def test_embedded_demo_is_reference_site_1() -> None:
    config = load_config(None, env={})
    assert config.simulation is not None
    site = config.sites[0]
    assert site.grid.limit_a == 250 and site.grid.limit_va == 144_000
    cps = config.charge_points()
    assert len(cps) == 20
    assert sum(cp.phases == 1 for cp in cps) == 10


def test_every_env_variable_is_documented() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text()
    missing = [name for name in env_variables() if name not in doc]
    assert not missing, f"docs/configuration.md does not list {missing}"


def test_check_config_command(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(MINIMAL_SITE)
    bad = tmp_path / "bad.yaml"
    bad.write_text(SITE % "limit_w: lots")
    run = [sys.executable, "-m", "hub_engine", "check-config"]
    ok = subprocess.run([*run, str(good)], capture_output=True, text=True, check=False)
    assert ok.returncode == 0 and "OK (1 site(s), 1 charge point(s))" in ok.stdout
    ko = subprocess.run([*run, str(bad)], capture_output=True, text=True, check=False)
    assert ko.returncode == 2
    assert re.search(r"bad\.yaml: sites\[0\]\.grid\.limit_w: got 'lots'", ko.stderr)


def test_yaml_off_is_understood_where_a_word_is_meant(tmp_path: Path) -> None:
    (tmp_path / "hub.yaml").write_text("ocpp: {tls: off}\n" + MINIMAL_SITE)
    assert load_config(tmp_path / "hub.yaml", env={}).ocpp.tls == "off"
    assert load_config(None, env={"HUB_OCPP_TLS": "off"}).ocpp.tls == "off"
    # A text value from the environment is taken as written, not read as YAML.
    assert load_config(None, env={"HUB_OCPP_HOST": "0123"}).ocpp.host == "0123"


def test_check_config_loads_device_templates(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL_SITE.replace("      limit_a: 63", "      limit_a: 63\n      meter: m")
                   + "meters: [{id: m, driver: modbus, options: {host: x, template: nope}}]\n")
    ko = subprocess.run([sys.executable, "-m", "hub_engine", "check-config", str(bad)],
                        capture_output=True, text=True, check=False)
    assert ko.returncode == 2 and "meters[0].options.template: no template 'nope'" in ko.stderr


DEVICE_SITE = MINIMAL_SITE + """
devices:
  - {id: plc, role: io, options: {host: 10.0.0.5}}
  - {id: pv, role: pv, node: grid, driver: sunspec, options: {host: 10.0.0.6}}
"""


@pytest.mark.parametrize(("extra", "path"), [
    ("  - {id: pv2, role: pv, node: nowhere, options: {host: x, template: sdm630}}\n",
     "devices[2].node"),
    ("  - {id: g, role: generator, node: grid, options: {host: x}}\n", "devices[2].limit_a"),
    ("  - {id: b, role: battery, driver: sunspec, node: grid, options: {}}\n",
     "devices[2].driver"),
    ("inputs: [{id: i, device: pv, address: 0, function: fire_alarm}]\n", "inputs[0].device"),
    ("inputs: [{id: i, device: plc, address: 0, function: load_shedding, node: grid}]\n",
     "inputs[0].limit_a"),
    ("outputs: [{id: o, device: plc, coil: 0, node: nowhere}]\n", "outputs[0].node"),
])
def test_devices_inputs_and_outputs_name_what_exists(extra: str, path: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(DEVICE_SITE + extra)
    assert err.value.path == path


def test_a_board_rated_above_its_parent_is_a_warning_with_the_figure(tmp_path: Path) -> None:
    text = SITE % "children: [{id: b, limit_a: 100}]"
    config = parse_config(text)
    assert config.warnings() == [
        "sites[0].grid.children[0].limit_a: 100 A is above its parent 'g' (63 A); the EMS "
        "keeps both, so the parent's rating is what the board gets"]
    path = tmp_path / "hub.yaml"
    path.write_text(text)
    out = subprocess.run([sys.executable, "-m", "hub_engine", "check-config", str(path)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0 and "warning: sites[0].grid.children[0].limit_a" in out.stdout


def test_hub_run_refuses_a_sign_error_before_starting(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(f"hub: {{data_dir: {tmp_path}}}\n"
                    + SITE % "meter_fallback_load_a: -20")
    out = subprocess.run([sys.executable, "-m", "hub_engine", "run", "--config", str(path)],
                         capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 2, out.stderr
    assert "sites[0].grid.meter_fallback_load_a: got -20" in out.stderr
    assert not (tmp_path / "core.db").exists()  # refused before anything was written
