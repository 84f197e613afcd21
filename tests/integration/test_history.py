"""History: energy per local period and per key, the site's charging from the connectors'
registers (exact across downsampling), the Excel export, reports sent through a real SMTP
server with the workbook attached."""

from __future__ import annotations

import asyncio
import io
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import requests

from hub_engine.clock import iso_utc
from hub_engine.config import parse_config
from hub_engine.history import Query, energy_by, site_energy
from hub_engine.history.reports import next_report_at, report_period
from hub_engine.store.retention import downsample_samples
from hub_engine.store.samples import Sample, samples
from tests.integration.api_fixtures import Hub, site
from tests.integration.smtp_fixtures import smtp_server

PARIS = ZoneInfo("Europe/Paris")


def _local(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, m, d, h, mi, tzinfo=PARIS)


# (charge point, badge, local start, hours, energy Wh)
SESSIONS = [
    ("CP1", "AAA1", _local(2026, 10, 24, 23, 30), 2, 10_000),  # Saturday night
    ("CP1", "AAA1", _local(2026, 10, 25, 0, 30), 1, 4_000),  # the night clocks go back
    ("CP2", "BBB1", _local(2026, 10, 25, 2, 30), 1, 3_000),  # 02:30 the second time
    ("CP2", "CCC1", _local(2026, 10, 31, 23, 59), 1, 1_000),  # last minute of October
    ("CP1", "BBB1", _local(2026, 11, 2, 8, 0), 3, 20_000),  # Monday
]


def _fill(hub: Hub) -> None:
    def job(db: Any) -> None:
        for name, grp, tag in (("alice", "staff", "AAA1"), ("bob", "visitors", "BBB1")):
            cur = db.execute("INSERT INTO members (name, grp, created_at) VALUES (?, ?, ?)",
                             [name, grp, "2026-01-01T00:00:00.000Z"])
            db.execute("INSERT INTO badges (id_tag, member_id) VALUES (?, ?)",
                       [tag, cur.lastrowid])
        for cp, tag, start, hours, wh in SESSIONS:
            db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                       " meter_start_wh, started_at, meter_stop_wh, stopped_at, energy_wh)"
                       " VALUES (?, 1, ?, 0, ?, ?, ?, ?)",
                       [cp, tag, iso_utc(start), wh, iso_utc(start + timedelta(hours=hours)),
                        wh])
    hub.app.store.core.submit(job).result(30)


