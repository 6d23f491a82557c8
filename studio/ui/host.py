"""What the canvas (and other views) may ask of the window that hosts them.

Views never touch the database or apply commands themselves: they ask the host, which
applies commands through the undo stack (one undoable step per call), reports errors
in words, and runs imports off the UI thread.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

from studio.core.commands import Command
from studio.core.space import Space


class CanvasHost(Protocol):
    @property
    def space(self) -> Space | None: ...

    def run(self, cmds: Sequence[Command], text: str) -> bool:
        """Apply ``cmds`` as one undoable step named ``text``. False (and an error shown
        to the user) if it was refused; then nothing changed."""

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        """Import files at a canvas position (a grid for several), off the UI thread;
        refused files are reported in one non-modal message, the rest go in."""

    def open_details(self, asset_id: str) -> None:
        """Show the asset in the inspector / details view."""

    def show_error(self, message: str) -> None:
        """A non-modal message to the user."""


class StudioHost(CanvasHost, Protocol):
    """The window as the forge tray, details, jobs panel and preferences see it."""

    def add_to_tray(self, variant_ids: Sequence[str]) -> None:
        """Put these exact variants into the forge tray's reference slots."""

    def use_recipe(self, variant_id: str) -> None:
        """Fill the forge tray from this variant's stored recipe."""

    def show_asset(self, asset_id: str) -> None:
        """Select the asset on the canvas, centre on it, and show its details."""

    def open_preferences(self, page: str = "") -> None:
        """Open the preferences (``page``: e.g. "keys" to land on the provider keys)."""

    def fetch_original(self, variant_id: str, ready: Callable[[], None]) -> bool:
        """A joined space: start fetching a variant's original from its host and call
        ``ready`` once it is here. False when there is nothing to fetch it from."""
