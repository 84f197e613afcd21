"""History: energy and sessions aggregated per period, Excel exports, scheduled reports."""

from hub_engine.history.aggregate import BY, PERIODS, Query, energy_by, site_energy

__all__ = ["BY", "PERIODS", "Query", "energy_by", "site_energy"]
