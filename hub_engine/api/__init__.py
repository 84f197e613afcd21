"""The REST API (Flask through APIFlask, OpenAPI generated from the code) and accounts.

Served by :class:`~hub_engine.api.server.ApiServer` in the engine process; views reach the
engine's loop only through :class:`~hub_engine.api.context.ApiContext`. Commands go
through the one command layer shared with the bus.
"""

from hub_engine.api.accounts import Accounts, Principal
from hub_engine.api.server import ApiServer

__all__ = ["Accounts", "ApiServer", "Principal"]
