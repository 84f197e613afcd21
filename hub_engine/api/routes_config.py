"""The configuration (``hub.yaml``) from the UI: read it, validate and save a new version
with its author, read the history. A saved version is checked exactly as at start
(errors name the key path) and applies at the next start of the engine: the site tree
the EMS protects is never swapped under a running cycle. Limits that must change now
go through ``/ems/limits``."""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path
from typing import Any

from apiflask import APIBlueprint

from hub_engine.api.errors import ApiError, said
from hub_engine.api.schemas import ConfigHistoryOut, ConfigIn, ConfigOut, ConfigSavedOut
from hub_engine.api.security import auth, ctx, principal
from hub_engine.clock import iso_utc
from hub_engine.config import parse_config
from hub_engine.errors import ConfigError
from hub_engine.i18n import message_of
from hub_engine.typed import ConfigErrors

__all__ = ["bp"]

bp = APIBlueprint("config", __name__, url_prefix="/api/v1", tag="Configuration")


def _source() -> tuple[str, Path | None]:
    """The text the engine runs on now, and the file it came from (None: the demo)."""
    path = ctx().config_path
    if path is None:
        return (resources.files("hub_engine.sim").joinpath("sites/office.yaml")
                .read_text("utf-8"), None)
    return Path(path).read_text("utf-8"), Path(path)


def _target() -> Path:
    """Where a new version goes: the file in use, or data_dir/hub.yaml for the demo."""
    path = ctx().config_path
    return Path(path) if path is not None else Path(ctx().config.hub.data_dir) / "hub.yaml"


@bp.get("/config")
@bp.auth_required(auth, roles=["admin"])
@bp.output(ConfigOut)
@bp.doc(summary="The configuration in force (YAML) and where it is kept")
def config() -> Any:
    text, path = _source()
    return {"text": text, "source": str(path) if path else "<embedded demo>",
            "saves_to": str(_target())}


@bp.put("/config")
@bp.auth_required(auth, roles=["admin"])
@bp.input(ConfigIn, arg_name="body")
@bp.output(ConfigSavedOut)
@bp.doc(summary="Validate and save a new configuration (applies at the next start)",
        responses=[200, 422])
def save(body: dict[str, Any]) -> Any:
    c, who = ctx(), principal()
    target = _target()
    try:
        parsed = parse_config(body["text"], source=str(target), base_dir=target.parent, env={})
    except ConfigError as exc:
        every = exc.errors if isinstance(exc, ConfigErrors) else [exc]
        raise ApiError(422, message_of(exc), "invalid_configuration", detail={
            "path": exc.path, "message": said(exc.message),
            "errors": [{"path": e.path, "message": said(e.message)} for e in every]}) from None
    now = iso_utc(c.clock.now())

    def job(db: Any) -> int:
        cur = db.conn.execute("INSERT INTO config_history (ts, author, text) VALUES (?, ?, ?)",
                              (now, who.name, body["text"]))
        return int(cur.lastrowid)
    version = c.store.core.submit(job).result(timeout=30)
    tmp = target.with_suffix(".yaml.new")
    tmp.write_text(body["text"], encoding="utf-8")
    os.replace(tmp, target)  # never a half-written file
    return {"version": version, "saved_to": str(target), "saved_at": now,
            "applies": "at the next start of the engine",
            "warnings": [said(w) for w in parsed.warnings()]}


@bp.get("/config/history")
@bp.auth_required(auth, roles=["admin"])
@bp.output(ConfigHistoryOut(many=True))
@bp.doc(summary="Saved versions, newest first")
def history() -> Any:
    return [{"version": r[0], "saved_at": r[1], "author": r[2], "text": r[3]}
            for r in ctx().rows("SELECT id, ts, author, text FROM config_history"
                                " ORDER BY id DESC LIMIT 100")]
