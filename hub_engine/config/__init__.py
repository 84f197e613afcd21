"""Typed, validated configuration (``hub.yaml``)."""

from hub_engine.config.devices import DeviceConfig, InputConfig, OutputConfig
from hub_engine.config.loader import ENV_SECTIONS, env_variables, load_config, parse_config
from hub_engine.config.schema import (
    AccessConfig,
    BusConfig,
    ChargePointConfig,
    EmsConfig,
    GeneralConfig,
    HttpConfig,
    HubConfig,
    MeterConfig,
    NodeConfig,
    OcppConfig,
    OpsConfig,
    SimulationConfig,
    SiteConfig,
    StoreConfig,
)

__all__ = [
    "ENV_SECTIONS",
    "AccessConfig",
    "BusConfig",
    "ChargePointConfig",
    "DeviceConfig",
    "EmsConfig",
    "GeneralConfig",
    "HttpConfig",
    "HubConfig",
    "InputConfig",
    "MeterConfig",
    "NodeConfig",
    "OcppConfig",
    "OpsConfig",
    "OutputConfig",
    "SimulationConfig",
    "SiteConfig",
    "StoreConfig",
    "env_variables",
    "load_config",
    "parse_config",
]
