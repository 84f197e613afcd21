"""Access control: members, badges, time windows, energy credit, local lists.

:mod:`.policy` decides (pure), :mod:`.service` runs it in the hub, :mod:`.local_lists`
keeps the charge points' offline lists, :mod:`.csvio` imports and exports."""

from hub_engine.access.policy import Badge, Decision, Member, Window, decide
from hub_engine.access.service import AccessService

__all__ = ["AccessService", "Badge", "Decision", "Member", "Window", "decide"]