def test_energy_per_local_period_and_key(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    try:
        _fill(hub)
        rows, config = hub.app.store.rows, hub.config
        since, until = _local(2026, 10, 1), _local(2026, 12, 1)

        def table(period: str, by: str) -> list[tuple[str, str, int, int]]:
            return [(e["period"], e["key"], e["sessions"], e["energy_wh"])
                    for e in energy_by(rows, config, Query(since, until, period, by))]
        # Local days: 23:30 on the 24th stays on the 24th; the DST night's sessions on the
        # 25th; 23:59 on the 31st is October, though it is November in UTC.
        assert table("day", "site") == [("2026-10-24", "s1", 1, 10_000),
                                        ("2026-10-25", "s1", 2, 7_000),
                                        ("2026-10-31", "s1", 1, 1_000),
                                        ("2026-11-02", "s1", 1, 20_000)]
        assert table("month", "charge_point") == [("2026-10-01", "CP1", 2, 14_000),
                                                  ("2026-10-01", "CP2", 2, 4_000),
                                                  ("2026-11-01", "CP1", 1, 20_000)]
        assert table("week", "board") == [("2026-10-19", "parking", 3, 17_000),
                                          ("2026-10-26", "parking", 1, 1_000),
                                          ("2026-11-02", "parking", 1, 20_000)]
        assert table("all", "member") == [("all", "", 1, 1_000), ("all", "alice", 2, 14_000),
                                          ("all", "bob", 2, 23_000)]
        assert table("year", "group") == [("2026-01-01", "", 1, 1_000),
                                          ("2026-01-01", "staff", 2, 14_000),
                                          ("2026-01-01", "visitors", 2, 23_000)]
        assert table("all", "badge")[0] == ("all", "AAA1", 2, 14_000)
        # The API: the same, and its refusals.
        got = hub.get("/history/energy", params={"period": "month", "by": "member",
                                                 "since": since.isoformat(),
                                                 "until": until.isoformat()}).json()
        assert {(e["period"], e["key"]) for e in got} == {
            ("2026-10-01", ""), ("2026-10-01", "alice"), ("2026-10-01", "bob"),
            ("2026-11-01", "bob")}
        assert hub.get("/history/energy", params={"by": "planet"}).status_code == 422
        # A range of centuries is cut to what can hold data; too many periods is refused.
        wide = {"since": "0511-04-08T00:00:00Z", "until": "8406-10-21T05:10:02Z"}
        assert hub.get("/history/energy", params={**wide, "period": "year"}).status_code == 200
        # Year 1 west of UTC was a 500 (a year before it is no date): the fuzzer's find.
        assert hub.get("/history/energy", params={
            "until": "0001-01-01T04:28:01-20:45", "period": "all"}).status_code == 200
        refused = hub.get("/history/site", params={**wide, "period": "day"})
        assert refused.status_code == 422 and "at most 1000" in refused.text
        assert hub.get("/history/energy", params={"since": until.isoformat(),
                                                  "until": since.isoformat()}
                       ).status_code == 422
    finally:
        hub.stop()


def _registers(hub: Hub, start: datetime, hours: int) -> float:
    """A connector's energy register every 60 s, rising unevenly; returns the rise."""
    items, wh = [], 1_000_000.0
    first = wh
    for minute in range(hours * 60):
        wh += 0 if (minute // 37) % 3 == 0 else 11.0 + (minute % 7)
        items.append(Sample(start + timedelta(minutes=minute), "Energy.Active.Import.Register",
                            "", "Wh", wh, "test"))
    hub.app.store.samples.submit(samples("CP1/1", items)).result(30)
    return wh - first


def test_downsampling_keeps_energy_totals_exact(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    try:
        start = datetime(2026, 10, 1, 0, 0, tzinfo=UTC)
        rise = _registers(hub, start, 48)
        q = Query(datetime(2026, 9, 30, tzinfo=UTC), datetime(2026, 10, 3, tzinfo=UTC), "day")

        def charged() -> list[tuple[str, int]]:
            return [(s["period"], s["charging_wh"])
                    for s in site_energy(hub.app.store.rows, hub.config, q)]
        before = charged()
        # Local days (Paris, UTC+2): the first local day holds 22 h of the two UTC days.
        assert sum(wh for _, wh in before) == round(rise)
        before_total = sum(wh for _, wh in before)
        end = int((start + timedelta(hours=48)).timestamp() * 1000)
        while hub.app.store.samples.submit(
                lambda db: downsample_samples(db, end, 900)).result(30):
            pass
        left = hub.app.store.rows("SELECT count(*) FROM samples JOIN series ON id = series_id"
                                  " WHERE source = 'CP1/1' AND ts_ms < ?", [end], db="samples")
        assert left == [(0,)]
        assert charged() == before
        assert sum(wh for _, wh in charged()) == before_total
    finally:
        hub.stop()


def test_the_excel_export_opens_with_units_and_local_times(tmp_path: Path) -> None:
    hub = Hub(tmp_path)
    try:
        _fill(hub)
        params = {"since": _local(2026, 10, 1).isoformat(), "until": _local(2026, 12, 1)
                  .isoformat(), "period": "month", "by": "charge_point", "lang": "fr"}
        resp = hub.get("/history/export", params=params)
        assert resp.status_code == 200
        assert resp.headers["Content-Type"].startswith("application/vnd.openxmlformats")
        book = openpyxl.load_workbook(io.BytesIO(resp.content))
        assert book.sheetnames == ["Résumé", "Énergie", "Site", "Sessions"]
        energy = list(book["Énergie"].values)
        assert energy[0] == ("Période", "borne", "Sessions", "Énergie (kWh)", "Durée (h)")
        assert energy[1] == ("2026-10-01", "CP1", 2, 14.0, 3.0)
        sessions = list(book["Sessions"].values)
        assert sessions[0][5] == "Début (heure locale)"
        # 23:59 local on 31 October, as the operator knows it (22:59 UTC).
        assert datetime(2026, 10, 31, 23, 59) in [row[5] for row in sessions[1:]]
        assert sessions[1][4] == "alice" and sessions[1][7] == 10.0
        summary = dict(book["Résumé"].values)
        assert summary["Sessions"] == 5 and summary["Énergie (kWh)"] == 38.0
        # The aggregates as CSV, as a French spreadsheet opens them.
        text = hub.get("/history/export", params={**params, "format": "csv"}).text
        lines = text.lstrip("\ufeff").splitlines()
        assert lines[0] == "Période;selon;Sessions;Énergie (kWh);Durée (h)"
        assert lines[1] == "2026-10-01;CP1;2;14,000;3,00"
    finally:
        hub.stop()


@pytest.mark.parametrize(("now", "expected", "kinds"), [
    ("2026-11-28T12:00:00+00:00", "2026-11-30T07:00:00+01:00", ["week"]),
    ("2026-11-30T05:59:00+00:00", "2026-11-30T07:00:00+01:00", ["week"]),
    ("2026-11-30T06:01:00+00:00", "2026-12-01T07:00:00+01:00", ["month"]),
    ("2027-02-15T00:00:00+00:00", "2027-02-15T07:00:00+01:00", ["week"]),
    ("2027-02-28T12:00:00+00:00", "2027-03-01T07:00:00+01:00", ["week", "month"]),
])
def test_reports_leave_on_mondays_and_firsts(now: str, expected: str, kinds: list[str]) -> None:
    config = parse_config("reports: {to: [boss@site.example]}\n"
                          "sites: [{id: s1, grid: {id: g, limit_a: 63}}]\n")
    due = next_report_at(datetime.fromisoformat(now), config)
    assert due is not None and due[0] == datetime.fromisoformat(expected)
    assert due[1] == kinds


def test_report_periods_are_whole_local_weeks_and_months() -> None:
    assert report_period("week", date(2026, 11, 4), PARIS) == (_local(2026, 10, 26),
                                                               _local(2026, 11, 2))
    assert report_period("month", date(2026, 11, 1), PARIS) == (_local(2026, 10, 1),
                                                                _local(2026, 11, 1))


def test_a_report_reaches_a_real_mail_server_with_its_workbook(tmp_path: Path) -> None:
    with smtp_server(tmp_path) as smtp:
        more = smtp.config() + "reports: {to: [boss@site.example]}\n"
        (tmp_path / "hub.yaml").write_text(site(more=more) % (tmp_path, "null"))
        hub = Hub(tmp_path)
        try:
            def job(db: Any) -> None:  # last month's sessions, whatever today is
                now = datetime.now(PARIS)
                first = now.date().replace(day=1)
                start = datetime.combine(first - timedelta(days=3), datetime.min.time(), PARIS)
                db.execute("INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                           " meter_start_wh, started_at, stopped_at, energy_wh)"
                           " VALUES ('CP1', 1, 'AAA1', 0, ?, ?, 12345)",
                           [iso_utc(start.replace(hour=9)), iso_utc(start.replace(hour=11))])
            hub.app.store.core.submit(job).result(30)
            resp = hub.send("POST", "/system/reports/send", json={"period": "month"})
            assert resp.status_code == 200, resp.text
            assert resp.json()["sessions"] == 1 and resp.json()["energy_wh"] == 12345
            deadline = time.monotonic() + 20
            while not smtp.received and time.monotonic() < deadline:
                time.sleep(0.1)
            mail = smtp.received[0]
            assert mail["To"] == "boss@site.example" and "monthly report" in mail["Subject"]
            body = mail.get_body(("plain",))
            assert body is not None and "1 sessions, 12.3 kWh" in body.get_content()
            [part] = list(mail.iter_attachments())
            assert part.get_filename().endswith("-month.xlsx")
            book = openpyxl.load_workbook(io.BytesIO(part.get_content()))
            assert dict(book["Summary"].values)["Energy (kWh)"] == 12.345
            assert hub.send("POST", "/system/reports/send", "operator",
                            json={"period": "week"}).status_code == 403
        finally:
            hub.stop()
    (tmp_path / "no-mail").mkdir()
    hub = Hub(tmp_path / "no-mail")
    try:
        resp = requests.post(f"{hub.url}/system/reports/send", json={"period": "week"},
                             headers=hub.auth("admin"), timeout=10)
        assert resp.status_code == 409
    finally:
        hub.stop()


async def test_a_report_due_while_the_hub_was_off_goes_at_the_next_start(
        tmp_path: Path) -> None:
    from hub_engine.clock import FakeClock
    from hub_engine.history.reports import ReportService
    from hub_engine.ops.mail import Mail, MailQueue
    from hub_engine.store import Store

    class Outbox:
        def __init__(self) -> None:
            self.sent: list[Mail] = []

        def send(self, mail: Mail) -> None:
            self.sent.append(mail)

    config = parse_config("reports: {to: [boss@site.example], monthly: false}\n"
                          "sites: [{id: s1, grid: {id: g, limit_a: 63}}]\n")
    clock = FakeClock(datetime(2026, 11, 25, 12, 0, tzinfo=UTC))  # a Wednesday
    store = Store(config.store, tmp_path, clock)
    await store.start()
    outbox = Outbox()
    queue = MailQueue(outbox)  # type: ignore[arg-type]
    await queue.start()
    try:
        async def one_start() -> None:
            service = ReportService(config, store, clock, queue)
            await service.catch_up()
            await asyncio.sleep(0.1)
        await one_start()  # a first start owes nothing
        assert outbox.sent == []
        clock.advance(8 * 86400)  # off over Monday 30 November, 07:00
        await one_start()
        assert [m.subject for m in outbox.sent] == [
            "[s1] weekly report 2026-11-23 – 2026-11-29"]
        await one_start()  # sent once
        assert len(outbox.sent) == 1
    finally:
        await queue.stop()
        await store.stop()
