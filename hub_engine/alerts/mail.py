"""Alerts by e-mail: one message when an alert is raised and, if asked, when it clears,
in ``hub.language``, to ``alerts.email_to``."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from hub_engine.clock import parse_iso
from hub_engine.config import HubConfig
from hub_engine.i18n import Text, say
from hub_engine.ops.mail import Mail, MailQueue

__all__ = ["AlertMail"]

_WORDS = {"warning": Text("warning"), "critical": Text("critical"), "raised": Text("raised"),
          "cleared": Text("cleared")}


class AlertMail:
    """An alert listener that queues the e-mails."""

    def __init__(self, config: HubConfig, queue: MailQueue) -> None:
        self.config, self.queue = config, queue

    def __call__(self, what: str, alert: dict[str, Any]) -> None:
        cfg = self.config.alerts
        if what == "acked" or (what == "cleared" and not cfg.email_on_clear):
            return
        self.queue.put(self.mail(what, alert))

    def mail(self, what: str, alert: dict[str, Any]) -> Mail:
        lang = self.config.hub.language
        when = parse_iso(alert["cleared_at"] if what == "cleared" else alert["raised_at"])
        local = when.astimezone(ZoneInfo(self.config.hub.timezone)) if when else None
        site = self.config.sites[0].name or self.config.sites[0].id
        head = (Text("[{site}] cleared: {message}", site=site, message=alert["message"])
                if what == "cleared" else
                Text("[{site}] {severity}: {message}", site=site, message=alert["message"],
                     severity=_WORDS[alert["severity"]]))
        body = Text("{message}\n\nAlert {id} ({kind}) on {target}, {what} at {time}.\n"
                    "Acknowledge it on the hub's Alerts page.\n",
                    message=alert["message"], id=alert["id"], kind=alert["kind"],
                    target=alert["target"], what=_WORDS[what],
                    time=local.strftime("%Y-%m-%d %H:%M %Z") if local else "-")
        return Mail(tuple(self.config.alerts.email_to), say(head, lang), say(body, lang))
