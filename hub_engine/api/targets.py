"""Which charge points an operation is for, as its request says: listed, of a model, or
under a node of the site tree (firmware campaigns, configuration keys)."""

from __future__ import annotations

from typing import Any

from hub_engine.api.errors import ApiError
from hub_engine.api.security import ctx
from hub_engine.i18n import Text

__all__ = ["targets"]


def targets(body: dict[str, Any]) -> tuple[str, ...]:
    """The charge points it is for: listed, of a model, or under a node."""
    c = ctx()
    given = [k for k in ("charge_points", "model", "node") if body.get(k)]
    if len(given) != 1:
        raise ApiError(422, Text("give one of charge_points, model or node"))
    if body.get("charge_points"):
        return tuple(body["charge_points"])
    if body.get("model"):
        rows = c.rows("SELECT id FROM charge_points WHERE model = ? AND registration = "
                      "'accepted' ORDER BY id", (body["model"],))
        if not rows:
            raise ApiError(422, Text("model: no charge point of model {model!r}",
                                     model=body["model"]))
        return tuple(r[0] for r in rows)
    for site in c.config.sites:
        found = _under(site.grid, body["node"])
        if found is not None:
            return found
    raise ApiError(422, Text("node: no node {node!r}", node=body["node"]))


def _under(node: Any, node_id: str) -> tuple[str, ...] | None:
    if node.id == node_id:
        return tuple(cp.id for cp in _all(node))
    for child in node.children:
        found = _under(child, node_id)
        if found is not None:
            return found
    return None


def _all(node: Any) -> list[Any]:
    return [*node.charge_points, *(cp for child in node.children for cp in _all(child))]
