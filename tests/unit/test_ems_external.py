"""External limits: what a request must say to be put in force."""

from __future__ import annotations

from datetime import timedelta

import pytest

from hub_engine.clock import SystemClock
from hub_engine.ems.external import ExternalLimits, LimitRequest
from hub_engine.errors import CommandError


@pytest.mark.parametrize(("fields", "reason"), [
    ({"target": "nowhere"}, "target: no node or connector 'nowhere'"),
    ({"limit_a": None}, "limit_a or limit_w is required"),
    ({"limit_a": -1}, "limit_a: got -1, expected a number ≥ 0"),
    ({"expires_in_s": -5}, "expires_at: must be in the future"),
    ({"expires_in_s": 30 * 86400}, "at most 7 days ahead"),
    ({"on_expiry": "hold"}, "on_expiry hold needs fallback_a or fallback_w"),
])
def test_a_bad_external_limit_is_refused_with_its_reason(
        fields: dict[str, object], reason: str) -> None:
    limits = ExternalLimits(SystemClock(), {"grid", "CP1/1"})
    args: dict[str, object] = {"target": "grid", "source": "api", "limit_a": 10,
                               "expires_in_s": 60, **fields}
    expires = SystemClock().now() + timedelta(seconds=float(args.pop("expires_in_s")))  # type: ignore[arg-type]
    with pytest.raises(CommandError, match=reason.replace("(", r"\(")):
        limits.set(LimitRequest(expires_at=expires, **args))  # type: ignore[arg-type]
