"""The power of a site's arrays from a forecast sky, with pvlib: the sun's position at the
middle of each 15-minute slot, the irradiance on each array's plane (isotropic sky,
albedo 0.25), the cells' temperature (Faiman), PVWatts DC power with the array's
temperature coefficient, its losses, clipped at its inverter's AC maximum.

pvlib (and pandas under it) is imported here only, so a site without a forecast never
loads it.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from datetime import datetime

from hub_engine.config.pv import PvConfig
from hub_engine.signals.openmeteo import STEP, Sky

__all__ = ["PvSlot", "pv_power"]

# pvlib 0.16 still calls an index attribute pandas 3 deprecates: its own business.
warnings.filterwarnings("ignore", message="DatetimeIndex.dayofyear is deprecated")


@dataclass(frozen=True)
class PvSlot:
    """Expected mean AC power over the 15 minutes ending at ``end`` (UTC)."""

    end: datetime
    power_w: float
    by_array_w: dict[str, float]


def pv_power(pv: PvConfig, sky: list[Sky]) -> list[PvSlot]:
    if not sky:
        return []
    import numpy as np
    import pandas as pd
    import pvlib

    mid = pd.DatetimeIndex([s.end - STEP / 2 for s in sky])
    sun = pvlib.solarposition.get_solarposition(mid, pv.latitude, pv.longitude)
    ghi = np.array([s.ghi_w_m2 for s in sky])
    dni = np.array([s.dni_w_m2 for s in sky])
    dhi = np.array([s.dhi_w_m2 for s in sky])
    temp = np.array([s.temp_air_c for s in sky])
    up = sun["apparent_elevation"].to_numpy() > 0
    per_array: dict[str, np.ndarray] = {}
    for array in pv.arrays:
        poa = pvlib.irradiance.get_total_irradiance(
            array.tilt_deg, array.azimuth_deg, sun["apparent_zenith"].to_numpy(),
            sun["azimuth"].to_numpy(), dni, ghi, dhi)["poa_global"]
        poa = np.nan_to_num(np.asarray(poa, dtype=float), nan=0.0).clip(min=0.0)
        cell = pvlib.temperature.faiman(poa, temp)
        dc = pvlib.pvsystem.pvwatts_dc(poa, cell, array.kwp * 1000,
                                       array.temp_coeff_pct / 100)
        ac = np.asarray(dc, dtype=float) * (1 - array.losses_pct / 100)
        if array.ac_kw is not None:
            ac = ac.clip(max=array.ac_kw * 1000)
        per_array[array.id] = np.where(up, ac.clip(min=0.0), 0.0)
    return [PvSlot(s.end, round(float(sum(a[k] for a in per_array.values())), 1),
                   {name: round(float(a[k]), 1) for name, a in per_array.items()})
            for k, s in enumerate(sky)]
