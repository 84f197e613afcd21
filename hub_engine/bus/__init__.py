"""The ZeroMQ bus between the engine and Node-RED (DESIGN.md "The bus")."""

from hub_engine.bus.envelope import VERSION, BusError, Envelope, envelope
from hub_engine.bus.server import BusServer

__all__ = ["VERSION", "BusError", "BusServer", "Envelope", "envelope"]
