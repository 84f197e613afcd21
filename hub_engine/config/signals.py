"""Configuration of the grid signals the EMS obeys (``signals:``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["EcoWattConfig", "EcoWattLevel", "OffPeakConfig", "SignalName", "SignalsConfig",
           "SiteSignals", "TempoConfig", "TempoRule", "ZniConfig"]

SignalName = Literal["zni", "tempo", "ecowatt", "offpeak"]


@dataclass(frozen=True)
class ZniConfig:
    """EDF-SEI's « signal réseau pour la recharge » of the non-interconnected zones (Corse,
    overseas): 1 favourable, 0 unfavourable (each charge point at half power at most,
    Advenir ZNI), in 10-minute slots published a day ahead on an Opendatasoft portal."""

    host: str = "https://opendata.edf.fr"
    dataset: str = "signal-reseau-corse-recharge-vehicule-electrique"
    api_key: str | None = None  # better: api_key_file (a file only the hub reads)
    api_key_file: str | None = None
    poll_s: float = 900.0
    # Unfavourable: each connector limited to this share of its rated current.
    unfavourable_share: float = 0.5
    # Unfavourable: each site's grid connection too, at this share of its rating (fewer
    # sessions at once, the others deferred); None: the connectors' share only.
    unfavourable_site_share: float | None = None
    # No slot known for now (portal down past the day ahead): assume this.
    unknown: Literal["unfavourable", "favourable"] = "unfavourable"
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if not self.host.startswith(("https://", "http://")):
            raise FieldError("host", Text("got {value!r}, expected an http(s):// URL",
                                          value=self.host))
        if not 0 < self.unfavourable_share <= 1:
            raise FieldError("unfavourable_share", Text("expected more than 0, at most 1"))
        if self.unfavourable_site_share is not None and not 0 < self.unfavourable_site_share <= 1:
            raise FieldError("unfavourable_site_share",
                             Text("expected more than 0, at most 1"))
        for name in ("poll_s", "timeout_s"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))




@dataclass(frozen=True)
class TempoRule:
    """What a colour does to the site: its grid connection limited to ``limit_a`` between
    ``start`` and ``end`` (local; the tariff day runs 06:00 to 06:00). ``limit_a: 0``
    defers charging out of the window."""

    limit_a: float
    start: str = "06:00"
    end: str = "22:00"

    def __post_init__(self) -> None:
        if self.limit_a < 0:
            raise FieldError("limit_a", Text("must be ≥ 0"))
        for name in ("start", "end"):
            value = getattr(self, name)
            parts = value.split(":")
            if len(parts) != 2 or not all(p.isdigit() for p in parts) or not (
                    0 <= int(parts[0]) <= 23 and 0 <= int(parts[1]) <= 59):
                raise FieldError(name, Text("got {value!r}, expected HH:MM", value=value))


@dataclass(frozen=True)
class TempoConfig:
    """RTE's Tempo day colours: from RTE's API (OAuth2 client credentials) or the free
    mirror api-couleur-tempo.fr; a rule per colour."""

    source: Literal["rte", "mirror"] = "mirror"
    rte_host: str = "https://digital.iservices.rte-france.com"
    mirror_host: str = "https://www.api-couleur-tempo.fr"
    client_id: str | None = None
    client_secret: str | None = None  # better: client_secret_file
    client_secret_file: str | None = None
    red: TempoRule | None = None
    white: TempoRule | None = None
    blue: TempoRule | None = None
    poll_s: float = 1800.0
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if self.source == "rte" and not (self.client_id and (
                self.client_secret or self.client_secret_file)):
            raise FieldError("client_id", Text("source rte needs client_id and client_secret "
                                               "(or client_secret_file)"))
        for name in ("poll_s", "timeout_s"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))


@dataclass(frozen=True)
class EcoWattLevel:
    limit_a: float

    def __post_init__(self) -> None:
        if self.limit_a < 0:
            raise FieldError("limit_a", Text("must be ≥ 0"))


@dataclass(frozen=True)
class EcoWattConfig:
    """RTE's EcoWatt v5 (hourly: 0 low carbon, 1 normal, 2 risk of cuts, 3 cuts planned),
    an application's OAuth2 credentials; a limit on each site's grid connection for the
    hours at level 2 or 3."""

    client_id: str
    client_secret: str | None = None
    client_secret_file: str | None = None
    rte_host: str = "https://digital.iservices.rte-france.com"
    level2: EcoWattLevel | None = None
    level3: EcoWattLevel | None = None
    poll_s: float = 3600.0  # RTE answers 429 below 15 minutes
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if not (self.client_secret or self.client_secret_file):
            raise FieldError("client_secret", Text("give client_secret or client_secret_file"))
        if self.poll_s < 900:
            raise FieldError("poll_s", Text("got {value!r}, expected at least 900 (RTE's rate "
                                            "limit)", value=self.poll_s))


@dataclass(frozen=True)
class OffPeakConfig:
    """Peak and off-peak hours (HP/HC) as the supply contract has them, never hard-coded
    (Enedis moves some off-peak hours to midday): outside the off-peak ``windows`` each
    site's grid connection is held at ``peak_limit_a``."""

    windows: str  # "Mon-Sun 22:00-06:00 | Sat,Sun 00:00-24:00" (or "lun-dim 22h-6h")
    peak_limit_a: float

    def __post_init__(self) -> None:
        from hub_engine.access.csvio import parse_windows

        try:
            if not parse_windows(self.windows):
                raise ValueError(Text("expected at least one window"))
        except ValueError as exc:
            raise FieldError("windows", exc.args[0] if exc.args else str(exc)) from None
        if self.peak_limit_a < 0:
            raise FieldError("peak_limit_a", Text("must be ≥ 0"))


@dataclass(frozen=True)
class SignalsConfig:
    zni: ZniConfig | None = None
    tempo: TempoConfig | None = None
    ecowatt: EcoWattConfig | None = None
    offpeak: OffPeakConfig | None = None


@dataclass(frozen=True)
class SiteSignals:
    """A site's own answer to the hub-wide signals (``sites[].signals``): the ones it
    follows (None: every one configured), and its own limit in A on its grid connection
    where the hub-wide rule's does not fit it (a 63 A car park beside a 400 A building).
    The hours stay the hub-wide rules' (a Tempo colour's window, the off-peak hours)."""

    follow: tuple[SignalName, ...] | None = None
    tempo_red_a: float | None = None
    tempo_white_a: float | None = None
    tempo_blue_a: float | None = None
    ecowatt_level2_a: float | None = None
    ecowatt_level3_a: float | None = None
    peak_limit_a: float | None = None

    def __post_init__(self) -> None:
        for name in ("tempo_red_a", "tempo_white_a", "tempo_blue_a", "ecowatt_level2_a",
                     "ecowatt_level3_a", "peak_limit_a"):
            value = getattr(self, name)
            if value is not None and value < 0:
                raise FieldError(name, Text("must be ≥ 0"))

    def follows(self, name: SignalName) -> bool:
        return self.follow is None or name in self.follow
