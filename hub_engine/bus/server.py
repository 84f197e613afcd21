"""The engine's side of the bus: PUB for events and states, ROUTER for commands.

On ``ipc://`` sockets in the data folder by default (mode 0660: the hub's group, i.e.
Node-RED's user), or the endpoints of ``bus:``. Commands carry an API token and go
through the same roles and the same command layer as REST: raw charging profiles and
the configuration keys the hub owns stay out of reach, and what a flow asks of the EMS
has an expiry. Every published message has a sequence number; ``state.snapshot`` gives
the last state of every ``state.*`` topic with the sequence it was taken at, for a
subscriber that joined late or saw a gap.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections import OrderedDict
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import zmq
import zmq.asyncio

from hub_engine import live
from hub_engine.bus.envelope import BusError, Command, Envelope, decode_command
from hub_engine.clock import Clock, SystemClock, parse_iso
from hub_engine.config import HubConfig
from hub_engine.ems.external import MAX_DURATION_S, LimitRequest
from hub_engine.errors import CommandError
from hub_engine.logs import escape
from hub_engine.ocpp.commands import COMMANDS
from hub_engine.plans import PlanRefused, clear_plan, set_plan
from hub_engine.tasks import cancel_and_wait

if TYPE_CHECKING:
    from hub_engine.api.accounts import Accounts, Principal
    from hub_engine.ems.loop import EmsLoop
    from hub_engine.ocpp.commands import CommandService
    from hub_engine.signals.pv_service import PvForecastService
    from hub_engine.store import Store

__all__ = ["BusServer", "endpoints"]

log = logging.getLogger(__name__)
# Charge point events that are also alerts.
_ALERTS = {"disconnected": "cp.offline", "reading.rejected": "cp.reading_rejected"}
MAX_COMMAND_BYTES = 1 << 20  # the largest real command (a local list) is a few kB
_RANK = {"reader": 0, "operator": 1, "admin": 2}
_ROLES = {"ping": "reader", "state.snapshot": "reader", "state.live": "reader",
          "ems.limit.set": "operator", "ems.priority.set": "operator",
          "ems.priority.clear": "operator",
          "ems.limit.clear": "operator", "cp.command": "operator",
          "ems.plan.set": "operator", "ems.plan.clear": "operator"}
REPLAYS = 1000


def endpoints(config: HubConfig) -> tuple[str, str]:
    """(events PUB, commands ROUTER) as the engine binds them: what Node-RED must use."""
    data = Path(config.hub.data_dir)
    return (config.bus.pub_endpoint or f"ipc://{data / 'bus-events.sock'}",
            config.bus.router_endpoint or f"ipc://{data / 'bus-commands.sock'}")


class BusServer:
    name = "bus"

    def __init__(self, config: HubConfig, accounts: Accounts) -> None:
        self.config, self.accounts = config, accounts
        self.pub_endpoint, self.router_endpoint = endpoints(config)
        self.ems: EmsLoop | None = None
        self.pv: PvForecastService | None = None  # the panels in state.live
        self.commands: CommandService | None = None
        self.store: Store | None = None
        self.clock: Clock = SystemClock()
        self.seq = 0
        self.states: dict[str, dict[str, Any]] = {}
        self._replies: OrderedDict[str, bytes] = OrderedDict()
        self._ctx: zmq.asyncio.Context | None = None
        self._pub: Any = None
        self._router: Any = None
        self._task: asyncio.Task[None] | None = None
        self._work: set[asyncio.Task[Any]] = set()

    # -- publishing (called on the engine's loop) ------------------------------------------
    def publish(self, topic: str, kind: str, data: dict[str, Any]) -> None:
        if self._pub is None:
            return
        self.seq += 1
        if kind == "state":
            self.states[topic] = {"seq": self.seq, "data": data}
        msg = Envelope(kind, data, seq=self.seq)  # type: ignore[arg-type]
        with contextlib.suppress(zmq.Again):  # past the high-water mark: the seq shows it
            self._pub.send_multipart([topic.encode(), msg.to_json()], flags=zmq.NOBLOCK)

    def on_ocpp_event(self, cp_id: str, topic: str, data: dict[str, Any]) -> None:
        self.publish(f"event.cp.{cp_id}.{topic}", "event", data)
        alert = _ALERTS.get(topic)  # worth an alert: off the network, a broken meter
        if alert is not None:
            self.on_alert(alert, cp_id, dict(data))

    def on_ems_record(self, record: dict[str, Any]) -> None:
        summary = {"time": record.get("time"), "cycle_ms": record.get("cycle_ms"),
                   "nodes": record.get("nodes", []),
                   "connectors": [{k: c.get(k) for k in ("id", "limit_a", "limit_w",
                                                          "reason")}
                                  for c in record.get("connectors", [])],
                   "external_limits": record.get("external_limits", []),
                   "solar": record.get("solar", {})}
        self.publish("state.ems.site", "state", summary)

    def on_alert(self, kind: str, target: str, data: dict[str, object]) -> None:
        self.publish(f"alert.{kind}", "alert", {"target": target, **data})

    def on_alert_change(self, what: str, alert: dict[str, Any]) -> None:
        """An alert raised, cleared or acknowledged (``alerts.raised``…): for webhooks, SMS."""
        self.publish(f"alerts.{what}", "alert", {**alert, "message": str(alert["message"])})

    # -- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        self._ctx = zmq.asyncio.Context()
        self._pub = self._ctx.socket(zmq.PUB)
        self._pub.setsockopt(zmq.SNDHWM, 10000)
        self._pub.setsockopt(zmq.LINGER, 0)
        self._pub.bind(self.pub_endpoint)
        self._router = self._ctx.socket(zmq.ROUTER)
        self._router.setsockopt(zmq.LINGER, 0)
        # Past this ZeroMQ drops the sender's connection before the message is held in
        # memory; between MAX_COMMAND_BYTES and it, the sender gets a "too_large" answer.
        self._router.setsockopt(zmq.MAXMSGSIZE, 16 * MAX_COMMAND_BYTES)
        self._router.bind(self.router_endpoint)
        for endpoint in (self.pub_endpoint, self.router_endpoint):
            if endpoint.startswith("ipc://"):
                os.chmod(endpoint[len("ipc://"):], 0o660)
        self._task = asyncio.create_task(self._serve(), name="bus")
        log.info("bus: events on %s, commands on %s", self.pub_endpoint, self.router_endpoint)

    async def stop(self) -> None:
        await cancel_and_wait(self._task, *self._work)
        for sock in (self._pub, self._router):
            if sock is not None:
                sock.close(0)
        self._pub = self._router = None
        if self._ctx is not None:
            self._ctx.term()

    # -- commands ------------------------------------------------------------------------
    async def _serve(self) -> None:
        while True:
            frames = await self._router.recv_multipart()
            task = asyncio.create_task(self._answer(frames[0], frames[-1]))
            self._work.add(task)
            task.add_done_callback(self._work.discard)

    async def _answer(self, client: bytes, raw: bytes) -> None:
        try:
            if len(raw) > MAX_COMMAND_BYTES:
                raise BusError("too_large", f"a command of {len(raw)} bytes: the limit is "
                                            f"{MAX_COMMAND_BYTES}")
            cmd = decode_command(raw)
        except BusError as exc:
            reply = Envelope("error", {"code": exc.code, "message": str(exc)}).to_json()
            await self._router.send_multipart([client, reply])
            return
        cached = self._replies.get(cmd.id)
        if cached is None:  # a retried command id gets the first answer, not a second run
            cached = await self._run(cmd)
            self._replies[cmd.id] = cached
            while len(self._replies) > REPLAYS:
                self._replies.popitem(last=False)
        await self._router.send_multipart([client, cached])

    async def _run(self, cmd: Command) -> bytes:
        try:
            who = await asyncio.to_thread(self.accounts.principal, cmd.token)
            if who is None:
                raise BusError("unauthorized", "a valid API token is required")
            need = _ROLES.get(cmd.command)
            if need is None:
                raise BusError("unknown_command", f"no command {cmd.command!r}; known: "
                               f"{', '.join(sorted(_ROLES))}")
            if _RANK[who.role] < _RANK[need]:
                raise BusError("forbidden", f"{cmd.command} needs the {need} role")
            data = await self._dispatch(cmd, who)
            return Envelope("reply", data, id=cmd.id, seq=self.seq).to_json()
        except (BusError, CommandError) as exc:
            code = exc.code if isinstance(exc, BusError) else "refused"
            return Envelope("error", {"code": code, "message": str(exc)}, id=cmd.id,
                            seq=self.seq).to_json()
        except Exception:  # a client waits for an answer: it gets one, the hub goes on
            log.exception("bus: command %s failed", escape(cmd.command))
            return Envelope("error", {"code": "internal",
                                      "message": "internal error (logged by the hub)"},
                            id=cmd.id, seq=self.seq).to_json()

    async def _dispatch(self, cmd: Command, who: Principal) -> dict[str, Any]:
        args = cmd.args
        if cmd.command == "ping":
            return {"pong": True, "seq": self.seq}
        if cmd.command == "state.snapshot":
            return {"seq": self.seq, "states": dict(self.states)}
        if cmd.command == "state.live":
            return await self._live(bool(args.get("energy", True)))
        if cmd.command.startswith("ems.limit"):
            return self._limit(cmd.command, args, who)
        if cmd.command.startswith("ems.priority"):
            return self._priority(cmd.command, args, who)
        if cmd.command.startswith("ems.plan"):
            return await self._plan(cmd.command, args, who)
        name = str(args.get("name", ""))
        spec = COMMANDS.get(name)
        if spec is None or spec.role == "engine":
            raise BusError("unknown_command", f"no charge point command {name!r}")
        if self.commands is None:
            raise BusError("unavailable", "the OCPP server is not running")
        params = args.get("params", {})
        if not isinstance(params, dict):
            raise BusError("bad_args", "params: an object is required")
        result = await self.commands.run(str(args.get("charge_point", "")), name, params,
                                         who.role)
        return {"outcome": result.outcome, "status": result.status, "error": result.error}

    async def _live(self, energy: bool) -> dict[str, Any]:
        if self.store is None:
            raise BusError("unavailable", "the store is not open")
        got, store = live.gather(self.ems, self.pv), self.store
        now = self.clock.now()
        # The reads run on a worker thread (its own connection): the loop keeps cycling.
        def compose() -> dict[str, Any]:
            today = live.energy_today_wh(self.config, store.read, now) if energy else None
            return live.compose(self.config, got, store.read, now, energy, today)
        return await asyncio.to_thread(compose)

    async def _plan(self, command: str, args: dict[str, Any], who: Principal
                    ) -> dict[str, Any]:
        """A session's departure plan (hub_engine.plans): set or withdrawn."""
        if self.ems is None or self.store is None:
            raise BusError("unavailable", "the EMS is not running")
        session = args.get("session")
        if isinstance(session, bool) or not isinstance(session, int):
            raise BusError("bad_args", "session: the session's (transaction's) id")
        try:
            if command.endswith(".clear"):
                await clear_plan(self.store, self.ems, session)
                return {"session": session, "cleared": True}
            departure = parse_iso(str(args.get("departure", "")))
            energy_wh = args.get("energy_wh")
            if departure is None:
                raise BusError("bad_args", "departure: an ISO 8601 time with its timezone")
            if isinstance(energy_wh, bool) or not isinstance(energy_wh, (int, float)):
                raise BusError("bad_args", "energy_wh: a number is expected")
            return await set_plan(self.store, self.ems, session, departure, float(energy_wh),
                                  str(args.get("source") or f"bus:{who.name}"))
        except PlanRefused as e:
            raise BusError("bad_args" if e.status == 422 else "refused", str(e)) from None

    def _ems_request(self, command: str, args: dict[str, Any], who: Principal
                     ) -> tuple[EmsLoop, str, str, float | None]:
        """What a limit and a priority request share: the EMS, target, source and the
        mandatory expiry (None for a ``.clear``)."""
        if self.ems is None:
            raise BusError("unavailable", "the EMS is not running")
        source = str(args.get("source") or f"bus:{who.name}")
        target = str(args.get("target", ""))
        if command.endswith(".clear"):
            return self.ems, target, source, None
        expires_in = args.get("expires_in_s")
        if not isinstance(expires_in, (int, float)) or isinstance(expires_in, bool) or not (
                0 < expires_in <= MAX_DURATION_S):
            raise BusError("bad_args", "expires_in_s: a mandatory expiry in seconds, "
                           f"up to {MAX_DURATION_S:.0f}")
        return self.ems, target, source, float(expires_in)

    def _priority(self, command: str, args: dict[str, Any], who: Principal
                  ) -> dict[str, Any]:
        ems, target, source, expires_in = self._ems_request(command, args, who)
        if expires_in is None:
            done = ems.priorities.clear(target, source)
            ems.wake()
            return {"cleared": done}
        tier = args.get("tier")
        if isinstance(tier, bool) or not isinstance(tier, int):
            raise BusError("bad_args", "tier: an integer from 1 to 9")
        ems.priorities.set(target, source, tier, expires_in)
        ems.wake()
        return {"target": target, "source": source, "tier": tier,
                "expires_in_s": args["expires_in_s"]}

    def _limit(self, command: str, args: dict[str, Any], who: Principal) -> dict[str, Any]:
        ems, target, source, expires_in = self._ems_request(command, args, who)
        if expires_in is None:
            done = ems.external.clear(target, source)
            ems.wake()
            return {"cleared": done}
        numbers = {}
        for key in ("limit_a", "limit_w", "fallback_a", "fallback_w"):
            value = args.get(key)
            if value is not None and (not isinstance(value, (int, float))
                                      or isinstance(value, bool)):
                raise BusError("bad_args", f"{key}: a number is expected")
            numbers[key] = float(value) if value is not None else None
        on_expiry = args.get("on_expiry", "release")
        if on_expiry not in ("release", "hold"):
            raise BusError("bad_args", "on_expiry: release or hold")
        req = LimitRequest(target=target, source=source, on_expiry=on_expiry,
                           expires_at=ems.clock.now() + timedelta(seconds=expires_in),
                           **numbers)
        ems.external.set(req)
        ems.wake()
        return {"target": target, "source": source, "expires_in_s": args["expires_in_s"]}
