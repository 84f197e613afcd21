"""The boot sequence: read what the charge point can do, set what the hub needs.

Runs while the charge point is held in ``Pending`` (OCPP 1.6 lets the central system
read and change configuration then), and again after every reboot, since some firmware
forgets its settings (reference/OCPP-INTEROP.md §10).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call

from hub_engine.ocpp import repo

if TYPE_CHECKING:
    from hub_engine.ocpp.station import Station

__all__ = ["CAPABILITY_KEYS", "configure_station"]

log = logging.getLogger(__name__)

CAPABILITY_KEYS = (
    "SupportedFeatureProfiles",
    "ChargeProfileMaxStackLevel",
    "ChargingScheduleAllowedChargingRateUnit",
    "ChargingScheduleMaxPeriods",
    "MaxChargingProfilesInstalled",
    "NumberOfConnectors",
    "MeterValuesSampledDataMaxLength",
    "LocalAuthListEnabled",
    "LocalAuthListMaxLength",
    "AuthorizationKey",
    "SecurityProfile",
    "WebSocketPingInterval",
    "ConnectorSwitch3to1PhaseSupported",
)
# What the EMS needs to see, most important first: if the whole list is refused, the
# charge point gets the longest prefix it accepts.
MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
              "Voltage", "SoC")


async def _change(station: Station, key: str, value: str) -> str:
    try:
        resp = await station.request(call.ChangeConfiguration(key=key, value=value))
    except Exception as exc:  # timeout or CALLERROR: recorded, the boot goes on
        log.warning("%s: ChangeConfiguration %s failed: %s", station.id, key, exc)
        return "Failed"
    return str(resp.status)


async def configure_station(station: Station) -> None:
    cfg = station.ctx.config
    configuration: dict[str, Any] = {}
    try:
        resp = await station.request(call.GetConfiguration())
        for item in resp.configuration_key or []:
            configuration[item["key"]] = {"value": item.get("value"),
                                          "readonly": bool(item.get("readonly"))}
    except Exception as exc:
        log.warning("%s: GetConfiguration failed (%s): capabilities unknown", station.id, exc)
    caps = {k: configuration[k]["value"] for k in CAPABILITY_KEYS if k in configuration}
    caps.pop("AuthorizationKey", None)  # write-only secret: never stored
    configuration.pop("AuthorizationKey", None)
    applied: dict[str, str] = {}
    applied["HeartbeatInterval"] = await _change(station, "HeartbeatInterval",
                                                 str(cfg.heartbeat_interval_s))
    applied["MeterValueSampleInterval"] = await _change(
        station, "MeterValueSampleInterval", str(cfg.meter_value_sample_interval_s))
    for n in range(len(MEASURANDS), 0, -1):
        status = await _change(station, "MeterValuesSampledData", ",".join(MEASURANDS[:n]))
        if status in ("Accepted", "RebootRequired"):
            caps["MeterValuesSampledData"] = ",".join(MEASURANDS[:n])
            break
    caps["applied"] = applied
    station.capabilities = caps
    station.configuration = configuration
    await station.ctx.store.core.write(repo.store_configuration(station.id, configuration, caps))
    log.info("%s: configured (%s)", station.id, ", ".join(f"{k}={v}" for k, v in applied.items()))
