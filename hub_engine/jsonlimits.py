"""JSON from outside the hub (OCPP frames, API bodies, bus messages), parsed with a bound
on nesting.

Python's decoder recurses: a few thousand ``[`` raise ``RecursionError``, which is not a
``ValueError`` and so escaped every "bad JSON" handler (a 500, a dropped connection or no
reply at all). No message the hub takes nests deeper than a few levels, so anything
deeper than :data:`MAX_DEPTH` is refused as bad input, before handlers and validators
that recurse too see it.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "TooDeepError", "deeper_than", "loads_bounded"]

MAX_DEPTH = 16


class TooDeepError(ValueError):
    """JSON nested deeper than the hub takes: bad input, like any malformed JSON."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"JSON nested deeper than {limit} levels")


def deeper_than(value: Any, limit: int) -> bool:
    """Iterative, so that the check itself cannot overflow the stack."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > limit:
                return True
            stack.extend((v, depth + 1) for v in (item.values() if isinstance(item, dict)
                                                   else item))
    return False


def loads_bounded(raw: str | bytes, limit: int = MAX_DEPTH, **kwargs: Any) -> Any:
    """``json.loads`` that raises only ``ValueError`` (``TooDeepError`` past ``limit``)."""
    try:
        value = json.loads(raw, **kwargs)
    except RecursionError:
        raise TooDeepError(limit) from None
    if deeper_than(value, limit):
        raise TooDeepError(limit)
    return value
