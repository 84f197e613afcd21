"""Typed, validated configuration (``hub.yaml``)."""

from hub_engine.config.devices import DeviceConfig, InputConfig, OutputConfig
from hub_engine.config.loader import ENV_SECTIONS, env_variables, load_config, parse_config
from hub_engine.config.notify import AlertsConfig, MailConfig, ReportsConfig
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
    "AlertsConfig",
    "BusConfig",
    "ChargePointConfig",
    "DeviceConfig",
    "EmsConfig",
    "GeneralConfig",
    "HttpConfig",
    "HubConfig",
    "InputConfig",
    "MailConfig",
    "MeterConfig",
    "NodeConfig",
    "OcppConfig",
    "OpsConfig",
    "OutputConfig",
    "ReportsConfig",
    "SimulationConfig",
    "SiteConfig",
    "StoreConfig",
    "env_variables",
    "load_config",
    "parse_config",
]
