"""Stopping the tasks a component keeps: cancel, then wait for each to end."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

__all__ = ["cancel_and_wait"]


async def cancel_and_wait(*tasks: asyncio.Task[Any] | None) -> None:
    """Cancel each task (None: none started) and wait until it has ended: its own
    cleanup has run when this returns. Its cancellation is the expected end, not an
    error."""
    for task in tasks:
        if task is None:
            continue
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
