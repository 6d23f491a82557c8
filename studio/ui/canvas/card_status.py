"""The status half of a card (a mixin of :class:`~studio.ui.canvas.card.AssetCardItem`,
split out for size): the words it shows and the painting of its placeholder, status
mark, progress bar and spinner; plus :class:`CanvasContext`, what every card reads while
painting."""

from __future__ import annotations

from collections.abc import Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from studio.store.records import AssetRow, VariantRow
from studio.ui.canvas.geometry import CARD_H, CARD_W, FOOTER_H, Lod
from studio.ui.canvas.model import CardFacts
from studio.ui.canvas.presence_marks import Avatar
from studio.ui.canvas.theme import Theme, theme

if TYPE_CHECKING:
    from studio.ui.canvas.thumbs import ThumbnailCache
    from studio.ui.canvas.tiles import Tiles


@dataclass(slots=True)
class CanvasContext:
    """What every card reads while painting; one per scene."""

    thumbs: ThumbnailCache
    media_dir: str = ""
    lod: Lod = Lod.FULL
    scale: float = 1.0
    phase: int = 0  # animation tick for spinners and indeterminate bars
    drop_target: str | None = None  # asset id highlighted as a drop target
    queue_paused: bool = False  # queued cards say "Paused" and their bars stand still
    matching: AbstractSet[str] | None = None  # the filter's matches (None: no filter)
    presence: Mapping[str, tuple[Avatar, ...]] = field(default_factory=dict)
    """Who else has each card selected (a shared or joined space; see presence_marks)."""
    pending: AbstractSet[str] = frozenset()
    """Cards with an edit waiting to be sent to the host (a joined space, offline)."""
    theme: Theme = field(default_factory=theme)
    tiles: Tiles | None = None
    """The scene's tiles (each card lies in one: see :mod:`studio.ui.canvas.tiles`)."""
    _insets: dict[float, QRectF] = field(default_factory=dict)
    _insets_scale: float = 0.0

    def outline_rect(self, pen_width: float) -> QRectF:
        """The card rectangle inset by half a cosmetic pen at the current zoom, so
        outlines stay inside the card (made once per zoom level and width)."""
        if self._insets_scale != self.scale:
            self._insets.clear()
            self._insets_scale = self.scale
        r = self._insets.get(pen_width)
        if r is None:
            d = pen_width / 2 / max(self.scale, 0.01)
            r = self._insets[pen_width] = QRectF(d, d, CARD_W - 2 * d, CARD_H - 2 * d)
        return r


