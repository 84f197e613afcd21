"""Child process for the durability test: writes rows and prints each one once committed.

Many concurrent writers, so commits are grouped; a row is printed only after ``write``
returned, i.e. after the hub would have acknowledged it to a charge point.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hub_engine.clock import SystemClock
from hub_engine.config import StoreConfig
from hub_engine.store import Store


async def main(data_dir: Path, writers: int) -> None:
    store = Store(StoreConfig(), data_dir, SystemClock())
    await store.start()
    print("ready", flush=True)
    counter = iter(range(10**9))

    async def writer(w: int) -> None:
        while True:
            n = next(counter)

            def job(db, n=n):  # type: ignore[no-untyped-def]
                cur = db.execute(
                    "INSERT INTO transactions (charge_point_id, connector_id, id_tag,"
                    " meter_start_wh, started_at) VALUES (?, 1, ?, 0, '2026-01-01T00:00:00Z')",
                    [f"CP{w}", f"tag{n}"],
                )
                return cur.lastrowid

            rowid = await store.core.write(job)
            sys.stdout.write(f"{n} {rowid}\n")
            sys.stdout.flush()

    await asyncio.gather(*(writer(w) for w in range(writers)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2])))
