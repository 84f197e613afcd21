"""Field devices: meters, inverters, batteries, generators, dry contacts, the Linky TIC.

The only package that imports ``pymodbus`` in the engine (in :mod:`.modbus`) and
``serial`` (in :mod:`.tic_reader`); the EMS sees a meter through
:class:`hub_engine.ems.interfaces.MeterSource` and the rest through
:class:`~hub_engine.devices.site.SiteDevices` (hard inputs, limits, contactors).
"""

from hub_engine.devices.build import build_devices
from hub_engine.devices.site import SiteDevices
from hub_engine.devices.template import Template, load_template

__all__ = ["SiteDevices", "Template", "build_devices", "load_template"]
