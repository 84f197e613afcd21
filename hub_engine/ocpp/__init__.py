"""The OCPP 1.6J central system."""

from hub_engine.ocpp.server import OcppServer, charge_point_id
from hub_engine.ocpp.station import OcppContext, Station

__all__ = ["OcppContext", "OcppServer", "Station", "charge_point_id"]
