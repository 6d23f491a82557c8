"""An approved ``add_to_tray`` proposal, carried out: the forge tray is the window's,
not the space's, so the app fills it here once the person approved the proposal (the
approval itself is recorded through the door, like any other)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from PySide6.QtWidgets import QDockWidget

from studio.core import chat_commands as cc
from studio.core.commands import command_from_json
from studio.core.errors import StudioError
from studio.ui.tray.widget import ForgeTray


class TrayWindow(Protocol):
    tray: ForgeTray
    tray_dock: QDockWidget


def tray_fills(commands: Iterable[Mapping[str, Any]]) -> list[cc.FillTray]:
    """The tray fills among a proposal's commands (JSON)."""
    out = []
    for raw in commands:
        try:
            cmd = command_from_json(raw)
        except StudioError:
            continue  # the door checked them; an older or foreign one is skipped
        if isinstance(cmd, cc.FillTray):
            out.append(cmd)
    return out


def fill_tray(tray: ForgeTray, fill: cc.FillTray) -> None:
    """Start from the recipe (if any), then set the mode, the prompt, the destination
    and the references — each only when the fill names it; references given replace
    the tray's. Something gone since the proposal is said by the tray, in words."""
    if fill.recipe_variant_id:
        tray.fill_from_recipe(fill.recipe_variant_id)
    if fill.mode:
        tray.mode.setCurrentIndex(max(0, tray.mode.findData(fill.mode)))
    if fill.prompt.strip():
        tray.prompt.setPlainText(fill.prompt)
    if fill.destination_asset_id:
        tray.set_destination(fill.destination_asset_id)
    elif not fill.recipe_variant_id:
        tray.set_destination(None)
    if fill.references or not fill.recipe_variant_id:
        while tray.references():
            tray.remove_reference(len(tray.references()) - 1)
        tray.add_references(list(fill.references))


def fill_window_tray(window: TrayWindow, fill: cc.FillTray) -> None:
    """Fill the window's tray and bring it into sight, the prompt focused."""
    window.tray_dock.show()
    window.tray_dock.raise_()
    fill_tray(window.tray, fill)
    window.tray.prompt.setFocus()
