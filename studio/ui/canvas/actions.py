"""Every canvas action as commands for the host: one call, one undoable step.

The view's gestures and the context menus call these. Nothing here changes the scene:
the host applies the commands (``host.run``), the core publishes events, and the scene
follows them. When the host refuses (returns False, having shown the error), the caller
snaps the dragged items back.

Dialogs are injectable (``ask_text``, ``ask_files``) so tests can answer them.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QRectF, QUrl
from PySide6.QtGui import QGuiApplication

from studio.core import commands as c
from studio.store.records import AssetRow
from studio.ui.canvas.geometry import CARD_H, CARD_W, STEP, Rect, frame_around, free_spot
from studio.ui.host import CanvasHost
from studio.ui.mime import put_assets, put_variants
from studio.ui.widgets import type_choices

if TYPE_CHECKING:
    from studio.ui.canvas.scene import CanvasScene

AskText = Callable[[str, str, str], str | None]  # (title, label, default) -> text | None
AskChoice = Callable[[str, str, list[str], str], str | None]  # (…, choices, current)
AskFiles = Callable[[str], list[Path]]


def quote(name: str) -> str:
    return f"“{name if len(name) <= 40 else name[:39] + '…'}”"


def shown_row(scene: CanvasScene, aid: str) -> AssetRow | None:
    """The row as its card shows it (a joined space's unanswered steps over it)."""
    row = scene.asset_row(aid)
    return scene.overlay.asset(row) if row is not None else None


class CanvasActions:
    def __init__(
        self,
        scene: CanvasScene,
        host: CanvasHost | None,
        ask_text: AskText,
        ask_files: AskFiles,
        ask_choice: AskChoice | None = None,
    ) -> None:
        self.scene = scene
        self.host = host
        self.ask_text = ask_text
        self.ask_files = ask_files
        self.ask_choice: AskChoice = ask_choice or (
            lambda title, label, _choices, current: ask_text(title, label, current)
        )

    # ------------------------------------------------------------------ plumbing
    def run(self, cmds: Sequence[c.Command], text: str) -> bool:
        if self.host is None or not cmds:
            return False
        return self.host.run(list(cmds), text)

    def _name(self, aid: str) -> str:
        row = shown_row(self.scene, aid)
        return quote(row.name) if row is not None else "asset"

    def _many(self, ids: Sequence[str], verb: str) -> str:
        return f"{verb} {self._name(ids[0])}" if len(ids) == 1 else f"{verb} {len(ids)} assets"

    # ------------------------------------------------------------------ assets
    def move(
        self,
        positions: Mapping[str, tuple[float, float]],
        take_out: Sequence[str] = (),
        frames: Mapping[str, tuple[float, float]] | None = None,
    ) -> bool:
        """Move cards (one ``MoveAssets``) and ``frames`` (chosen with them, Ctrl+A);
        ``take_out``: those ids also leave their parent, in the same step."""
        cmds: list[c.Command] = []
        if positions:
            cmds += c.moves(c.Position(a, x, y) for a, (x, y) in positions.items())
        cmds += [c.UpdateFrame(f, x=x, y=y) for f, (x, y) in (frames or {}).items()]
        cmds += [c.ReparentAsset(a, None) for a in take_out]
        if not cmds:
            return False
        if take_out:
            row = self.scene.asset_row(take_out[0])
            parent = row.parent_asset_id if row is not None else None
            text = (
                f"Take {self._name(take_out[0])} out of {self._name(parent)}"
                if len(take_out) == 1 and parent
                else f"Take {len(take_out)} assets out"
            )
        elif frames and not positions:
            text = "Move 1 frame" if len(frames) == 1 else f"Move {len(frames)} frames"
        else:
            text = self._many(list(positions), "Move")
            if frames:
                text += f" and {len(frames)} frame{'s' if len(frames) != 1 else ''}"
        return self.run(cmds, text)

    def reparent(self, ids: Sequence[str], parent: str) -> bool:
        todo = [
            a
            for a in ids
            if a != parent and (r := self.scene.asset_row(a)) is not None
            if r.parent_asset_id != parent
        ]
        if not todo:
            return False
        what = self._name(todo[0]) if len(todo) == 1 else f"{len(todo)} assets"
        text = f"Put {what} inside {self._name(parent)}"
        return self.run([c.ReparentAsset(a, parent) for a in todo], text)

    def take_out(self, ids: Sequence[str]) -> bool:
        todo = [a for a in ids if (r := self.scene.asset_row(a)) is not None and r.parent_asset_id]
        return self.move({}, take_out=todo) if todo else False

    def rename(self, aid: str, name: str | None = None) -> bool:
        row = shown_row(self.scene, aid)
        if row is None:
            return False
        if name is None:
            name = self.ask_text("Rename asset", "Name:", row.name)
        if name is None or name.strip() == row.name:
            return False
        return self.run([c.UpdateAsset(aid, name=name.strip())], f"Rename {quote(row.name)}")

    def change_type(self, aid: str, type_: str | None = None) -> bool:
        row = shown_row(self.scene, aid)
        if row is None:
            return False
        if type_ is None:
            # the same list as the details' Type field (and still free text)
            type_ = self.ask_choice("Change type", "Type:", type_choices(row.type), row.type)
        if type_ is None or type_.strip() == row.type:
            return False
        return self.run(
            [c.UpdateAsset(aid, type=type_.strip())], f"Change type of {quote(row.name)}"
        )

    def toggle_star(self, aid: str) -> bool:
        card = self.scene.card(aid)
        v = card.facts.active if card is not None else None
        if v is None:
            return False
        verb = "Unstar" if v.starred else "Star"
        return self.run([c.StarVariant(v.id, not v.starred)], f"{verb} {self._name(aid)}")

    def fork(self, aid: str) -> bool:
        card = self.scene.card(aid)
        v = card.facts.active if card is not None else None
        if card is None or v is None or v.status != "completed":
            return False
        start = Rect(card.px + STEP, card.py, CARD_W, CARD_H)
        near = self.scene.cards_in(QRectF(start.x, start.y, STEP * 8, CARD_H))
        spot = free_spot(start, [o.scene_rect() for o in near if o is not card])
        return self.run([c.ForkVariant(v.id, x=spot.x, y=spot.y)], f"Fork {self._name(aid)}")

    def delete(self, ids: Sequence[str], frames: Sequence[str] = ()) -> bool:
        """Delete assets, and ``frames`` chosen with them (Ctrl+A), in one step."""
        ids = [a for a in ids if self.scene.asset_row(a) is not None]
        frames = [f for f in frames if f in self.scene.model.frames]
        if not ids and not frames:
            return False
        # deleting an asset takes its subtree: chosen descendants go with their ancestor
        chosen = set(ids)  # once: built per id, a select-all of 50,000 cards never ended
        top = [a for a in ids if not self._inside(a, chosen)]
        cmds: list[c.Command] = [c.DeleteAsset(a) for a in top]
        cmds += [c.DeleteFrame(f) for f in frames]
        text = self._many(ids, "Delete") if ids else "Delete"
        if frames:
            n = len(frames)
            text += f"{' and' if ids else ''} {n} frame{'s' if n != 1 else ''}"
        return self.run(cmds, text)

    def _inside(self, aid: str, chosen: set[str]) -> bool:
        """Is one of ``aid``'s ancestors in ``chosen``? (bounded: a damaged tree may loop)"""
        row = self.scene.asset_row(aid)
        for _ in range(len(self.scene.model.assets)):
            parent = row.parent_asset_id if row is not None else None
            if parent is None:
                return False
            if parent in chosen:
                return True
            row = self.scene.asset_row(parent)
        return False

    def open_details(self, aid: str) -> None:
        if self.host is not None:
            self.host.open_details(aid)

    # ------------------------------------------------------------------ frames
    def create_frame_around(self, ids: Sequence[str], title: str = "Frame") -> bool:
        cards = [card for a in ids if (card := self.scene.card(a)) is not None]
        r = frame_around(card.scene_rect() for card in cards)
        if r is None:
            return False
        return self.run([c.CreateFrame(title, r.x, r.y, r.w, r.h)], f"New frame {quote(title)}")

    def create_frame_at(
        self, x: float, y: float, title: str = "Frame", w: float = 880.0, h: float = 600.0
    ) -> bool:
        return self.run([c.CreateFrame(title, x, y, w, h)], f"New frame {quote(title)}")

    def move_frame(
        self, fid: str, x: float, y: float, positions: Mapping[str, tuple[float, float]]
    ) -> bool:
        row = self.scene.model.frames.get(fid)
        if row is None:
            return False
        cmds: list[c.Command] = [c.UpdateFrame(fid, x=x, y=y)]
        if positions:
            cmds += c.moves(c.Position(a, px, py) for a, (px, py) in positions.items())
        return self.run(cmds, f"Move frame {quote(row.title or 'Frame')}")

    def resize_frame(self, fid: str, w: float, h: float) -> bool:
        row = self.scene.model.frames.get(fid)
        if row is None:
            return False
        return self.run(
            [c.UpdateFrame(fid, width=w, height=h)], f"Resize frame {quote(row.title or 'Frame')}"
        )

    def rename_frame(self, fid: str, title: str | None = None) -> bool:
        row = self.scene.model.frames.get(fid)
        if row is None:
            return False
        if title is None:
            title = self.ask_text("Rename frame", "Title:", row.title)
        if title is None or title.strip() == row.title:
            return False
        return self.run(
            [c.UpdateFrame(fid, title=title.strip())], f"Rename frame {quote(row.title)}"
        )

    def delete_frame(self, fid: str) -> bool:
        row = self.scene.model.frames.get(fid)
        if row is None:
            return False
        return self.run([c.DeleteFrame(fid)], f"Delete frame {quote(row.title or 'Frame')}")

    # ------------------------------------------------------------------ files in and out
    def import_files(
        self, paths: Sequence[Path], x: float, y: float, into: str | None = None
    ) -> bool:
        if self.host is None or not paths:
            return False
        self.host.import_paths(list(paths), (x, y), into)
        return True

    def import_here(self, x: float, y: float) -> bool:
        return self.import_files(self.ask_files("Import files"), x, y)

    def paste(self, x: float, y: float) -> bool:
        """Import what the clipboard holds at (x, y): copied files, or an image (saved
        to a temporary PNG first; the host imports it from there)."""
        data = QGuiApplication.clipboard().mimeData()
        if data is None:
            return False
        files = [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]
        if files:
            return self.import_files(files, x, y)
        image = QGuiApplication.clipboard().image()
        if image.isNull():
            if self.host is not None:
                self.host.show_error("The clipboard holds no image or files to paste.")
            return False
        folder = Path(tempfile.mkdtemp(prefix="forge-paste-"))
        path = folder / "Pasted image.png"
        if not image.save(str(path)):  # PNG, from the suffix
            if self.host is not None:
                self.host.show_error("Could not save the pasted image to a temporary file.")
            return False
        return self.import_files([path], x, y)

    def external_paths(self, ids: Sequence[str]) -> list[Path]:
        """The original files of these cards' active variants (completed ones only)."""
        out: list[Path] = []
        for aid in ids:
            card = self.scene.card(aid)
            v = card.facts.active if card is not None else None
            if v is not None and v.status == "completed" and v.media_path:
                out.append(Path(self.scene.ctx.media_dir) / v.media_path)
        return out

    def external_mime(self, ids: Sequence[str]) -> QMimeData | None:
        """File URLs for other applications, plus for our own widgets the variant ids
        (the forge tray takes cards dragged onto it) and the asset ids (the collections
        panel does). None: nothing to carry."""
        paths = self.external_paths(ids)
        space = self.scene.space
        if not paths and (space is None or not ids):
            return None
        data = QMimeData()
        if paths:
            data.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        if space is not None:
            variants = []
            for aid in ids:
                card = self.scene.card(aid)
                v = card.facts.active if card is not None else None
                if v is not None and v.status == "completed":
                    variants.append(v.id)
            put_variants(data, space.id, variants)
            put_assets(data, space.id, list(ids))
        return data
