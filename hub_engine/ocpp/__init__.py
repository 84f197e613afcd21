"""The OCPP 1.6J central system."""

from hub_engine.ocpp.commands import COMMANDS, CommandResult, CommandService
from hub_engine.ocpp.server import OcppServer, charge_point_id
from hub_engine.ocpp.station import OcppContext, Station

__all__ = [
    "COMMANDS",
    "CommandResult",
    "CommandService",
    "OcppContext",
    "OcppServer",
    "Station",
    "charge_point_id",
]
