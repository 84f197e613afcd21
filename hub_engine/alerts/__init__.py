"""Alerts: conditions checked on the live state, raised once, cleared, acknowledged."""

from hub_engine.alerts.kinds import KINDS, describe
from hub_engine.alerts.mail import AlertMail
from hub_engine.alerts.service import AlertService, as_dict

__all__ = ["KINDS", "AlertMail", "AlertService", "as_dict", "describe"]
