"""Bulk actions on a multi-selection: tag, untag, change type, star, rate, delete, add
to a collection, export files.

Each one is ONE undoable step through the host (``host.run``: one ``apply_step``), and
the status bar then says what was done ("Tagged 12 assets"). Star and rating belong
to variants: a bulk star or rating acts on each card's active variant. Dialogs are
injectable (``ask_text``, ``ask_choice``, ``ask_folder``) so tests can answer them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QFileDialog, QMenu

from studio.core import commands as c
from studio.core import settings
from studio.core.errors import StudioError
from studio.store.records import VariantRow
from studio.ui import file_jobs
from studio.ui.widgets import type_choices

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView
    from studio.ui.folders import FolderMemory

AskText = Callable[[str, str, str], str | None]
AskChoice = Callable[[str, str, list[str], str], str | None]
AskFolder = Callable[[str, Path], Path | None]

NEW_COLLECTION = "New collection…"
ROW = 140.0
"""Cards whose tops are this close count as one row (the order items join a collection)."""
RATING_WORDS = {
    c.Rating.APPROVED: "Approved",
    c.Rating.REJECTED: "Rejected",
    c.Rating.NONE: "Cleared the rating of",
}


def split_tags(text: str) -> list[str]:
    """ "a, b ,, c" -> ["a", "b", "c"] (order kept, duplicates dropped)."""
    out: list[str] = []
    for part in text.split(","):
        tag = " ".join(part.split())
        if tag and tag not in out:
            out.append(tag)
    return out


def assets(n: int) -> str:
    return "1 asset" if n == 1 else f"{n} assets"


def files(n: int) -> str:
    return "1 file" if n == 1 else f"{n} files"


class BulkActions:
    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.status: Callable[[str], None] = lambda _m: None
        """Where "Tagged 12 assets" goes (the window's status bar)."""
        self.folders: FolderMemory | None = None
        """Where the export dialog starts (the window's memory of folders)."""
        self.ask_text: AskText = view.canvas_actions.ask_text
        self.ask_choice: AskChoice = view.canvas_actions.ask_choice
        self.ask_folder: AskFolder = self._ask_folder
        self.job: file_jobs.FileJob | None = None
        """The last export started (tests wait for it)."""

    # ------------------------------------------------------------------ plumbing
    def _ids(self, ids: Sequence[str] | None) -> list[str]:
        scene = self.view.canvas_scene
        chosen = scene.selected_ids() if ids is None else list(ids)
        return [a for a in chosen if scene.asset_row(a) is not None]

    def _run(self, cmds: Sequence[c.Command], done: str) -> bool:
        host = self.view.host
        if host is None or not cmds:
            return False
        if not host.run(list(cmds), done):
            return False
        self.status(done)
        return True

    def _nothing(self, message: str) -> bool:
        self.status(message)
        return False

    def _active(self, ids: Sequence[str]) -> list[VariantRow]:
        """Each card's active variant (cards without one are left out)."""
        out = []
        for aid in ids:
            card = self.view.canvas_scene.card(aid)
            v = card.facts.active if card is not None else None
            if v is not None:
                out.append(v)
        return out

    # ------------------------------------------------------------------ tags and type
    def add_tags(self, ids: Sequence[str] | None = None, tags: Sequence[str] | None = None) -> bool:
        ids = self._ids(ids)
        if not ids:
            return False
        if tags is None:
            text = self.ask_text("Add tags", f"Tags to add to {assets(len(ids))} (commas):", "")
            if text is None:
                return False
            tags = split_tags(text)
        if not tags:
            return False
        cmds: list[c.Command] = []
        for aid in ids:
            row = self.view.canvas_scene.asset_row(aid)
            assert row is not None
            have = list(row.tags)
            new = have + [t for t in tags if t not in have]
            if new != have:
                cmds.append(c.UpdateAsset(aid, tags=tuple(new)))
        if not cmds:
            return self._nothing(f"{assets(len(ids))} already tagged")
        return self._run(cmds, f"Tagged {assets(len(cmds))}")

    def remove_tags(
        self, ids: Sequence[str] | None = None, tags: Sequence[str] | None = None
    ) -> bool:
        ids = self._ids(ids)
        rows = [r for a in ids if (r := self.view.canvas_scene.asset_row(a)) is not None]
        present: list[str] = []
        for row in rows:
            present += [t for t in row.tags if t not in present]
        if not present:
            return self._nothing("No tags to remove")
        if tags is None:
            choice = self.ask_choice("Remove tag", "Tag to remove:", sorted(present), present[0])
            if choice is None:
                return False
            tags = split_tags(choice)
        drop = set(tags)
        cmds: list[c.Command] = [
            c.UpdateAsset(row.id, tags=tuple(t for t in row.tags if t not in drop))
            for row in rows
            if drop & set(row.tags)
        ]
        if not cmds:
            return self._nothing("None of them has that tag")
        return self._run(cmds, f"Untagged {assets(len(cmds))}")

    def set_type(self, ids: Sequence[str] | None = None, type_: str | None = None) -> bool:
        ids = self._ids(ids)
        rows = [r for a in ids if (r := self.view.canvas_scene.asset_row(a)) is not None]
        if not rows:
            return False
        if type_ is None:
            kinds = {r.type for r in rows}
            current = kinds.pop() if len(kinds) == 1 else ""
            # the same list as the details' Type field and the card's "Change type…"
            type_ = self.ask_choice(
                "Change type", f"Type of {assets(len(rows))}:", type_choices(current), current
            )
            if type_ is None:
                return False
        type_ = type_.strip()
        cmds: list[c.Command] = [c.UpdateAsset(r.id, type=type_) for r in rows if r.type != type_]
        if not cmds:
            return self._nothing(f"{assets(len(rows))} already of type “{type_}”")
        return self._run(cmds, f"Set type “{type_}” on {assets(len(cmds))}")

    # ------------------------------------------------------------------ star and rating
    def star(self, ids: Sequence[str] | None = None, starred: bool = True) -> bool:
        active = self._active(self._ids(ids))
        cmds: list[c.Command] = [
            c.StarVariant(v.id, starred) for v in active if bool(v.starred) != starred
        ]
        verb = "Starred" if starred else "Unstarred"
        if not cmds:
            return self._nothing(f"{assets(len(active))} already {verb.lower()}")
        return self._run(cmds, f"{verb} {assets(len(cmds))}")

    def rate(self, ids: Sequence[str] | None = None, rating: c.Rating = c.Rating.APPROVED) -> bool:
        active = self._active(self._ids(ids))
        cmds: list[c.Command] = [
            c.RateVariant(v.id, rating) for v in active if (v.rating or "none") != rating.value
        ]
        if not cmds:
            return self._nothing("Nothing to rate")
        return self._run(cmds, f"{RATING_WORDS[rating]} {assets(len(cmds))}")

    # ------------------------------------------------------------------ delete
    def delete(self, ids: Sequence[str] | None = None) -> bool:
        ids = self._ids(ids)
        if not ids:
            return False
        if not self.view.canvas_actions.delete(ids):
            return False
        self.status(f"Deleted {assets(len(ids))}")
        return True

    # ------------------------------------------------------------------ collections
    def add_to_collection(
        self,
        ids: Sequence[str] | None = None,
        collection_id: str | None = None,
        new_name: str | None = None,
    ) -> bool:
        """Add the cards to a collection (``new_name``: a new one, made in the same
        step). With neither, ask which."""
        ids = self._ids(ids)
        space = self.view.host.space if self.view.host is not None else None
        if not ids or space is None:
            return False
        collections = space.collections()
        if collection_id is None and new_name is None:
            names = [col.name for col in collections] + [NEW_COLLECTION]
            choice = self.ask_choice(
                "Add to collection", f"Add {assets(len(ids))} to:", names, names[0]
            )
            if choice is None:
                return False
            match = [col for col in collections if col.name == choice]
            if match:
                collection_id = match[0].id
            elif choice == NEW_COLLECTION:
                new_name = self.ask_text("New collection", "Name:", "")
                if not new_name or not new_name.strip():
                    return False
            else:  # typed a name that is not there yet
                new_name = choice
        cmds: list[c.Command] = []
        if collection_id is None:
            assert new_name is not None
            name = new_name.strip()
            collection_id = space.new_id()
            cmds.append(c.CreateCollection(name, collection_id=collection_id))
            there: set[str] = set()
        else:
            name = next((col.name for col in collections if col.id == collection_id), "collection")
            there = {i.asset_id for i in space.collection_items(collection_id) if i.asset_id}
        scene = self.view.canvas_scene
        placed = [(a, row.x, row.y) for a in ids if (row := scene.asset_row(a)) is not None]
        placed.sort(key=lambda p: (round(p[2] / ROW), p[1]))  # in reading order
        adds = [a for a, _x, _y in placed if a not in there]
        if not adds:
            return self._nothing(f"{assets(len(ids))} already in “{name}”")
        cmds += [c.AddCollectionItem(collection_id, asset_id=a) for a in adds]
        return self._run(cmds, f"Added {assets(len(adds))} to “{name}”")

    # ------------------------------------------------------------------ export
    def export(self, ids: Sequence[str] | None = None, folder: Path | None = None) -> bool:
        """Export each card's finished active variant (cards without one are skipped
        and counted); see :meth:`export_variants`."""
        ids = self._ids(ids)
        vids = [v.id for v in self._active(ids) if v.status == "completed" and v.media_path]
        return self.export_variants(vids, len(ids) - len(vids), folder)

    def export_variants(
        self, variant_ids: Sequence[str], skipped: int = 0, folder: Path | None = None
    ) -> bool:
        """The one "export files" path (bulk, card menu, a collection's Export…): ask
        for a folder (starting in the last one used, at first the data folder's
        ``exports/``), then write the files with their provenance embedded off the UI
        thread behind a progress dialog; the status bar says what was written."""
        host = self.view.host
        space = host.space if host is not None else None
        vids = list(dict.fromkeys(variant_ids))
        if host is None or space is None:
            return False
        if not vids:
            return self._nothing("None of them has a finished file to export")
        if folder is None:
            start = (
                self.folders.start(settings.EXPORT_FOLDER)
                if self.folders is not None
                else Path.home()
            )
            folder = self.ask_folder(f"Export {files(len(vids))} to", start)
            if folder is None:
                return False
        if self.folders is not None:  # remember() takes a file in the folder
            self.folders.remember(settings.EXPORT_FOLDER, folder / "x")
        where = folder
        left_out = f" ({skipped} without a finished file left out)" if skipped else ""

        def done(result: object) -> None:
            n = len(result) if isinstance(result, list) else 0
            self.status(f"Exported {files(n)} to {where}{left_out}")

        def failed(message: str) -> None:
            if self.view.host is not None:
                self.view.host.show_error(f"Could not export to {where}: {message}")

        self.job = file_jobs.start_file_job(
            self.view,
            f"Exporting {files(len(vids))}…",
            lambda progress: file_jobs.export_to_folder(space, vids, where, progress),
            done,
            failed,
        )
        return True

    def _ask_folder(self, title: str, start: Path) -> Path | None:
        chosen = QFileDialog.getExistingDirectory(self.view, title, str(start))
        return Path(chosen) if chosen else None

    # ------------------------------------------------------------------ menu
    def add_menu(self, menu: QMenu, ids: Sequence[str]) -> QMenu:
        """The bulk entries for ``ids`` as a submenu of ``menu``."""
        chosen = list(ids)
        sub = menu.addMenu(f"All {len(chosen)} selected")
        sub.setObjectName("bulkMenu")
        fill_menu(self, sub, lambda: chosen)
        return sub


def fill_menu(bulk: BulkActions, menu: QMenu, ids: Callable[[], Sequence[str]]) -> None:
    """Add the bulk entries to ``menu``; ``ids()`` gives the assets when one is chosen."""

    def entry(text: str, fn: Callable[[Sequence[str]], object], name: str) -> None:
        action = menu.addAction(text, lambda: _guard(bulk, fn, ids()))
        action.setObjectName(name)

    entry("Add tags…", bulk.add_tags, "bulkAddTags")
    entry("Remove tag…", bulk.remove_tags, "bulkRemoveTag")
    entry("Change type…", bulk.set_type, "bulkSetType")
    menu.addSeparator()
    entry("Star", lambda i: bulk.star(i, True), "bulkStar")
    entry("Unstar", lambda i: bulk.star(i, False), "bulkUnstar")
    entry("Approve", lambda i: bulk.rate(i, c.Rating.APPROVED), "bulkApprove")
    entry("Reject", lambda i: bulk.rate(i, c.Rating.REJECTED), "bulkReject")
    entry("Clear rating", lambda i: bulk.rate(i, c.Rating.NONE), "bulkClearRating")
    menu.addSeparator()
    entry("Add to collection…", bulk.add_to_collection, "bulkAddToCollection")
    entry("Export files…", bulk.export, "bulkExport")
    menu.addSeparator()
    entry("Delete", bulk.delete, "bulkDelete")


def _guard(bulk: BulkActions, fn: Callable[[Sequence[str]], object], ids: Sequence[str]) -> None:
    if not ids:
        bulk.status("Select some cards first")
        return
    try:
        fn(ids)
    except StudioError as exc:  # a read that failed (e.g. the space went away)
        host = bulk.view.host
        if host is not None:
            host.show_error(exc.message)
