"""Scheduled reports: every Monday the week before, every 1st the month before, by e-mail
to ``reports.to`` with the period's Excel workbook attached, at ``reports.time`` (local)."""

from __future__ import annotations

import asyncio
import logging
from datetime import date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from hub_engine.clock import Clock
from hub_engine.config import HubConfig
from hub_engine.history.aggregate import Query, energy_by
from hub_engine.history.excel import workbook
from hub_engine.i18n import Text, say
from hub_engine.ops.mail import Attachment, Mail, MailQueue
from hub_engine.store import Store
from hub_engine.tasks import cancel_and_wait

__all__ = ["ReportService", "next_report_at", "report_period"]

log = logging.getLogger(__name__)
Kind = Literal["week", "month"]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def report_period(kind: Kind, today: date, tz: ZoneInfo) -> tuple[datetime, datetime]:
    """The whole local week (Monday to Monday) or month before ``today``."""
    if kind == "week":
        end = today - timedelta(days=today.weekday())
        start = end - timedelta(days=7)
    else:
        end = today.replace(day=1)
        start = (end - timedelta(days=1)).replace(day=1)
    return datetime.combine(start, time(), tz), datetime.combine(end, time(), tz)


def next_report_at(now: datetime, config: HubConfig) -> tuple[datetime, list[Kind]] | None:
    """When the next report leaves, and which (a Monday the 1st sends both)."""
    cfg = config.reports
    if not cfg.to or not (cfg.weekly or cfg.monthly):
        return None
    tz = ZoneInfo(config.hub.timezone)
    hour, minute = (int(x) for x in cfg.time.split(":"))
    day = now.astimezone(tz).date()
    for _ in range(40):
        kinds: list[Kind] = []
        if cfg.weekly and day.weekday() == 0:
            kinds.append("week")
        if cfg.monthly and day.day == 1:
            kinds.append("month")
        at = datetime.combine(day, time(hour, minute), tz)
        if kinds and at > now:
            return at, kinds
        day += timedelta(days=1)
    return None


class ReportService:
    name = "reports"

    def __init__(self, config: HubConfig, store: Store, clock: Clock, mail: MailQueue) -> None:
        self.config, self.store, self.clock, self.mail = config, store, clock, mail
        self.next_at: datetime | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if next_report_at(self.clock.now(), self.config) is not None:
            self._task = asyncio.create_task(self._run(), name="reports")

    async def stop(self) -> None:
        await cancel_and_wait(self._task)

    async def _run(self) -> None:
        await self.catch_up()
        while (due := next_report_at(self.clock.now(), self.config)) is not None:
            self.next_at, kinds = due
            await self.clock.sleep((self.next_at - self.clock.now()).total_seconds())
            for kind in kinds:
                await self._scheduled(kind)

    async def _scheduled(self, kind: Kind) -> None:
        try:
            totals = await self.send(kind, list(self.config.reports.to))
            await self._mark(kind, totals["since"])
        except Exception:
            log.exception("the %s report could not be made", kind)

    def _due(self) -> list[tuple[Kind, str]]:
        """The last whole week and month, and whether their report's time has come."""
        cfg, tz = self.config.reports, ZoneInfo(self.config.hub.timezone)
        now = self.clock.now().astimezone(tz)
        hour, minute = (int(x) for x in cfg.time.split(":"))
        out: list[tuple[Kind, str]] = []
        for kind, on in (("week", cfg.weekly), ("month", cfg.monthly)):
            since, until = report_period(kind, now.date(), tz)  # type: ignore[arg-type]
            if on and now >= until.replace(hour=hour, minute=minute):
                out.append((kind, since.date().isoformat()))  # type: ignore[arg-type]
        return out

    async def catch_up(self) -> None:
        """A report whose time came while the hub was off goes now (once). On a first
        start, nothing is owed: the periods before it are recorded as done."""
        sent = dict(self.store.rows("SELECT key, value FROM settings WHERE key LIKE 'report.%'"))
        for kind, since in self._due():
            last = sent.get(f"report.{kind}")
            if last is None:
                await self._mark(kind, since)
            elif last < since:
                log.warning("the %s report of %s was due while the hub was off: sent now",
                            kind, since)
                await self._scheduled(kind)

    async def _mark(self, kind: str, since: str) -> None:
        await self.store.core.write(lambda db: db.execute(
            "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE"
            " SET value = excluded.value", [f"report.{kind}", since]))

    async def send(self, kind: Kind, to: list[str]) -> dict[str, Any]:
        """Make the report of the period before now and queue it; what it holds."""
        tz = ZoneInfo(self.config.hub.timezone)
        since, until = report_period(kind, self.clock.now().astimezone(tz).date(), tz)
        mail, totals = await asyncio.to_thread(self._make, kind, since, until, to)
        if not self.mail.put(mail):
            raise RuntimeError("no mail server or recipient")
        log.info("%s report queued for %s: %s", kind, ", ".join(to), totals)
        return totals

    def _make(self, kind: Kind, since: datetime, until: datetime, to: list[str]
              ) -> tuple[Mail, dict[str, Any]]:
        lang = self.config.hub.language
        readers: dict[str, Any] = {}

        def rows(sql: str, params: Any = (), db: str = "core") -> list[Any]:
            if db not in readers:
                readers[db] = self.store.reader(db)
            return list(readers[db].execute(sql, list(params)).fetchall())
        try:
            by_cp = energy_by(rows, self.config, Query(since, until, "all", "charge_point"))
            book = workbook(rows, self.config, Query(since, until, "day", "charge_point"), lang)
        finally:
            for reader in readers.values():
                reader.conn.close()
        sessions = sum(e["sessions"] for e in by_cp)
        energy_wh = sum(e["energy_wh"] for e in by_cp)
        top = sorted(by_cp, key=lambda e: -e["energy_wh"])[:5]
        site = self.config.sites[0].name or self.config.sites[0].id
        label = f"{since.date().isoformat()} – {(until - timedelta(days=1)).date().isoformat()}"
        name = Text("weekly") if kind == "week" else Text("monthly")
        subject = Text("[{site}] {kind} report {period}", site=site, kind=name, period=label)
        lines = [say(Text("{sessions} sessions, {kwh} kWh charged ({period}).",
                          sessions=sessions, kwh=f"{energy_wh / 1000:.1f}", period=label), lang),
                 "", say(Text("Most used charge points:"), lang)]
        lines += [f"- {e['key']}: {e['energy_wh'] / 1000:.1f} kWh, {e['sessions']}" for e in top]
        lines += ["", say(Text("The attached workbook has every session and the energy per "
                               "day."), lang)]
        filename = f"report-{site}-{since.date().isoformat()}-{kind}.xlsx".replace(" ", "_")
        mail = Mail(tuple(to), say(subject, lang), "\n".join(lines) + "\n",
                    (Attachment(filename, book, XLSX),))
        return mail, {"period": label, "sessions": sessions, "energy_wh": energy_wh,
                      "file": filename, "since": since.date().isoformat()}
