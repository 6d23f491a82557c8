"""The forge tray: where references, a prompt, a mode and a destination become one
generate / fork / derive / refine request (DESIGN.md, "Operations (the forge)").

- ``state``: the tray as plain data, its verdict (operation label or the reason it
  can't run), the core command it becomes, the options remembered per space (no Qt).
- ``lookup``: what the tray reads from its space (slots, recipes, events; no Qt).
- ``slots``: the reference slots strip; ``options``: the options row built from the
  provider's capabilities; ``bar``: the main row's widgets; ``widget``: ``ForgeTray``.

``from studio.ui.tray import ForgeTray`` imports the widget lazily, so the Qt-free
modules stay importable (and testable) without building any Qt object.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from studio.ui.tray.widget import ForgeTray

__all__ = ["ForgeTray"]


def __getattr__(name: str) -> Any:
    if name == "ForgeTray":
        from studio.ui.tray.widget import ForgeTray

        return ForgeTray
    raise AttributeError(name)
