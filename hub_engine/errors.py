"""The engine's one exception tree.

Every error the engine raises on purpose derives from :class:`HubError`, so a caller can
tell "the hub refused" from "the hub is broken". A failed read is always an exception,
never a zero: the EMS treats a missing value as unknown and falls back to its safe case.

::

    HubError
    ├── ConfigError            bad configuration; carries the key path
    ├── StoreError             the durable store could not do what was asked
    │   └── StoreClosedError   written to after stop()
    ├── DeviceError            a meter, inverter or input could not be used
    │   └── ReadError          one read failed or timed out (never means 0)
    ├── ChargePointError       a charge point did not do what was asked
    │   ├── OfflineError       not connected
    │   ├── CallTimeoutError   no answer within the call's timeout
    │   └── RejectedError      answered Rejected / NotSupported
    └── CommandError           a command was refused (schema, permission, state)
"""

from __future__ import annotations

from hub_engine.i18n import Text

__all__ = [
    "CallTimeoutError",
    "ChargePointError",
    "CommandError",
    "ConfigError",
    "DeviceError",
    "HubError",
    "OfflineError",
    "ReadError",
    "RejectedError",
    "StoreClosedError",
    "StoreError",
]


class HubError(Exception):
    """Base of every error the engine raises on purpose."""


class ConfigError(HubError):
    """A configuration value is invalid; ``path`` names the key (``sites[0].nodes[1].id``)."""

    def __init__(self, path: str, message: str, source: str | None = None) -> None:
        self.path = path or "<root>"
        self.message = message
        self.source = source
        prefix = f"{source}: " if source and source != path else ""
        super().__init__(Text("{prefix}{path}: {message}", prefix=prefix, path=self.path,
                              message=message))


class StoreError(HubError):
    """The durable store could not perform a request."""


class StoreClosedError(StoreError):
    """A write was submitted after the store was stopped."""


class DeviceError(HubError):
    """A device could not be used."""


class ReadError(DeviceError):
    """A read failed or timed out. Callers must treat the value as unknown, not 0."""


class ChargePointError(HubError):
    """A charge point did not do what was asked."""


class OfflineError(ChargePointError):
    """The charge point is not connected."""


class CallTimeoutError(ChargePointError):
    """The charge point did not answer within the call's timeout."""


class RejectedError(ChargePointError):
    """The charge point answered Rejected or NotSupported."""


class CommandError(HubError):
    """A command was refused before reaching any device (schema, permission, state)."""
