"""The chat's transcript: each turn written into the document (Claude's words as
Markdown, the person's as typed), the reply streaming in at the end — followed only
while the reader is at the bottom, so scrolling up to reread is never yanked away."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

from PySide6.QtGui import QTextBlockFormat, QTextCharFormat, QTextCursor, QTextDocumentFragment
from PySide6.QtWidgets import QTextBrowser, QWidget

from studio.assistant.tools import ACTION_NAMES
from studio.core.chat_reads import ChatMessage

GAP = 8.0  # px above each turn
MUTED = "#8b93a1"
HINT = (
    "Ask about this space: what is in it, what failed and why, which variant fits a "
    "style. Tick “Let it propose actions” to let Claude suggest changes; each waits "
    "for your approval. Enter sends, Shift+Enter starts a new line, Esc stops."
)


class TranscriptView(QTextBrowser):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("chatTranscript")
        self.setOpenExternalLinks(False)
        self._turns = 0
        self._session: str | None = None
        # The document is laid out in steps from the event loop (more so under load), so
        # the bar's range keeps growing after a chat is drawn: where the view should stay
        # is kept — the end, or the reader's place — and set again as the range arrives,
        # until the reader moves the bar.
        self._follow = True
        self._hold: int | None = None
        self._placing = False
        bar = self.verticalScrollBar()
        bar.rangeChanged.connect(self._range_changed)
        bar.valueChanged.connect(self._moved)

    # ------------------------------------------------------------------ whole chats
    def show_messages(self, session_id: str | None, messages: Sequence[ChatMessage]) -> None:
        """Draw a chat's turns and show its end — or, redrawing the same chat while the
        reader is scrolled up in it, keep their place."""
        bar = self.verticalScrollBar()
        keep = bar.value() if session_id == self._session and not self.at_end() else None
        self._session = session_id
        self._placing = True  # the bar moves with the redraw, not the reader
        try:
            self.clear()
            self._turns = 0
            for m in messages:
                for block in m.blocks:
                    self._write(m.role, block)
            if not messages:  # wrapped, unlike a placeholder
                self.setHtml(f"<p style='color:{MUTED}'>{html.escape(HINT)}</p>")
        finally:
            self._placing = False
        if keep is None:
            self.scroll_to_end()
        else:
            self._follow, self._hold = False, keep
            self._place(keep)

    def _cursor(self) -> QTextCursor:
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        return cursor

    def _start_turn(self, cursor: QTextCursor) -> None:
        if self._turns:
            fmt = QTextBlockFormat()
            fmt.setTopMargin(GAP)
            cursor.insertBlock(fmt, QTextCharFormat())
        self._turns += 1

    def _write(self, role: str, block: Mapping[str, Any]) -> None:
        kind = block.get("type")
        cursor = self._cursor()
        if kind == "text" and block.get("text"):
            text = str(block["text"])
            self._start_turn(cursor)
            if role == "assistant":
                cursor.insertHtml("<b>Claude:</b> ")
                cursor.insertFragment(QTextDocumentFragment.fromMarkdown(text))
            else:
                cursor.insertHtml("<b>You:</b> " + _plain_html(text))
        elif kind == "tool_use":
            self._start_turn(cursor)
            name = str(block.get("name"))
            did = "proposed" if name in ACTION_NAMES else "looked up"
            words = html.escape(f"{did}: {name.replace('_', ' ')}")
            cursor.insertHtml(f"<span style='color:{MUTED}'>· {words}</span>")
        elif kind == "variant_image":
            self._start_turn(cursor)
            vid = html.escape(str(block.get("variant_id")))
            cursor.insertHtml(f"<span style='color:{MUTED}'>· showed {vid}</span>")

    # ------------------------------------------------------------------ streaming
    def begin_reply(self, text: str) -> None:
        """The person's message, then Claude's name, where the reply streams in."""
        self._write("user", {"type": "text", "text": text})
        cursor = self._cursor()
        self._start_turn(cursor)
        cursor.insertHtml("<b>Claude:</b> ")
        cursor.setCharFormat(QTextCharFormat())
        self.scroll_to_end()

    def add_piece(self, piece: str) -> None:
        """Append streamed text at the end; follow it only if the reader is there."""
        bar = self.verticalScrollBar()
        following = bar.value() >= bar.maximum() - 4
        cursor = self._cursor()
        cursor.insertText(piece, QTextCharFormat())
        if following:
            self.scroll_to_end()

    def scroll_to_end(self) -> None:
        self._follow, self._hold = True, None
        self._place(self.verticalScrollBar().maximum())

    def _place(self, value: int) -> None:
        self._placing = True
        try:
            self.verticalScrollBar().setValue(value)
        finally:
            self._placing = False

    def _range_changed(self, _low: int, high: int) -> None:
        if self._follow:
            self._place(high)
        elif self._hold is not None:
            self._place(min(self._hold, high))

    def _moved(self, value: int) -> None:
        if not self._placing:  # the reader scrolled: stay where they are
            self._follow, self._hold = value >= self.verticalScrollBar().maximum() - 4, None

    def at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 4


def _plain_html(text: str) -> str:
    return html.escape(text).replace("\n", "<br>")
