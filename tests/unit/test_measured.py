"""Which MeterValues the hub believes, and what they say of the car's phases."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hub_engine.config import ChargePointConfig
from hub_engine.ocpp.measured import PlausibilityLimits, check_samples, connector_current
from hub_engine.store.samples import Sample

T = datetime(2026, 12, 3, tzinfo=UTC)
LIMITS = PlausibilityLimits.of(ChargePointConfig("CP", max_current_a=32))


def cur(phase: str, value: float) -> Sample:
    return Sample(T, "Current.Import", phase, "A", value, "Sample.Periodic")


@pytest.mark.parametrize(("samples", "current", "labelled"), [
    ([cur("L1", 16), cur("L2", 16), cur("L3", 16)], (16, 16, 16), True),
    ([cur("L1", 16), cur("L2", 0), cur("L3", 0)], (16, 0, 0), True),  # a 1-phase car
    ([cur("L1", 16), cur("L2", 15)], (16, 15, 0), True),
    ([cur("", 16)], (16, 16, 16), False),  # overall value: phases unknown
    ([cur("L1", 16)], (16, 16, 16), False),  # L1 only says nothing of L2, L3
    ([cur("", 10), cur("L1", 16)], (16, 16, 16), False),
    ([cur("L1", -0.4), cur("L2", 8), cur("L3", 8)], (0, 8, 8), True),  # noise
    ([cur("N", 3)], None, None),
    ([], None, None),
])
def test_phases_are_known_only_from_two_labels(samples: list[Sample],
                                               current: tuple[float, ...] | None,
                                               labelled: bool | None) -> None:
    m = connector_current(samples, 5.0)
    if current is None:
        assert m is None
    else:
        assert m is not None and m.current_a == current and m.phases_labelled is labelled


@pytest.mark.parametrize(("sample", "why"), [
    (cur("L1", 16000), "Current.Import L1 = 16000 A"),  # mA sent as A
    (cur("", 11000), "Current.Import overall = 11000 A"),  # W sent as A
    (cur("L2", 1e308), "Current.Import L2 = 1e+308 A"),
    (cur("L3", -5), "Current.Import L3 = -5 A"),
    (Sample(T, "Energy.Active.Import.Register", "", "Wh", 1e308, "x"),
     "Energy.Active.Import.Register = 1e+308 Wh"),
    (Sample(T, "Energy.Active.Import.Register", "", "Wh", -1, "x"),
     "Energy.Active.Import.Register = -1 Wh"),
    (Sample(T, "Power.Active.Import", "", "W", 5e6, "x"), "Power.Active.Import overall = 5e+06 W"),
])
def test_values_no_connector_can_draw_are_rejected(sample: Sample, why: str) -> None:
    good = [cur("L1", 16), cur("L2", 16), cur("L3", 16),
            Sample(T, "Energy.Active.Import.Register", "", "Wh", 1234, "x")]
    kept, reasons = check_samples([*good, sample], LIMITS)
    assert reasons == [why]
    if sample.measurand == "Current.Import":  # the same meter's other currents go too
        assert [s.measurand for s in kept] == ["Energy.Active.Import.Register"]
    else:
        assert kept == good


def test_a_rating_set_below_the_hardware_still_believes_a_real_overdraw() -> None:
    kept, reasons = check_samples([cur("L1", 40), cur("L2", 40), cur("L3", 40)], LIMITS)
    assert reasons == [] and len(kept) == 3  # 40 A on a 32 A setting: ignoring, not absurd
