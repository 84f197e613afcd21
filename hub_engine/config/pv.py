"""A site's solar panels (``sites[].pv``): where they are, their arrays, and the weather
forecast that tells what they will produce."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["HOSTS", "PvArray", "PvConfig", "PvForecastConfig"]


@dataclass(frozen=True)
class PvArray:
    """One orientation of panels. ``azimuth_deg`` is a compass bearing: 180 south, 90
    east, 270 west (pvlib's convention; Open-Meteo's own 0-south one is never asked)."""

    id: str
    kwp: float  # peak DC power (STC)
    tilt_deg: float = 30.0  # 0 flat … 90 vertical
    azimuth_deg: float = 180.0
    losses_pct: float = 14.0  # wiring, soiling, mismatch, inverter (PVWatts's default)
    ac_kw: float | None = None  # the inverter's AC maximum (clipping); None: no clipping
    temp_coeff_pct: float = -0.4  # power per °C of cell temperature above 25 °C

    def __post_init__(self) -> None:
        if not self.id:
            raise FieldError("id", Text("expected a non-empty id"))
        if self.kwp <= 0:
            raise FieldError("kwp", Text("must be > 0"))
        if not 0 <= self.tilt_deg <= 90:
            raise FieldError("tilt_deg", Text("got {value!r}, expected 0 to 90°",
                                              value=self.tilt_deg))
        if not 0 <= self.azimuth_deg < 360:
            raise FieldError("azimuth_deg", Text(
                "got {value!r}, expected a compass bearing 0 to 360° (180 = south)",
                value=self.azimuth_deg))
        if not 0 <= self.losses_pct < 100:
            raise FieldError("losses_pct", Text("got {value!r}, expected 0 to 100 %",
                                                value=self.losses_pct))
        if self.ac_kw is not None and self.ac_kw <= 0:
            raise FieldError("ac_kw", Text("must be > 0"))


HOSTS = {"open-meteo": "https://api.open-meteo.com", "forecast.solar": "https://api.forecast.solar"}


@dataclass(frozen=True)
class PvForecastConfig:
    provider: Literal["open-meteo", "forecast.solar"] = "open-meteo"
    host: str | None = None  # None: the provider's own
    poll_s: float = 900.0  # Open-Meteo's 15-minute data changes about hourly
    timeout_s: float = 20.0
    # How long a fetched forecast is used when no newer one comes (then: unknown).
    valid_s: float = 36 * 3600.0
    # forecast.solar's paid plans (in the URL's path, as its API wants; never logged).
    api_key: str | None = None
    api_key_file: str | None = None

    @property
    def url(self) -> str:
        return (self.host or HOSTS[self.provider]).rstrip("/")

    def __post_init__(self) -> None:
        if not self.url.startswith(("https://", "http://")):
            raise FieldError("host", Text("got {value!r}, expected an http(s):// URL",
                                          value=self.host))
        for name in ("poll_s", "timeout_s", "valid_s"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))
        if self.poll_s < 60:
            raise FieldError("poll_s", Text(
                "{value:g} s: at least 60 s (Open-Meteo's free terms: under 600 calls a "
                "minute, 10,000 a day)", value=self.poll_s))


@dataclass(frozen=True)
class PvConfig:
    latitude: float
    longitude: float
    arrays: tuple[PvArray, ...] = ()
    forecast: PvForecastConfig | None = None

    def __post_init__(self) -> None:
        if not -90 <= self.latitude <= 90:
            raise FieldError("latitude", Text("got {value!r}, expected -90 to 90°",
                                              value=self.latitude))
        if not -180 <= self.longitude <= 180:
            raise FieldError("longitude", Text("got {value!r}, expected -180 to 180°",
                                               value=self.longitude))
        if not self.arrays:
            raise FieldError("arrays", Text("expected at least one array"))
        ids = [a.id for a in self.arrays]
        if len(set(ids)) != len(ids):
            raise FieldError("arrays", Text("array ids must be unique"))
        f = self.forecast
        if (f is not None and f.provider == "forecast.solar" and f.api_key is None
                and f.api_key_file is None and f.poll_s < 300 * len(self.arrays)):
            # One call per array; the public plan allows 12 calls an hour per address.
            raise FieldError("forecast.poll_s", Text(
                "{value:g} s: forecast.solar's public plan allows 12 calls an hour, one per "
                "array: at least {least} s for {n} arrays", value=f.poll_s,
                least=300 * len(self.arrays), n=len(self.arrays)))
