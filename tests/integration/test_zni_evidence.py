"""The Advenir evidence of a ZNI site, read from a real samples.db: per 10-minute slot the
signal and, per connector, the limit sent, the current offered and the power drawn after
the reaction window; an unfavourable slot complies when each is at most half the rating."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from hub_engine.clock import FakeClock
from hub_engine.config import parse_config
from hub_engine.signals.evidence import SIGNAL_SOURCE, evidence, evidence_csv
from hub_engine.store import Store
from hub_engine.store.samples import Sample, samples

T0 = datetime(2026, 7, 1, 10, 0, tzinfo=UTC)  # 12:00 in Corsica (CEST)
CONFIG = parse_config("""
hub: {timezone: Europe/Paris}
sites:
  - id: island
    grid:
      id: tgbt
      limit_a: 87
      charge_points: [{id: ISL-01, phases: 1, max_current_a: 32}, {id: ISL-02}]
""")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


async def test_each_slot_says_what_was_sent_applied_and_drawn(tmp_path: Path) -> None:
    store = Store(CONFIG.store, tmp_path, FakeClock(T0))
    await store.start()
    try:
        def put(source: str, measurand: str, unit: str, points: list[tuple[float, float]],
                phase: str = "") -> None:
            store.samples.submit(samples(source, [
                Sample(at(m), measurand, phase, unit, v, "t") for m, v in points])).result(10)
        # 10:00 unfavourable, 10:10 favourable, 10:20 unfavourable (assumed: no slot
        # known), 10:30 nothing recorded.
        put(SIGNAL_SOURCE, "Signal", "", [(0, 0), (10, 1)])
        put(SIGNAL_SOURCE, "Signal", "", [(20, 0)], phase="assumed")
        # ISL-01 (single-phase 32 A): 32 A until 5 s into the slot (inside the reaction
        # window: not counted), then 16 A; the charge point offers 16 A, draws 3.6 kW.
        put("ISL-01/1", "Current.Limit", "A", [(0.08, 32), (0.34, 16), (5, 16), (12, 32),
                                               (20.5, 16)])
        put("ISL-01/1", "Current.Offered", "A", [(1, 16), (21, 16)])
        put("ISL-01/1", "Power.Active.Import", "W", [(2, 3600), (22, 4500)])
        # ISL-02 (three-phase 32 A): its limit stays at 20 A in the 10:20 slot.
        put("ISL-02/1", "Current.Limit", "A", [(0.5, 16), (20.5, 20)])
        rows = evidence(store.rows, CONFIG, T0, at(40), grace_s=15)
    finally:
        await store.stop()
    got = {(r.slot_start, r.connector): r for r in rows}
    assert len(rows) == 4 * 2
    first = got[(T0, "ISL-01/1")]
    assert (first.signal, first.limit_sent_a, first.offered_a, first.power_w) == (0, 16, 16,
                                                                                  3600)
    assert first.compliant is True
    assert got[(at(10), "ISL-01/1")].compliant is True  # favourable: 32 A is fine
    late = got[(at(20), "ISL-01/1")]
    assert late.assumed and late.compliant is False  # 4.5 kW > 3.68 kW (half of 7.36)
    assert got[(at(20), "ISL-02/1")].compliant is False  # 20 A > 16 A
    assert got[(T0, "ISL-02/1")].compliant is True
    assert got[(at(30), "ISL-01/1")].signal is None and got[(at(30), "ISL-01/1")].compliant \
        is None
    text = evidence_csv(rows, "Europe/Paris").splitlines()
    assert text[0] == ("slot_start,signal,connector,rated_a,limit_sent_a,offered_a,power_w,"
                       "compliant")
    assert text[1] == "2026-07-01T12:00+02:00,0,ISL-01/1,32.0,16.0,16.0,3600.0,yes"
    assert "2026-07-01T12:20+02:00,0 (assumed),ISL-02/1,32.0,20.0,,,NO" in text


@pytest.mark.parametrize("bad", ["since=2026-07-02T00:00:00Z&until=2026-07-01T00:00:00Z",
                                 "since=2026-01-01T00:00:00Z&until=2026-07-01T00:00:00Z"])
def test_the_route_refuses_a_backward_or_too_long_range(bad: str, tmp_path: Path) -> None:
    from tests.integration.api_fixtures import Hub
    hub = Hub(tmp_path)
    try:
        resp = hub.get(f"/signals/zni/evidence?{bad}")
        assert resp.status_code == 422 and "at most 93 days" in resp.text
        ok = hub.get("/signals/zni/evidence")
        assert ok.status_code == 200 and ok.headers["Content-Type"].startswith("text/csv")
        assert ok.text.splitlines()[0].startswith("slot_start,signal,connector")
    finally:
        hub.stop()
