"""Charge hub engine: OCPP 1.6J central system and local energy manager for EV-charging sites."""

__all__ = ["__version__"]

__version__ = "0.1.0"
