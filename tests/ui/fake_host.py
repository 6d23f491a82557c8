"""A real-enough host for widget tests: commands go through a QUndoStack onto a real
Space; everything else is recorded."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from PySide6.QtGui import QUndoStack

from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.space import Space
from studio.ui.undo import push
from tests.conftest import OWNER


class FakeHost:
    def __init__(self, space: Space | None, actor: Actor = OWNER) -> None:
        self._space = space
        self.actor = actor
        self.stack = QUndoStack()
        self.errors: list[str] = []
        self.tray: list[str] = []
        self.recipes: list[str] = []
        self.shown: list[str] = []
        self.details: list[str] = []
        self.imports: list[tuple[list[Path], tuple[float, float], str | None]] = []
        self.preferences: list[str] = []
        self.fetches: list[str] = []

    @property
    def space(self) -> Space | None:
        return self._space

    def run(self, cmds: Sequence[Command], text: str) -> bool:
        if self._space is None:
            self.errors.append("Open a space first.")
            return False
        return (
            push(self.stack, self._space, self.actor, list(cmds), text, self.errors.append)
            is not None
        )

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        self.imports.append((list(paths), at, into))

    def open_details(self, asset_id: str) -> None:
        self.details.append(asset_id)

    def show_error(self, message: str) -> None:
        self.errors.append(message)

    def add_to_tray(self, variant_ids: Sequence[str]) -> None:
        self.tray.extend(variant_ids)

    def use_recipe(self, variant_id: str) -> None:
        self.recipes.append(variant_id)

    def show_asset(self, asset_id: str) -> None:
        self.shown.append(asset_id)

    def open_preferences(self, page: str = "") -> None:
        self.preferences.append(page)

    def fetch_original(self, variant_id: str, ready: Callable[[], None]) -> bool:
        self.fetches.append(variant_id)
        return False
