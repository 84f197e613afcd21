"""A simulated PLC for the Node-RED scenarios: coils a flow writes (a parking barrier,
lights) over Modbus TCP, each change logged by name. Used by the demo and the tests;
a real site has a Wago, an ADAM or the building's PLC in its place.

    python -m hub_engine.sim.plc --port 5021 --coil 0=barrier --coil 1=lights
"""

from __future__ import annotations

import argparse
import asyncio
import logging
from collections.abc import Mapping

from hub_engine.sim.modbus_server import RegisterServer, Tables

__all__ = ["SimPlc"]

log = logging.getLogger("hub.sim.plc")


class SimPlc:
    def __init__(self, names: Mapping[int, str], host: str = "127.0.0.1", port: int = 0,
                 size: int = 16) -> None:
        self.names = dict(names)
        self.coils = {a: 0 for a in range(size)}
        self.server = RegisterServer(self._tables, host=host, port=port,
                                     span={"coil": self.coils, "holding": {0: 0}})

    def _tables(self, unit: int) -> Tables:
        self.apply()
        return {"coil": self.coils, "holding": {0: 0}}

    def apply(self) -> None:
        """Take in the writes received so far (the server records them)."""
        while self.server.writes:
            _, table, address, values = self.server.writes.pop(0)
            if table != "coil":
                continue
            for k, value in enumerate(values):
                a = address + k
                if a in self.coils and self.coils[a] != int(bool(value)):
                    self.coils[a] = int(bool(value))
                    log.info("coil %d (%s) %s", a, self.names.get(a, "-"),
                             "ON" if value else "OFF")

    async def run(self) -> None:
        try:
            await self.server.start()
        except OSError as exc:
            log.warning("simulated PLC not served: %s", exc)
            return
        log.info("simulated PLC on %s:%s, coils %s", self.server.host, self.server.port,
                 ", ".join(f"{a}={n}" for a, n in sorted(self.names.items())) or "-")
        while True:  # writes are logged as they come, not only when someone reads
            await asyncio.sleep(0.2)
            self.apply()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5021)
    parser.add_argument("--coil", action="append", default=[], metavar="ADDRESS=NAME")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    names = {int(a): n for a, n in (c.split("=", 1) for c in args.coil)}
    asyncio.run(SimPlc(names, args.host, args.port).run())


if __name__ == "__main__":
    main()
