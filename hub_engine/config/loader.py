"""Read ``hub.yaml`` (or the embedded demo), apply ``HUB_*`` overrides, validate, resolve paths."""

from __future__ import annotations

import dataclasses
import os
import typing
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, get_type_hints

import yaml

from hub_engine.config.schema import HubConfig, NodeConfig, SimulationConfig
from hub_engine.errors import ConfigError
from hub_engine.i18n import Text
from hub_engine.jsonlimits import deeper_than
from hub_engine.typed import ConfigErrors, build

__all__ = ["ENV_SECTIONS", "config_text", "env_variables", "load_config", "parse_config"]

# Sections whose scalar keys can be overridden by HUB_<SECTION>_<KEY>.
MAX_CONFIG_DEPTH = 64  # a tree of 30 nested boards; the validator recurses
ENV_SECTIONS = ("hub", "ocpp", "http", "bus", "store", "ems", "access", "ops", "alerts",
                "mail", "reports", "simulation")
# Sections that exist only where the file has them: a variable alone never creates one.
_OPTIONAL = ("mail", "simulation")


def env_variables() -> dict[str, str]:
    """Every ``HUB_*`` override, mapped to the key path it sets."""
    out = {"HUB_CONFIG": "(path of the configuration file)"}
    for section in ENV_SECTIONS:
        for f in dataclasses.fields(_section_type(section)):
            # The general section reads best without a second "HUB": HUB_DATA_DIR.
            prefix = "HUB" if section == "hub" else f"HUB_{section}"
            out[f"{prefix}_{f.name}".upper()] = f"{section}.{f.name}"
    return out


