"""The hub as an OCPP 1.6J proxy towards a CPO backend (docs/cpo.md)."""

from hub_engine.ocpp.cpo.commands import CpoCommands
from hub_engine.ocpp.cpo.relay import CpoRelay

__all__ = ["CpoCommands", "CpoRelay"]
