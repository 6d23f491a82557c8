"""What can be done to variants from the details views: the right-click menu, the action
bar under the grid, and the code behind both. Every change goes through
``host.run`` as one undoable step; the core's refusal reaches the user through the host.

Star, rate, delete and "add to tray" act on all selected variants; the rest on the
current one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import commands as c
from studio.core.space import Space
from studio.store.records import AssetRow, VariantRow
from studio.ui.details.file_out import ask_convert, ask_export
from studio.ui.file_jobs import start_file_job
from studio.ui.folders import FolderMemory, show_folder, system_open
from studio.ui.host import StudioHost

if TYPE_CHECKING:
    from studio.core.repair import Repaired

GENERATED = ("generate", "derive", "refine")


def open_folder(path: Path) -> bool:
    """Show a folder in the system's file manager (tests replace this)."""
    return system_open(path)


class VariantActions(QObject):
    """Builds the actions for the variants chosen in a grid and runs them.

    ``compare_requested(variant_ids)`` is emitted by "Compare selected" (2+ chosen).
    """

    compare_requested = Signal(list)

    def __init__(self, host: StudioHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.asset: AssetRow | None = None
        self.rows: list[VariantRow] = []  # every variant of the asset, in grid order
        self.chosen: list[VariantRow] = []  # the selection (current first)
        self.recipes: dict[str, str] = {}  # variant id -> recipe operation

    # ------------------------------------------------------------------ state
    def set_context(
        self,
        asset: AssetRow | None,
        rows: Sequence[VariantRow],
        chosen_ids: Sequence[str],
        current_id: str | None,
        operations: dict[str, str] | None = None,
    ) -> None:
        self.asset = asset
        self.rows = list(rows)
        by_id = {r.id: r for r in rows}
        order = ([current_id] if current_id else []) + [v for v in chosen_ids if v != current_id]
        self.chosen = [by_id[v] for v in order if v in by_id]
        if operations is not None:
            self.recipes = operations

    @property
    def current(self) -> VariantRow | None:
        return self.chosen[0] if self.chosen else None

    def _space(self) -> Space | None:
        return self.host.space

    def available(self) -> dict[str, bool]:
        """Which actions make sense for the current choice."""
        cur = self.current
        chosen = self.chosen
        active = self.asset.active_variant_id if self.asset else None
        done = cur is not None and cur.status == "completed"
        generated = cur is not None and self.recipes.get(cur.id) in GENERATED
        return {
            "set_active": cur is not None and cur.id != active and cur.status != "failed",
            "star": any(not r.starred for r in chosen),
            "unstar": any(r.starred for r in chosen),
            "approve": any(r.rating != "approved" for r in chosen),
            "reject": any(r.rating != "rejected" for r in chosen),
            "clear_rating": any(r.rating for r in chosen),
            "retry": cur is not None and cur.status == "failed" and generated,
            "regenerate": done and generated,
            "fork": done,
            "tray": any(r.status == "completed" for r in chosen),
            "use_recipe": cur is not None and generated,
            "export": done and bool(cur and cur.media_path),
            "convert": done and bool(cur and cur.media_path),
            "reveal": cur is not None,
            "previews": done
            and bool(cur and cur.media_path and (cur.thumb_path or cur.poster_path))
            and (space := self._space()) is not None
            and not space.is_replica,
            "delete": bool(chosen) and len(chosen) < len(self.rows),
            "compare": len(chosen) >= 2,
        }

    # ------------------------------------------------------------------ actions
    def set_active(self) -> bool:
        cur, asset = self.current, self.asset
        if cur is None or asset is None:
            return False
        return self.host.run([c.SetActiveVariant(asset.id, cur.id)], "Set active variant")

    def star(self, starred: bool = True) -> bool:
        cmds = [c.StarVariant(r.id, starred) for r in self.chosen if bool(r.starred) != starred]
        noun = "variant" if len(cmds) == 1 else "variants"
        text = f"{'Star' if starred else 'Unstar'} {noun}"
        return bool(cmds) and self.host.run(cmds, text)

    def rate(self, rating: c.Rating) -> bool:
        want = None if rating is c.Rating.NONE else rating.value
        cmds = [c.RateVariant(r.id, rating) for r in self.chosen if r.rating != want]
        text = {
            c.Rating.APPROVED: "Approve variant",
            c.Rating.REJECTED: "Reject variant",
            c.Rating.NONE: "Clear rating",
        }[rating]
        return bool(cmds) and self.host.run(cmds, text + ("s" if len(cmds) > 1 else ""))

    def delete(self) -> bool:
        cmds = [c.DeleteVariant(r.id) for r in self.chosen]
        text = "Delete variant" if len(cmds) == 1 else f"Delete {len(cmds)} variants"
        return bool(cmds) and self.host.run(cmds, text)

    def retry(self) -> bool:
        cur = self.current
        return cur is not None and self.host.run([c.RetryVariant(cur.id)], "Retry variant")

    def regenerate(self, keep_seed: bool = False) -> bool:
        cur = self.current
        if cur is None:
            return False
        text = "Regenerate variant" + (" (same seed)" if keep_seed else "")
        return self.host.run([c.RegenerateVariant(cur.id, keep_seed=keep_seed)], text)

    def fork(self) -> bool:
        cur = self.current
        return cur is not None and self.host.run([c.ForkVariant(cur.id)], "Fork to new asset")

    def add_to_tray(self) -> None:
        ids = [r.id for r in self.chosen if r.status == "completed"]
        if ids:
            self.host.add_to_tray(ids)

    def use_recipe(self) -> None:
        if self.current is not None:
            self.host.use_recipe(self.current.id)

    def export(self) -> Path | None:
        """Ask where, then write the original there with its provenance embedded."""
        cur, asset, space = self.current, self.asset, self._space()
        if cur is None or asset is None or space is None or not cur.media_path:
            return None
        index = next((i for i, r in enumerate(self.rows, 1) if r.id == cur.id), 1)
        folders: FolderMemory | None = getattr(self.host, "folders", None)
        return ask_export(
            self.parent_widget, space, asset, cur, index, self.host.show_error, folders
        )

    def convert(self) -> Path | None:
        """Ask for a format and a place, then write a converted copy."""
        cur, asset, space = self.current, self.asset, self._space()
        if cur is None or asset is None or space is None:
            return None
        folders: FolderMemory | None = getattr(self.host, "folders", None)
        return ask_convert(self.parent_widget, space, asset, cur, self.host.show_error, folders)

    def reveal(self) -> bool:
        cur, asset, space = self.current, self.asset, self._space()
        if cur is None or asset is None or space is None:
            return False
        if cur.media_path:
            folder = (space.media_dir / cur.media_path).parent
        else:
            folder = space.media_dir / asset.slug / cur.id
        if not folder.is_dir():
            folder = space.media_dir / asset.slug
        if not folder.is_dir():
            self.host.show_error("This variant has no files on disk yet.")
            return False
        return show_folder(self.parent_widget, folder, lambda p: open_folder(p))

    def remake_previews(self) -> None:
        """Make the current variant's thumbnail (with its tiers) and poster again from its
        original, off the UI thread; the canvas and this panel show the new ones."""
        # not at import: the door's handlers it uses stay out of the first frame's imports
        from studio.core.repair import remake_variant_previews

        cur, asset, space = self.current, self.asset, self._space()
        if cur is None or asset is None or space is None:
            return
        vid, aid = cur.id, asset.id

        def done(result: Repaired) -> None:
            if self._space() is not space:
                return  # another space is open now: nothing here shows those files
            if result.error is not None:
                self.host.show_error(f"Could not make the previews again: {result.error}.")
                return
            made = [str(space.media_dir / rel) for rel in result.files]
            scene = getattr(self.host, "scene", None)
            if scene is not None:  # the cards decode the new files
                scene.thumbs.forget(made)
                scene.update()
            self.host.open_details(aid)  # this panel shows them (the view stays put)

        start_file_job(
            self.parent_widget,
            "Making previews again…",
            lambda _progress: remake_variant_previews(space, vid),
            done,
            lambda message: self.host.show_error(f"Could not make the previews again: {message}"),
        )

    # ------------------------------------------------------------------ menus
    def entries(self) -> list[tuple[str, str, Callable[[], object]] | None]:
        """(key, label, slot) in menu order; None is a separator."""
        cur = self.current
        many = len(self.chosen) > 1
        n = f" {len(self.chosen)}" if many else ""
        return (
            [
                ("set_active", "Set active", self.set_active),
                None,
                ("star", f"Star{n}", lambda: self.star(True)),
                ("unstar", f"Unstar{n}", lambda: self.star(False)),
                ("approve", f"Approve{n}", lambda: self.rate(c.Rating.APPROVED)),
                ("reject", f"Reject{n}", lambda: self.rate(c.Rating.REJECTED)),
                ("clear_rating", "Clear rating", lambda: self.rate(c.Rating.NONE)),
                None,
                ("retry", "Retry", self.retry),
                ("regenerate", "Regenerate", self.regenerate),
                ("fork", "Fork to new asset", self.fork),
                ("use_recipe", "Use this recipe", self.use_recipe),
                ("tray", "Add to tray", self.add_to_tray),
                ("compare", f"Compare{n} side by side", self._compare),
                None,
                ("export", "Export file…", self.export),
                ("convert", "Export as…", self.convert),
                ("reveal", "Reveal in file manager", self.reveal),
                ("previews", "Make previews again", self.remake_previews),
                None,
                ("delete", f"Delete{n}" if many else "Delete variant", self.delete),
            ]
            if cur is not None
            else []
        )

    def _compare(self) -> None:
        self.compare_requested.emit([r.id for r in self.chosen])

    def build_menu(self, parent: QWidget | None = None) -> QMenu:
        menu = QMenu(parent or self.parent_widget)
        self.fill_menu(menu)
        return menu

    def fill_menu(self, menu: QMenu) -> None:
        ok = self.available()
        last_sep = True
        for entry in self.entries():
            if entry is None:
                if not last_sep:
                    menu.addSeparator()
                last_sep = True
                continue
            key, label, slot = entry
            if not ok.get(key, False):
                continue
            action = menu.addAction(label)
            action.setObjectName(key)
            action.triggered.connect(lambda _=False, s=slot: s())
            last_sep = False

    def trigger(self, key: str) -> object:
        """Run the action ``key`` (as the menu would); tests use this."""
        for entry in self.entries():
            if entry is not None and entry[0] == key:
                if not self.available().get(key, False):
                    raise RuntimeError(f"{key} is not available for this choice")
                return entry[2]()
        raise KeyError(key)


class ActionBar(QWidget):
    """The buttons under the grid: the frequent actions, and ⋯ for the whole menu.
    ★, ✓ and ✗ are toggles: lit when every chosen variant is starred / approved /
    rejected, and a click on a lit one takes it back."""

    BUTTONS = (
        ("set_active", "Set active", "Make this the asset's active variant"),
        ("star", "★", "Star (click again to unstar)"),
        ("approve", "✓", "Approve (click again to clear)"),
        ("reject", "✗", "Reject (click again to clear)"),
        ("retry", "Retry", "Run this failed variant again"),
        ("regenerate", "Regenerate", "A new variant from this one's recipe"),
        ("tray", "+ Tray", "Add to the forge tray"),
    )
    TOGGLE_COLOURS = {"star": "#f2c14e", "approve": "#4cc38a", "reject": "#e06c6c"}

    def __init__(
        self, actions: VariantActions, parent: QWidget | None = None, *, two_rows: bool = False
    ) -> None:
        super().__init__(parent)
        self.variant_actions = actions
        rows = QVBoxLayout(self)
        rows.setContentsMargins(0, 0, 0, 0)
        rows.setSpacing(2)
        row = first = QHBoxLayout()
        second = QHBoxLayout() if two_rows else first
        for r in (first, second):
            r.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for key, text, tip in self.BUTTONS:
            if key == "retry":
                row = second
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            if key in self.TOGGLE_COLOURS:
                b.setCheckable(True)
                b.setStyleSheet(
                    f"QToolButton:checked {{ color: {self.TOGGLE_COLOURS[key]};"
                    " font-weight: bold; }"
                )
            b.clicked.connect(lambda _=False, k=key: self._clicked(k))
            row.addWidget(b)
            self.buttons[key] = b
        first.addStretch(1)
        if second is not first:
            second.addStretch(1)
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setToolTip("All actions for the selected variants")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.more.setMenu(QMenu(self.more))
        self.more.menu().aboutToShow.connect(self._fill_menu)
        first.addWidget(self.more)
        rows.addLayout(first)
        if second is not first:
            rows.addLayout(second)
        self.refresh()

    def _lit(self) -> dict[str, bool]:
        chosen = self.variant_actions.chosen
        return {
            "star": bool(chosen) and all(r.starred for r in chosen),
            "approve": bool(chosen) and all(r.rating == "approved" for r in chosen),
            "reject": bool(chosen) and all(r.rating == "rejected" for r in chosen),
        }

    def _clicked(self, key: str) -> None:
        lit = self._lit()
        a = self.variant_actions
        if key == "star":
            a.star(not lit["star"])
        elif key in ("approve", "reject"):
            want = c.Rating.APPROVED if key == "approve" else c.Rating.REJECTED
            a.rate(c.Rating.NONE if lit[key] else want)
        else:
            a.trigger(key)
        self.refresh()

    def _fill_menu(self) -> None:
        menu = self.more.menu()
        menu.clear()
        self.variant_actions.fill_menu(menu)

    def refresh(self) -> None:
        ok = self.variant_actions.available()
        lit = self._lit()
        chosen = bool(self.variant_actions.chosen)
        for key, b in self.buttons.items():
            if key in lit:
                b.setVisible(True)
                b.setEnabled(chosen)
                b.setChecked(lit[key])
            else:
                b.setVisible(ok.get(key, False) or key == "set_active")
                b.setEnabled(ok.get(key, False))
        self.more.setEnabled(self.variant_actions.current is not None)
