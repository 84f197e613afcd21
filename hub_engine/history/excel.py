"""The Excel workbook of a period: summary, energy per key and period, the site's
consumption beside its charging, and every session, with units in the headers and local
times as Excel dates. Written in openpyxl's write-only mode (constant memory)."""

from __future__ import annotations

import io
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from hub_engine.clock import iso_utc, parse_iso
from hub_engine.config import HubConfig
from hub_engine.history.aggregate import Query, Rows, energy_by, site_energy
from hub_engine.i18n import Text, say

__all__ = ["SESSION_SELECT", "workbook"]

# One session per row, with its member (through its badge): shared with the API's lists.
SESSION_SELECT = (
    "SELECT t.id, t.charge_point_id, t.connector_id, t.id_tag, t.started_at,"
    " t.stopped_at, t.meter_start_wh, t.meter_stop_wh, t.energy_wh, t.stop_reason,"
    " t.closed_by_hub, m.name, t.departure_at, t.energy_need_wh, t.plan_source"
    " FROM transactions t"
    " LEFT JOIN badges b ON b.id_tag = t.id_tag COLLATE NOCASE"
    " LEFT JOIN members m ON m.id = b.member_id")
_DATE = "yyyy-mm-dd hh:mm"
_BY = {"site": Text("site"), "board": Text("board"), "group": Text("group"),
       "charge_point": Text("charge point"), "member": Text("member"), "badge": Text("badge")}


def _row(ws: WriteOnlyWorksheet, values: Iterable[Any], bold: bool = False,
         dates: Sequence[int] = ()) -> None:
    cells = []
    for i, value in enumerate(values):
        cell = WriteOnlyCell(ws, value=value)
        if bold:
            cell.font = Font(bold=True)
        if i in dates:
            cell.number_format = _DATE
        cells.append(cell)
    ws.append(cells)


def workbook(rows: Rows, config: HubConfig, q: Query, lang: str) -> bytes:
    tz = ZoneInfo(config.hub.timezone)

    def local(ts: str | None) -> datetime | None:
        t = parse_iso(ts) if ts else None
        return t.astimezone(tz).replace(tzinfo=None) if t else None  # Excel has no zones

    def words(*texts: str) -> list[str]:
        return [say(x, lang) for x in texts]
    book = Workbook(write_only=True)
    energy = energy_by(rows, config, q)
    summary = book.create_sheet(say(Text("Summary"), lang))
    _row(summary, words(Text("Site"), config.sites[0].name or config.sites[0].id), bold=True)
    _row(summary, [say(Text("From (local)"), lang), q.since.astimezone(tz).replace(tzinfo=None)],
         dates=(1,))
    _row(summary, [say(Text("To (local, excluded)"), lang),
                   q.until.astimezone(tz).replace(tzinfo=None)], dates=(1,))
    _row(summary, [say(Text("Sessions"), lang), sum(e["sessions"] for e in energy)])
    _row(summary, [say(Text("Energy (kWh)"), lang),
                   round(sum(e["energy_wh"] for e in energy) / 1000, 3)])
    sheet = book.create_sheet(say(Text("Energy"), lang))
    _row(sheet, words(Text("Period"), _BY[q.by], Text("Sessions"), Text("Energy (kWh)"),
                      Text("Duration (h)")), bold=True)
    for e in energy:
        _row(sheet, [e["period"], e["key"], e["sessions"], round(e["energy_wh"] / 1000, 3),
                     round(e["duration_s"] / 3600, 2)])
    site = book.create_sheet(say(Text("Site"), lang))
    _row(site, words(Text("Period"), Text("Site"), Text("Consumption (kWh, estimated)"),
                     Text("Charging (kWh)"), Text("PV (kWh)")), bold=True)
    for s in site_energy(rows, config, q):
        _row(site, [s["period"], s["site"], round(s["consumption_wh"] / 1000, 3),
                    round(s["charging_wh"] / 1000, 3),
                    None if s["pv_wh"] is None else round(s["pv_wh"] / 1000, 3)])
    sessions = book.create_sheet(say(Text("Sessions"), lang))
    _row(sessions, words(Text("Session"), Text("Charge point"), Text("Connector"),
                         Text("Badge"), Text("Member"), Text("Started (local)"),
                         Text("Stopped (local)"), Text("Energy (kWh)"), Text("Stop reason")),
         bold=True)
    sql = (SESSION_SELECT + " WHERE t.started_at >= ? AND t.started_at < ?"
           " ORDER BY t.started_at, t.id")
    for r in rows(sql, (iso_utc(q.since), iso_utc(q.until))):
        _row(sessions, [r[0], r[1], r[2], r[3], r[11] or "", local(r[4]), local(r[5]),
                        None if r[8] is None else round(r[8] / 1000, 3), r[9] or ""],
             dates=(5, 6))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
