"""``hub devices read`` and ``hub devices serve``: try a device from the command line,
and serve any template from the simulator (for tests, the demo and benchmarks)."""

from __future__ import annotations

import argparse
import asyncio
from typing import TYPE_CHECKING, Any

from hub_engine.errors import ConfigError, ReadError
from hub_engine.i18n import Text

if TYPE_CHECKING:  # the drivers load only when a verb runs: `hub --help` stays quick
    from hub_engine.devices.poller import ModbusDevice
    from hub_engine.devices.tic_reader import TicMeter

__all__ = ["add_parsers", "run"]


def add_parsers(sub: Any) -> None:
    dev = sub.add_parser("devices", help="read a device once, or serve a template (simulator)")
    verbs = dev.add_subparsers(dest="verb", required=True)
    read = verbs.add_parser("read", help="read the configuration's devices (or one given "
                                         "by its address) once and print their values")
    read.add_argument("id", nargs="?", help="a device or meter id of the configuration")
    read.add_argument("--config")
    for name in ("host", "serial", "template"):
        read.add_argument(f"--{name}")
    read.add_argument("--port", type=int, default=502)
    read.add_argument("--unit", type=int, default=1, help="Modbus unit id (default 1)")
    read.add_argument("--baudrate", type=int, default=9600)
    read.add_argument("--sunspec", action="store_true", help="discover a SunSpec inverter")
    serve = verbs.add_parser("serve", help="serve a template's registers over Modbus TCP")
    serve.add_argument("--template", required=True)
    serve.add_argument("--port", type=int, default=5020)
    serve.add_argument("--unit", type=int, default=1)
    serve.add_argument("--set", action="append", default=[], metavar="NAME=V[,V,V]",
                       help="a value to serve, e.g. current_a=16,8.5,0.75 (repeatable)")


def _print(dev_id: str, where: str, values: dict[str, tuple[float, ...]]) -> None:
    print(f"{dev_id}  {where}")
    for name, vals in values.items():
        print(f"  {name:<18}" + "  ".join(f"{v:>12.3f}" for v in vals))


async def _read_one(device: ModbusDevice | TicMeter) -> dict[str, tuple[float, ...]]:
    from hub_engine.devices.tic_reader import TicMeter

    if isinstance(device, TicMeter):
        await device.start()
        try:
            for _ in range(int(device.options.stale_after_s * 10)):
                await asyncio.sleep(0.1)
                if device.fresh():
                    break
            info = device.describe()
        finally:
            await device.stop()
        if not info.get("online"):
            raise ReadError(f"meter {device.id}: {device.error}")
        return {k: tuple(v) if isinstance(v, (list, tuple)) else (v,)
                for k, v in info.items() if isinstance(v, (int, float, list, tuple))
                and not isinstance(v, bool)}
    try:
        await device.poll()
    finally:
        device.link.close()
    for name, why in device.missing.items():
        print(f"  {name}: {why}")
    return device.values


async def _read(args: argparse.Namespace) -> int:
    from hub_engine.clock import SystemClock
    from hub_engine.config import load_config
    from hub_engine.devices.build import build_devices
    from hub_engine.devices.modbus import ModbusLink
    from hub_engine.devices.poller import DeviceOptions, ModbusDevice
    from hub_engine.devices.sunspec import discover
    from hub_engine.devices.template import load_template
    from hub_engine.typed import build

    clock = SystemClock()
    targets: list[tuple[str, str, ModbusDevice | TicMeter]] = []
    if args.host or args.serial:
        options = {"host": args.host, "port": args.port, "serial": args.serial,
                   "baudrate": args.baudrate, "device_id": args.unit,
                   "template": args.template}
        opts: DeviceOptions = build(DeviceOptions, options, "options")
        if opts.template is None and not args.sunspec:
            raise ConfigError("template", Text("give --template NAME (or --sunspec)"))
        template = load_template(opts.template) if opts.template else None
        one = ModbusDevice("device", opts, template, ModbusLink(opts, opts.timeout_s, clock),
                           clock, discover=discover if args.sunspec else None)
        targets.append(("device", f"{opts.key} unit {opts.device_id}", one))
    else:
        site = build_devices(load_config(args.config), clock)
        for dev_id, dev in site.modbus.items():
            targets.append((dev_id, f"{dev.link.options.key} unit {dev.options.device_id}", dev))
        for tic_id, (_, meter) in site.tic.items():
            targets.append((tic_id, f"TIC {meter.options.serial} ({meter.options.mode})",
                            meter))
        if args.id is not None:
            targets = [t for t in targets if t[0] == args.id]
            if not targets:
                raise ConfigError("id", Text("no Modbus or TIC device {id!r} in the configuration",
                                       id=args.id))
    failed = 0
    for dev_id, where, device in targets:
        try:
            _print(dev_id, where, await _read_one(device))
        except ReadError as exc:
            print(f"{dev_id}  {where}\n  error: {exc}")
            failed += 1
    return 1 if failed else 0


async def _serve(args: argparse.Namespace) -> int:
    from hub_engine.devices.template import load_template
    from hub_engine.sim.modbus_server import RegisterServer, template_tables

    template = load_template(args.template)
    values: dict[str, tuple[float, ...]] = {}
    for item in args.set:
        name, _, text = item.partition("=")
        try:
            values[name] = tuple(float(x) for x in text.split(","))
        except ValueError:
            raise ConfigError(f"--set {name}", Text("got {value!r}, expected numbers",
                                                    value=text)) from None
    tables = template_tables(template, values)
    server = RegisterServer(lambda unit: tables, units=(args.unit,), host="127.0.0.1",
                            port=args.port)
    await server.start()
    print(f"serving {template.name} on 127.0.0.1:{args.port} unit {args.unit}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await server.stop()
    return 0


def run(args: argparse.Namespace) -> int:
    if args.verb == "read":
        return asyncio.run(_read(args))
    return asyncio.run(_serve(args))
