"""Putting sharing into the main window: the People dock, the banner above the canvas,
the spaces list's "remote" lines, and the Share… / Join… dialogs."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QDockWidget, QVBoxLayout

from studio.store.library import SpaceEntry
from studio.sync import peer
from studio.ui.sharing.controller import SharingController
from studio.ui.sharing.join_dialog import JoinDialog
from studio.ui.sharing.people_panel import PeoplePanel
from studio.ui.sharing.share_dialog import ShareDialog

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

BIND_ENV = "STUDIO_SHARE_BIND"
"""Where the app's hosts listen (default all interfaces; tests use 127.0.0.1)."""


def install(
    window: MainWindow, centre: QVBoxLayout, dock: QDockWidget
) -> tuple[SharingController, PeoplePanel]:
    """The controller and the People panel, put in ``dock`` (the window's, made before
    its layout was restored)."""
    sharing = SharingController(window, bind=os.environ.get(BIND_ENV, "0.0.0.0"))
    centre.insertWidget(0, sharing.banner)
    people = PeoplePanel(sharing)
    people.share.clicked.connect(lambda: open_share(window))
    people.name_of = lambda asset_id: _asset_name(window, asset_id)
    window.view.selection_changed.connect(sharing.presence.selection_changed)
    dock.setWidget(people)
    window.spaces.describe = sharing.describe
    window.spaces.leave = lambda slug: _leave(window, slug)
    return sharing, people


def _asset_name(window: MainWindow, asset_id: str) -> str:
    row = window.scene.asset_row(asset_id)
    return row.name if row is not None else "an asset not on this canvas"


def _leave(window: MainWindow, slug: str) -> None:
    dropped = peer.leave(window.studio, slug)
    window.sharing.reload_remotes()
    if dropped:
        window.statusBar().showMessage(
            f"Left the space; {dropped} change(s) never sent to its host were dropped", 8000
        )


def open_share(window: MainWindow, space_id: str | None = None) -> ShareDialog | None:
    sid = space_id or (window.space.id if window.space is not None else None)
    if sid is None:
        window.show_error("Open the space to share first.")
        return None
    entry = window.studio.resolve(sid)
    if entry.slug in window.sharing.remotes:
        window.show_error(
            f"“{entry.name}” is a copy of a space someone shares with you: only its host can "
            "share it."
        )
        return None
    dialog = ShareDialog(window.sharing, sid, entry.name, window)
    dialog.show()
    return dialog


def open_join(window: MainWindow) -> JoinDialog:
    dialog = JoinDialog(window.sharing, window)

    def joined(entry: SpaceEntry) -> None:
        window.sharing.reload_remotes()
        window.spaces.refresh(entry.id)
        window.open_space(entry.id)

    dialog.joined.connect(joined)
    dialog.show()
    return dialog
