"""The boot sequence: read what the charge point can do, set what the hub needs.

Runs while the charge point is held in ``Pending`` (OCPP 1.6 lets the central system
read and change configuration then), and again after every reboot, since some firmware
forgets its settings (reference/OCPP-INTEROP.md §10).
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from typing import TYPE_CHECKING, Any

from ocpp.v16 import call

from hub_engine.config import ChargePointConfig
from hub_engine.ocpp import repo
from hub_engine.ocpp.profiles import charge_point_max, fallback, layout_for

if TYPE_CHECKING:
    from hub_engine.ocpp.station import Station

__all__ = ["CAPABILITY_KEYS", "configure_station", "install_base_profiles"]

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
    "SendLocalListMaxLength",
    "AuthorizationKey",
    "SecurityProfile",
    "WebSocketPingInterval",
    "ConnectorSwitch3to1PhaseSupported",
)
# What the EMS needs to see, most important first. ``Current.Offered`` is the limit in
# force read back (docs/ems-loop.md, "Read-back"). If the whole list is refused, each is
# tried in turn and kept if accepted, within ``MeterValuesSampledDataMaxLength``.
MEASURANDS = ("Energy.Active.Import.Register", "Power.Active.Import", "Current.Import",
              "Current.Offered", "Voltage", "SoC")


_TAKEN = ("Accepted", "RebootRequired")


async def _change(station: Station, key: str, value: str) -> str:
    try:
        resp = await station.request(call.ChangeConfiguration(key=key, value=value))
    except Exception as exc:  # timeout or CALLERROR: recorded, the boot goes on
        log.warning("%s: ChangeConfiguration %s failed: %s", station.id, key, exc)
        return "Failed"
    return str(resp.status)


async def _measurands(station: Station, max_length: Any) -> list[str]:
    """Ask for :data:`MEASURANDS` (as many as the charge point's list may hold): all at
    once, else one by one, keeping each it accepts (firmware refuses a whole list for
    one measurand it does not know). Returns the list in force ([] if none was taken)."""
    try:
        room = max(1, int(str(max_length).strip()))
    except (TypeError, ValueError):
        room = len(MEASURANDS)
    wanted = list(MEASURANDS[:room])
    if await _change(station, "MeterValuesSampledData", ",".join(wanted)) in _TAKEN:
        return wanted
    kept: list[str] = []
    for measurand in MEASURANDS:
        if len(kept) == room:
            break
        if await _change(station, "MeterValuesSampledData",
                         ",".join([*kept, measurand])) in _TAKEN:
            kept.append(measurand)
    if not kept:
        log.warning("%s: no MeterValuesSampledData accepted: the EMS sees no current "
                    "from it", station.id)
    elif "Current.Offered" not in kept:
        log.info("%s: does not report Current.Offered: no read-back of its limit",
                 station.id)
    return kept


async def _set_profile(station: Station, connector_id: int, profile: dict[str, Any]) -> str:
    try:
        resp = await station.request(call.SetChargingProfile(
            connector_id=connector_id, cs_charging_profiles=profile))
    except Exception as exc:
        log.warning("%s: SetChargingProfile %s failed: %s", station.id,
                    profile["chargingProfilePurpose"], exc)
        return "Failed"
    return str(resp.status)


async def install_base_profiles(station: Station, cp: ChargePointConfig) -> dict[str, Any]:
    """The circuit rating and each connector's fallback, before the charge point is
    accepted (a blackout may have wiped them); returns what the charge point answered."""
    out: dict[str, Any] = {"layout": station.layout.dynamic_purpose,
                           "dynamic_stack": station.layout.dynamic_stack}
    if station.layout.charge_point_max:
        out["charge_point_max"] = await _set_profile(station, 0, charge_point_max(cp))
    unit = "W" if cp.dc or cp.control == "W" else "A"
    for n in range(1, cp.connectors + 1):
        limit, unit_n, steps = station.ctx.fallbacks.get(f"{cp.id}/{n}", (0.0, unit, ()))
        status = await _set_profile(station, n, fallback(n, limit, unit_n, steps))
        out[f"fallback_{n}"] = status
        if status != "Accepted":
            log.error("%s/%d: fallback profile %s: if the hub goes silent this connector "
                      "is limited only by its circuit rating", cp.id, n, status)
    station.base_profiles_ok = all(out[f"fallback_{n}"] == "Accepted"
                                   for n in range(1, cp.connectors + 1))
    return out


async def configure_station(station: Station,
                            paced: contextlib.AbstractAsyncContextManager[Any] | None = None
                            ) -> None:
    """Read the capabilities and install the profile layout at once, then (within
    ``paced``: a few charge points at a time in a boot storm) the configuration."""
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
    # Profiles first: after a blackout the charge point may have lost them and be
    # drawing unconstrained already; the configuration chatter can wait.
    cp = station.ctx.charge_points.get(station.id)
    learned = station.ctx.learned_quirks.get(station.identity, set())
    if cp is not None and learned - set(cp.quirks):
        known: set[str] = set(cp.quirks) | learned
        cp = dataclasses.replace(cp, quirks=tuple(sorted(known)))  # type: ignore[arg-type]
    station.layout = layout_for(cp, caps)
    if cp is not None and station.ctx.managed:
        caps["profiles"] = await install_base_profiles(station, cp)
    elif cp is None:
        log.warning("%s: not in the site tree: its draw is not managed", station.id)
    async with paced or contextlib.nullcontext():
        await _settings(station, caps, configuration)


async def _settings(station: Station, caps: dict[str, Any],
                    configuration: dict[str, Any]) -> None:
    """The intervals and measurands, then what was learnt, stored."""
    cfg = station.ctx.config
    applied: dict[str, str] = {}
    applied["HeartbeatInterval"] = await _change(station, "HeartbeatInterval",
                                                 str(cfg.heartbeat_interval_s))
    applied["MeterValueSampleInterval"] = await _change(
        station, "MeterValueSampleInterval", str(cfg.meter_value_sample_interval_s))
    measurands = await _measurands(station, caps.get("MeterValuesSampledDataMaxLength"))
    if measurands:
        caps["MeterValuesSampledData"] = ",".join(measurands)
    caps["applied"] = applied
    station.capabilities = caps
    station.configuration = configuration
    await station.ctx.store.core.write(repo.store_configuration(station.id, configuration, caps))
    log.info("%s: configured (%s)", station.id, ", ".join(f"{k}={v}" for k, v in applied.items()))
