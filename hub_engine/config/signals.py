"""Configuration of the grid signals the EMS obeys (``signals:``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub_engine.i18n import Text
from hub_engine.typed import FieldError

__all__ = ["SignalsConfig", "ZniConfig"]


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
    # No slot known for now (portal down past the day ahead): assume this.
    unknown: Literal["unfavourable", "favourable"] = "unfavourable"
    timeout_s: float = 20.0

    def __post_init__(self) -> None:
        if not self.host.startswith(("https://", "http://")):
            raise FieldError("host", Text("got {value!r}, expected an http(s):// URL",
                                          value=self.host))
        if not 0 < self.unfavourable_share <= 1:
            raise FieldError("unfavourable_share", Text("expected more than 0, at most 1"))
        for name in ("poll_s", "timeout_s"):
            if getattr(self, name) <= 0:
                raise FieldError(name, Text("must be > 0"))


@dataclass(frozen=True)
class SignalsConfig:
    zni: ZniConfig | None = None
