"""Field devices: meters read over Modbus from YAML templates (more with the devices issue).

The only package that imports ``pymodbus`` in the engine (in :mod:`.modbus`); the EMS sees
a meter through :class:`hub_engine.ems.interfaces.MeterSource`.
"""

from hub_engine.devices.meters import build_meters
from hub_engine.devices.template import Template, load_template

__all__ = ["Template", "build_meters", "load_template"]