class CardStatus:
    # state owned by AssetCardItem
    _ctx: CanvasContext
    asset: AssetRow
    facts: CardFacts
    thumb: str | None
    progress: tuple[float | None, str] | None

    if TYPE_CHECKING:  # AssetCardItem's

        @property
        def status(self) -> str: ...
        def shown_busy(self) -> VariantRow | None: ...

    @property
    def match(self) -> int:
        """1: matches the canvas's filter, -1: dimmed, 0: no filter. Read from the
        scene's match set (``CanvasContext.matching``), so showing another filter's
        answer touches no card (setting an attribute on 50,000 Qt items takes ~0.2 s)."""
        m = self._ctx.matching
        if m is None:
            return 0
        return 1 if self.asset.id in m else -1

    def _waits_paused(self, v: VariantRow) -> bool:
        return v.status == "pending" and self._ctx.queue_paused

    def label(self) -> str:
        """The status words the card shows (empty when it shows none)."""
        a = self.facts.active
        status = self.status
        if status == "failed" and a is not None:
            return f"Failed: {a.error_message or a.error_code or 'unknown error'}"
        if status == "cancelled":
            return "Cancelled"
        busy = self.shown_busy()
        if busy is not None and busy is a:
            return self._busy_label(busy)
        return ""

    def _paint_placeholder(self, p: QPainter, t: Theme) -> None:
        colour = t.kind.get(self.asset.media_kind, t.card)
        p.fillRect(QRectF(0, 0, CARD_W, CARD_H - FOOTER_H), colour.darker(160))
        glyph = t.glyphs.get(self.asset.media_kind)
        if glyph is not None and self.status != "uploading":  # (a spinner goes there)
            p.save()
            p.translate(CARD_W / 2 - 24, (CARD_H - FOOTER_H) / 2 - 24)
            p.scale(4, 4)
            p.fillPath(glyph, t.kind_light.get(self.asset.media_kind, t.text_dim))
            p.restore()

    def _paint_status(self, p: QPainter, t: Theme) -> None:
        status = self.status
        bar_y = CARD_H - FOOTER_H
        if status == "failed":
            p.setPen(t.no_pen)
            p.setBrush(t.failed)
            p.drawEllipse(QRectF(CARD_W - 30, 8, 22, 22))
            p.setPen(t.text)
            p.setFont(t.badge_font)
            p.drawText(QRectF(CARD_W - 30, 8, 22, 22), Qt.AlignmentFlag.AlignCenter, "!")
            a = self.facts.active
            if a is not None and self.thumb is None:  # nothing to show: say why
                p.setFont(t.small_font)
                p.setPen(t.failed.lighter(130))
                box = QRectF(10, bar_y - 46, CARD_W - 20, 40)
                flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
                p.drawText(box, int(flags) | int(Qt.TextFlag.TextWordWrap), self.label())
            return
        if status == "cancelled":  # quiet: a grey mark, and the word when nothing shows
            p.setPen(t.no_pen)
            p.setBrush(t.cancelled)
            p.drawEllipse(QRectF(CARD_W - 30, 8, 22, 22))
            p.setPen(t.text_dim)
            p.setFont(t.badge_font)
            p.drawText(QRectF(CARD_W - 30, 8, 22, 22), Qt.AlignmentFlag.AlignCenter, "\u2013")
            if self.thumb is None:
                p.setFont(t.small_font)
                box = QRectF(10, bar_y - 46, CARD_W - 20, 40)
                flags = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom
                p.drawText(box, int(flags), self.label())
            return
        busy = self.shown_busy()
        if busy is None:
            return
        active_busy = busy is self.facts.active
        if active_busy:
            label = self._busy_label(busy)
            p.setFont(t.small_font)
            p.setPen(t.text)
            box = QRectF(8, bar_y - 40, CARD_W - 16, 18)
            p.drawText(box, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, label)
            if busy.status == "uploading":
                self._paint_spinner(p, t)
            self._paint_bar(p, t, QRectF(8, bar_y - 16, CARD_W - 16, 6))
        else:  # another variant is being made: a bar along the footer's top edge
            self._paint_bar(p, t, QRectF(0, bar_y - 4, CARD_W, 4))

    def _busy_label(self, v: VariantRow) -> str:
        if v.status == "uploading":
            return "Importing…"
        if v.status == "pending":
            return "Paused" if self._ctx.queue_paused else "Queued"
        if self.progress is not None and self.progress[0] is not None:
            msg = self.progress[1]
            pct = f"{round(self.progress[0] * 100)}%"
            return f"{msg} · {pct}" if msg else f"Generating · {pct}"
        return "Generating…"

    def _paint_bar(self, p: QPainter, t: Theme, r: QRectF) -> None:
        p.fillRect(r, t.busy_track)
        busy = self.shown_busy()
        if busy is not None and self._waits_paused(busy):
            return  # waits in a paused queue: the track only, still
        frac = self.progress[0] if self.progress is not None else None
        if frac is not None:
            p.fillRect(
                QRectF(r.x(), r.y(), r.width() * max(0.0, min(1.0, frac)), r.height()), t.busy
            )
            return
        seg = r.width() * 0.3  # indeterminate: a segment sweeping along the track
        pos = (self._ctx.phase % 20) / 20 * (r.width() + seg) - seg
        x0, x1 = max(r.x(), r.x() + pos), min(r.right(), r.x() + pos + seg)
        if x1 > x0:
            p.fillRect(QRectF(x0, r.y(), x1 - x0, r.height()), t.busy)

    def _paint_spinner(self, p: QPainter, t: Theme) -> None:
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(t.spinner_pen)
        start = -(self._ctx.phase * 30 % 360) * 16
        p.drawArc(QRectF(CARD_W / 2 - 18, (CARD_H - FOOTER_H) / 2 - 18, 36, 36), start, 100 * 16)
        p.restore()