def _read_yaml(text: str, source: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown place"
        raise ConfigError(source, Text("not valid YAML at {where}: {error}", where=where,
                                       error=exc)) from None
    except RecursionError:  # the parser recurses: thousands of nested brackets
        raise ConfigError(source, Text("nested deeper than {depth} levels",
                                          depth=MAX_CONFIG_DEPTH)) from None
    if deeper_than(data, MAX_CONFIG_DEPTH):
        raise ConfigError(source, Text("nested deeper than {depth} levels",
                                          depth=MAX_CONFIG_DEPTH))
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(source, Text("expected a mapping at the top, got {kind}",
                                          kind=type(data).__name__))
    return data


def _section_type(section: str) -> Any:
    """The section's dataclass (an optional section, ``simulation``, unwrapped)."""
    tp = get_type_hints(HubConfig)[section]
    return next((a for a in typing.get_args(tp) if a is not type(None)), tp)


def _is_text(section: str, key: str) -> bool:
    tp = get_type_hints(_section_type(section))[key]
    args = typing.get_args(tp) if typing.get_origin(tp) is not typing.Literal else ()
    return tp is str or tp == (str | None) or (bool(args) and all(isinstance(a, str)
                                                                 for a in args))


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, key_path in env_variables().items():
        if name == "HUB_CONFIG" or name not in env:
            continue
        section, key = key_path.split(".")
        if section in _OPTIONAL and section not in data:
            continue  # moves the demo's ports; never turns a real site into a simulation
        raw = env[name]
        if _is_text(section, key):
            value: Any = raw  # a string stays as given (no YAML guessing: "off", "012")
        else:
            try:
                value = yaml.safe_load(raw) if raw != "" else ""
            except yaml.YAMLError:
                value = raw
        target = data.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(section, Text("expected a mapping"))
        target[key] = value


def _link_simulation(data: dict[str, Any]) -> None:
    """``port: simulation`` in a meter's options: the port the simulated site serves its
    meter on (``simulation.meter_port``), so that moving that one key moves both."""
    sim = data.get("simulation")
    for i, meter in enumerate(data.get("meters") or []):
        opts = meter.get("options") if isinstance(meter, dict) else None
        if not isinstance(opts, dict) or opts.get("port") != "simulation":
            continue
        path = f"meters[{i}].options.port"
        if not isinstance(sim, dict):
            raise ConfigError(path, Text("'simulation' needs a simulation section"))
        port = sim.get("meter_port", SimulationConfig.meter_port)
        if not port:
            raise ConfigError(path, Text(
                "simulation.meter_port is 0: no simulated meter is served"))
        opts["port"] = port


def parse_config(
    text: str, *, source: str = "<config>", base_dir: Path | None = None,
    env: Mapping[str, str] | None = None,
) -> HubConfig:
    """Parse YAML text into a validated :class:`HubConfig`.

    Relative paths (``hub.data_dir``, TLS files) are resolved against ``base_dir``.
    """
    data = _read_yaml(text, source)
    if env is not None:
        _apply_env(data, env)
    try:
        _link_simulation(data)
    except ConfigError as exc:
        raise ConfigError(exc.path, exc.message, source=source) from None
    try:
        config: HubConfig = build(HubConfig, data)
    except ConfigErrors as many:
        raise ConfigErrors([ConfigError(e.path, e.message, source=source)
                            for e in many.errors]) from None
    except ConfigError as exc:
        raise ConfigError(exc.path, exc.message, source=source) from None
    base = base_dir or Path.cwd()
    return _resolve_paths(config, base)


def _resolve_paths(config: HubConfig, base: Path) -> HubConfig:
    def resolve(value: str | None) -> str | None:
        if value is None:
            return None
        path = Path(value).expanduser()
        return str(path if path.is_absolute() else (base / path).resolve())

    data_dir = resolve(config.hub.data_dir)
    assert data_dir is not None
    hub = dataclasses.replace(config.hub, data_dir=data_dir)
    ocpp = dataclasses.replace(
        config.ocpp,
        tls_cert_file=resolve(config.ocpp.tls_cert_file),
        tls_key_file=resolve(config.ocpp.tls_key_file),
    )
    store = dataclasses.replace(config.store, backup_dir=resolve(config.store.backup_dir))
    mail = config.mail and dataclasses.replace(
        config.mail, password_file=resolve(config.mail.password_file),
        ca_file=resolve(config.mail.ca_file))
    def node(n: NodeConfig) -> NodeConfig:  # the CPO client certificates in the tree
        cps = tuple(dataclasses.replace(
            cp, cpo_client_cert_file=resolve(cp.cpo_client_cert_file),
            cpo_client_key_file=resolve(cp.cpo_client_key_file)) for cp in n.charge_points)
        return dataclasses.replace(n, charge_points=cps,
                                   children=tuple(node(c) for c in n.children))

    sites = tuple(dataclasses.replace(
        site, grid=node(site.grid), cpo=site.cpo and dataclasses.replace(
            site.cpo, ca_file=resolve(site.cpo.ca_file))) for site in config.sites)
    return dataclasses.replace(config, hub=hub, ocpp=ocpp, store=store, mail=mail,
                               sites=sites)


def config_text(path: str | os.PathLike[str] | None) -> str:
    """The text of the configuration file at ``path`` (the embedded demo's without one)."""
    if path is None:
        return resources.files("hub_engine.sim").joinpath("sites/office.yaml").read_text("utf-8")
    return Path(path).read_text("utf-8")


def load_config(path: str | os.PathLike[str] | None = None,
                env: Mapping[str, str] | None = None) -> HubConfig:
    """Load the file at ``path`` (or ``$HUB_CONFIG``, or the embedded demo site)."""
    env = os.environ if env is None else env
    chosen = path or env.get("HUB_CONFIG") or None
    if chosen is None:
        text = resources.files("hub_engine.sim").joinpath("sites/office.yaml").read_text("utf-8")
        return parse_config(text, source="<embedded demo>", base_dir=Path.cwd(), env=env)
    file = Path(chosen)
    try:
        text = file.read_text("utf-8")
    except OSError as exc:
        raise ConfigError(str(file), Text("cannot read the configuration file: {why}",
                                          why=exc.strerror)) from None
    return parse_config(text, source=str(file), base_dir=file.resolve().parent, env=env)
