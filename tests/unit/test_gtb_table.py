"""The GTB register table says the site limit in force, as the dashboard does: the
rating lowered by external limits and signals, and a kVA/W limit in force when lower."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "python-nodes"))
from hub_nodes.gtb import gtb_table


def _live(limit_a: float, limit_w: float | None, meter: list[float]) -> dict[str, Any]:
    return {"sites": [{"id": "s1", "limit_a": limit_a, "rating_a": 63.0, "limit_w": limit_w,
                       "voltage_v": 230.0, "meter_current_a": meter, "meter_status": "fresh"}],
            "connectors": [], "sessions_active": 0, "fire_alarm": False}


def _u32(regs: list[int], at: int) -> int:
    return regs[at] * 65536 + regs[at + 1]


@pytest.mark.parametrize(("limit_a", "limit_w", "limit_reg", "available_reg"), [
    (63.0, None, 63 * 230 * 3, (63 - 20) * 3 * 230),  # the rating, nothing lowers it
    (40.0, None, 40 * 230 * 3, (40 - 20) * 3 * 230),  # an external limit of 40 A
    (63.0, 20_000.0, 20_000, 20_000 - 60 * 230),      # a 20 kW limit in force
])
def test_the_site_limit_register_is_the_limit_in_force(
        limit_a: float, limit_w: float | None, limit_reg: int, available_reg: int) -> None:
    regs = gtb_table(_live(limit_a, limit_w, [20.0, 20.0, 20.0]), counter=1)
    assert _u32(regs, 4) == limit_reg
    assert _u32(regs, 6) == available_reg
