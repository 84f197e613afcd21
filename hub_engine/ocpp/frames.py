"""Reading raw OCPP-J frames before the library does, so that bad input gets its CALLERROR.

The ``ocpp`` library only logs a frame it cannot unpack. Here every such frame whose
message id can be read is answered with the CALLERROR the specification names
(OCPP-J 1.6 §4.2.3), and the connection stays up.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from hub_engine.jsonlimits import MAX_DEPTH, deeper_than

__all__ = ["FrameError", "check_frame", "error_frame"]

CALL, CALLRESULT, CALLERROR = 2, 3, 4


@dataclass(frozen=True)
class FrameError:
    unique_id: str | None  # None: not even the id can be read, nothing can be answered
    code: str
    description: str


def error_frame(unique_id: str, code: str, description: str,
                details: dict[str, Any] | None = None) -> str:
    return json.dumps([CALLERROR, unique_id, code, description, details or {}])


# The start of a frame too deep to parse, to answer it by its id.
_HEAD = re.compile(r'^\s*\[\s*\d+\s*,\s*"([^"\\]{1,64})"')


def check_frame(raw: str | bytes, max_bytes: int) -> FrameError | None:
    """None if the frame is well formed; else what to answer (if anything)."""
    size = len(raw.encode() if isinstance(raw, str) else raw)
    try:
        msg = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return FrameError(None, "FormationViolation", "frame is not valid JSON")
    except RecursionError:  # thousands of nested brackets: answer from the id alone
        head = _HEAD.match(raw if isinstance(raw, str) else raw.decode("utf-8", "replace"))
        return FrameError(head[1] if head else None, "FormationViolation",
                          f"frame nested deeper than {MAX_DEPTH} levels")
    uid = msg[1] if isinstance(msg, list) and len(msg) > 1 and isinstance(msg[1], str) else None
    if size > max_bytes:
        return FrameError(uid, "FormationViolation",
                          f"frame of {size} bytes exceeds the limit of {max_bytes}")
    if not isinstance(msg, list) or not msg:
        return FrameError(None, "FormationViolation", "a frame is a JSON array")
    if uid is None:
        return FrameError(None, "FormationViolation", "no message id")
    kind = msg[0]
    if kind == CALL:
        if len(msg) != 4 or not isinstance(msg[2], str):
            return FrameError(uid, "FormationViolation",
                              "a CALL is [2, id, action, payload]")
        if not isinstance(msg[3], dict):
            return FrameError(uid, "FormationViolation", "the payload must be a JSON object")
        # No OCPP 1.6 payload nests deeper than 6 levels; handlers and the schema
        # validator recurse, so a deeper one is refused before them.
        if deeper_than(msg[3], MAX_DEPTH):
            return FrameError(uid, "FormationViolation",
                              f"payload nested deeper than {MAX_DEPTH} levels")
        return None
    if kind in (CALLRESULT, CALLERROR):
        return None  # answers are never answered; unknown ones are logged by the caller
    return FrameError(uid, "ProtocolError", f"unknown message type {kind!r}")
