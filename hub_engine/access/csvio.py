"""Members and badges as CSV: one line per badge, with its member's settings.

Columns: ``member, group, id_tag, parent_id_tag, badge_status, expiry, charge_points,
windows, credit_wh, refill_period, refill_mode, refill_wh, ceiling_wh, on_exhausted,
priority, member_blocked, min_current_a, solar_mode, departure_time, energy_need_wh``
(the member's default departure plan: a local ``07:30`` and Wh; a file with the older
``pv_only`` column instead is read too: ``yes`` is ``surplus``). ``charge_points`` are
ids separated by spaces (charge points or nodes of the site tree; empty: everywhere);
``windows`` are ``Mon-Fri 07:00-19:00 | Sat 08:00-12:00`` (empty: always). An import
checks every line first and imports nothing if one is wrong: the errors name their line
numbers.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from hub_engine.access.policy import Window
from hub_engine.clock import iso_utc, parse_iso
from hub_engine.errors import ConfigError
from hub_engine.i18n import Text, message_of
from hub_engine.typed import FieldError

__all__ = ["COLUMNS", "CsvError", "export_csv", "parse_csv", "parse_windows", "windows_of",
           "windows_text"]

COLUMNS = ("member", "group", "id_tag", "parent_id_tag", "badge_status", "expiry",
           "charge_points", "windows", "credit_wh", "refill_period", "refill_mode",
           "refill_wh", "ceiling_wh", "on_exhausted", "priority", "member_blocked",
           "min_current_a", "solar_mode", "departure_time", "energy_need_wh")
DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_CHOICES = {"badge_status": ("Accepted", "Blocked"), "refill_period": ("none", "daily",
            "weekly", "monthly"), "refill_mode": ("add", "reset"),
            "on_exhausted": ("limit", "stop"), "member_blocked": ("", "yes", "no"),
            "solar_mode": ("", "off", "surplus", "min_solar")}


class CsvError(ValueError):
    def __init__(self, errors: list[tuple[int, str]]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"line {n}: {m}" for n, m in errors[:10]))


@dataclass(frozen=True)
class Row:
    line: int
    member: dict[str, Any]
    badge: dict[str, Any]


# A day's first three letters, English or French (accents dropped): "Mon", "lundi", "Mer".
_DAY_NAMES = {name: i for names in (("mon", "tue", "wed", "thu", "fri", "sat", "sun"),
                                    ("lun", "mar", "mer", "jeu", "ven", "sam", "dim"))
              for i, name in enumerate(names)}
_HOUR = re.compile(r"^\s*([01]?\d|2[0-4])\s*(?::|h|H)\s*([0-5]\d)?\s*$")


def _day(text: str) -> int:
    key = unicodedata.normalize("NFKD", text.strip()).encode("ascii", "ignore").decode()
    day = _DAY_NAMES.get(key[:3].casefold())
    if day is None:
        raise ValueError(Text("{text!r} is not a day (Mon…Sun, lun…dim)", text=text.strip()))
    return day


def _days(text: str) -> tuple[int, ...]:
    out: list[int] = []
    for part in text.split(","):
        ends = [_day(e) for e in part.split("-")]
        if len(ends) > 2:
            raise ValueError(Text("{text!r}: a day or a range of days", text=part.strip()))
        out.extend(range(ends[0], ends[-1] + 1) if len(ends) == 2 else ends)
    return tuple(sorted(set(out)))


def _hour(text: str) -> str:
    """``07:00``, ``7:00``, ``7h``, ``7h30`` → ``07:00``."""
    m = _HOUR.match(text)
    if m is None:
        raise ValueError(Text("{text!r} is not an hour (07:00 or 7h30)", text=text.strip()))
    return f"{int(m.group(1)):02d}:{m.group(2) or '00'}"


def windows_of(text: str) -> tuple[Window, ...]:
    """The windows written as people write them, as :class:`Window` values (checked)."""
    return tuple(Window(tuple(w["days"]), w["start"], w["end"]) for w in parse_windows(text))


def parse_windows(text: str) -> list[dict[str, Any]]:
    """``Mon-Fri 07:00-19:00 | Sat 08:00-12:00`` (or ``lun-ven 7h-19h``) → window dicts
    (checked)."""
    out = []
    for item in filter(None, (x.strip() for x in text.split("|"))):
        try:
            days, hours = item.rsplit(" ", 1)
            start, end = hours.split("-")
            window = Window(_days(days), _hour(start), _hour(end))
        except FieldError as exc:
            raise ValueError(Text("window {item!r}: {why}", item=item, why=exc.message)) from None
        except ValueError as exc:
            why = exc.args[0] if exc.args and isinstance(exc.args[0], Text) else Text(
                "expected like 'Mon-Fri 07:00-19:00' or 'lun-ven 7h-19h'")
            raise ValueError(Text("window {item!r}: {why}", item=item, why=why)) from None
        out.append({"days": list(window.days), "start": window.start, "end": window.end})
    return out


def windows_text(windows: list[dict[str, Any]]) -> str:
    return " | ".join(f"{','.join(DAYS[d] for d in w['days'])} {w['start']}-{w['end']}"
                      for w in windows)


def _int(value: str, name: str) -> int | None:
    if value.strip() == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise ValueError(Text("{name}: got {value!r}, expected a whole number",
                              name=name, value=value)) from None


def _float(value: str, name: str) -> float | None:
    if value.strip() == "":
        return None
    try:
        number = float(value)
    except ValueError:
        raise ValueError(Text("{name}: got {value!r}, expected a number", name=name,
                              value=value)) from None
    if not 6 <= number <= 80:
        raise ValueError(Text("{name}: got {value:g}, expected 6 to 80 A", name=name,
                              value=number))
    return number


def _clock(value: str) -> str | None:
    """A local time of day as HH:MM ("7h30" and "07:30" alike), or None."""
    if not value:
        return None
    m = _HOUR.match(value)
    if m is None or int(m.group(1)) > 23:
        raise ValueError(Text("departure_time: got {value!r}, expected a time like 07:30",
                              value=value))
    return f"{int(m.group(1)):02d}:{m.group(2) or '00'}"


def _need(value: str) -> int | None:
    need = _int(value, "energy_need_wh")
    if need is not None and not 1 <= need <= 500_000:
        raise ValueError(Text("energy_need_wh: got {value}, expected 1 to 500000 Wh",
                              value=need))
    return need


def _row(n: int, raw: dict[str, str], places: set[str]) -> Row:
    get = {k: (raw.get(k) or "").strip() for k in COLUMNS}
    if not get["member"] or not get["id_tag"]:
        raise ValueError(Text("member and id_tag are required"))
    if len(get["id_tag"]) > 20:
        raise ValueError(Text("id_tag {tag!r}: at most 20 characters (OCPP idTag)",
                              tag=get["id_tag"]))
    for key, choices in _CHOICES.items():
        if get[key] and get[key] not in choices:
            raise ValueError(Text("{name}: got {value!r}, expected one of {choices}", name=key,
                                  value=get[key], choices=", ".join(choices)))
    expiry = None
    if get["expiry"]:
        expiry = parse_iso(get["expiry"])
        if expiry is None:
            raise ValueError(Text("expiry: got {value!r}, expected an ISO time with offset",
                                  value=get["expiry"]))
    cps = get["charge_points"].split()
    unknown = [c for c in cps if c not in places]
    if unknown:
        raise ValueError(Text("charge_points: no charge point or node {place!r}",
                              place=unknown[0]))
    member = {"name": get["member"], "grp": get["group"], "charge_points": cps,
              "windows": parse_windows(get["windows"]),
              "credit_wh": _int(get["credit_wh"], "credit_wh"),
              "refill_period": get["refill_period"] or "none",
              "refill_mode": get["refill_mode"] or "add",
              "refill_wh": _int(get["refill_wh"], "refill_wh") or 0,
              "ceiling_wh": _int(get["ceiling_wh"], "ceiling_wh"),
              "on_exhausted": get["on_exhausted"] or "limit",
              "priority": _int(get["priority"], "priority") or 0,
              "blocked": int(get["member_blocked"] == "yes"),
              "min_current_a": _float(get["min_current_a"], "min_current_a"),
              "solar_mode": get["solar_mode"] or (
                  "surplus" if (raw.get("pv_only") or "").strip() == "yes" else None),
              "departure_time": _clock(get["departure_time"]),
              "energy_need_wh": _need(get["energy_need_wh"])}
    badge = {"id_tag": get["id_tag"], "status": get["badge_status"] or "Accepted",
             "expiry": iso_utc(expiry) if expiry else None,
             "parent_id_tag": get["parent_id_tag"] or None}
    return Row(n, member, badge)


def parse_csv(text: str, places: set[str]) -> list[Row]:
    """Every line checked; :class:`CsvError` with all the bad lines, or the rows."""
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in ("member", "id_tag") if c not in (reader.fieldnames or [])]
    if missing:
        raise CsvError([(1, Text("the header needs the columns {columns}",
                                 columns=", ".join(COLUMNS)))])
    rows: list[Row] = []
    errors: list[tuple[int, str]] = []
    seen: dict[str, int] = {}
    for n, raw in enumerate(reader, start=2):
        try:
            row = _row(n, raw, places)
        except (ValueError, ConfigError) as exc:
            errors.append((n, message_of(exc)))
            continue
        tag = row.badge["id_tag"].casefold()
        if tag in seen:
            errors.append((n, Text("id_tag {tag!r} is also on line {line}",
                                   tag=row.badge["id_tag"], line=seen[tag])))
        seen[tag] = n
        rows.append(row)
    if errors:
        raise CsvError(errors)
    return rows


def export_csv(rows: list[dict[str, Any]]) -> str:
    """``rows``: one dict per badge with the columns' values."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: row.get(k, "") if row.get(k) is not None else ""
                         for k in COLUMNS})
    return out.getvalue()
