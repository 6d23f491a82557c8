"""One proposal of the assistant as a card: what it does in words, the exact commands,
the cost of a generation, and approve / edit / reject / always allow; and the list of a
chat's cards."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from studio.core.chat_commands import TRAY_TOOL
from studio.core.chat_reads import Proposal

SETTLE_MS = 1000  # how long a redraw keeps steering the list while its cards lay out
SUMMARY_CHARS = 160  # the rest in the tooltip: a long prompt must not fill the dock
STATES = {
    "pending": ("Waits for your approval", "#e0b44c"),
    "approved": ("Approved", "#7fb77e"),
    "applied": ("Applied", "#7fb77e"),
    "rejected": ("Rejected — nothing changed", "#8b93a1"),
}


class ApprovalCardWidget(QFrame):
    approved = Signal(str, object)  # proposal id, edited commands (None: as proposed)
    rejected = Signal(str)
    always = Signal(str, str)  # proposal id, tool

    def __init__(self, proposal: Proposal) -> None:
        super().__init__()
        self.proposal = proposal
        self.setObjectName("approvalCard")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet(
            "#approvalCard { border: 1px solid #4a5568; border-radius: 6px; background: #262b35; }"
        )
        layout = QVBoxLayout(self)
        cost = cost_text(proposal.cost_usd)
        summary = proposal.summary
        short = summary if len(summary) <= SUMMARY_CHARS else summary[:SUMMARY_CHARS] + "…"
        self.title = QLabel(f"<b>{_esc(tool_label(proposal.tool))}</b>: {_esc(short)}{cost}")
        self.title.setWordWrap(True)
        self.title.setToolTip(summary)
        layout.addWidget(self.title)
        self.commands = QPlainTextEdit(_pretty(proposal.commands))
        self.commands.setReadOnly(True)
        self.commands.setMaximumHeight(80)
        self.commands.setToolTip("The exact commands this runs, as your own undoable step")
        layout.addWidget(self.commands)
        words, colour = STATES.get(proposal.state, (proposal.state, "#8b93a1"))
        if proposal.state == "applied" and proposal.tool == TRAY_TOOL:
            words = "Put in the forge tray"
        self.state = QLabel(words)
        self.state.setStyleSheet(f"color: {colour};")
        layout.addWidget(self.state)
        row = QHBoxLayout()
        self.approve_button = QPushButton("Approve")
        self.edit_button = QPushButton("Edit")
        self.reject_button = QPushButton("Reject")
        self.always_button = QPushButton("Always allow")
        self.always_button.setToolTip(f"Always run {proposal.tool} in this space without asking")
        for b in (self.approve_button, self.edit_button, self.reject_button, self.always_button):
            row.addWidget(b)
            b.setVisible(proposal.state == "pending")
        if proposal.tool == TRAY_TOOL:  # fills this window's tray: asked each time
            self.approve_button.setText("Put in the tray")
            self.always_button.setVisible(False)
        layout.addLayout(row)
        self.approve_button.clicked.connect(self._approve)
        self.edit_button.clicked.connect(self._edit)
        self.reject_button.clicked.connect(lambda: self.rejected.emit(proposal.id))
        self.always_button.clicked.connect(lambda: self.always.emit(proposal.id, proposal.tool))

    def _edit(self) -> None:
        self.commands.setReadOnly(False)
        self.commands.setMaximumHeight(200)
        self.commands.setFocus()
        self.edit_button.setEnabled(False)

    def edited(self) -> list[dict[str, Any]] | None:
        """The commands as edited (None: unchanged); ValueError when not valid JSON."""
        text = self.commands.toPlainText()
        if self.commands.isReadOnly() or text == _pretty(self.proposal.commands):
            return None
        value = json.loads(text)
        if not isinstance(value, list):
            raise ValueError("the commands are a JSON list")
        return value

    def _approve(self) -> None:
        try:
            edited = self.edited()
        except ValueError as exc:
            self.state.setText(f"not valid: {exc}")
            return
        self.approved.emit(self.proposal.id, edited)


class ProposalListWidget(QScrollArea):
    """A chat's proposals, oldest first; hidden while there are none."""

    approved = Signal(str, object)
    rejected = Signal(str)
    always = Signal(str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        holder = QWidget()
        self._layout = QVBoxLayout(holder)
        self._layout.setContentsMargins(0, 0, 4, 0)
        self.setWidget(holder)
        self.setVisible(False)
        self._session: str | None = None
        self._seen: set[str] = set()
        self._want: int | ApprovalCardWidget | None = None
        self.verticalScrollBar().rangeChanged.connect(self._settle)

    def show_proposals(self, session_id: str | None, proposals: Sequence[Proposal]) -> None:
        """Redraw the cards. The same chat redrawn (a card decided here or elsewhere)
        keeps the reader's place; new proposals, or another chat, bring the newest one
        still waiting into sight."""
        bar = self.verticalScrollBar()
        place = bar.value()
        ids = {p.id for p in proposals}
        same = session_id == self._session
        fresh = ids - self._seen if same else ids
        self._session, self._seen = session_id, ids
        while self._layout.count():
            item = self._layout.takeAt(0)
            if item is not None and (w := item.widget()) is not None:
                w.deleteLater()
        for p in proposals:
            card = ApprovalCardWidget(p)
            card.approved.connect(self.approved)
            card.rejected.connect(self.rejected)
            card.always.connect(self.always)
            self._layout.addWidget(card)
        self._layout.addStretch(1)
        self.setVisible(bool(proposals))
        cards = self.cards()
        if same and not fresh:
            self._want = place
        else:
            news = [c for c in cards if c.proposal.id in fresh]
            waiting = [c for c in news if c.proposal.state == "pending"]
            self._want = (waiting or news)[-1] if news else None
        self._settle()
        # and once laid out, if the range is as before; ``self`` as the timers' context:
        # a list replaced meanwhile (deleted) is not called (it was, and raised)
        QTimer.singleShot(0, self, self._settle)
        QTimer.singleShot(SETTLE_MS, self, self._settled)

    def _settled(self) -> None:
        self._want = None  # later changes of size (an Edit opening) move nothing

    def _settle(self, *_range: int) -> None:
        """Scroll where :meth:`show_proposals` wants, as the new cards' layout arrives."""
        want = self._want
        bar = self.verticalScrollBar()
        if isinstance(want, int):
            bar.setValue(min(want, bar.maximum()))
        elif isinstance(want, ApprovalCardWidget) and want in self.cards():
            self.ensureWidgetVisible(want, 0, 0)

    def cards(self) -> list[ApprovalCardWidget]:
        out = []
        for i in range(self._layout.count()):
            item = self._layout.itemAt(i)
            w = None if item is None else item.widget()
            if isinstance(w, ApprovalCardWidget):
                out.append(w)
        return out


def tool_label(tool: str) -> str:
    """``make_style_preset`` → "Make style preset"."""
    return tool.replace("_", " ").capitalize()


def cost_text(usd: float | None) -> str:
    if usd is None:
        return ""
    return " — free" if usd == 0 else f" — estimated ${usd:.2f}"


def _pretty(commands: Any) -> str:
    return json.dumps(list(commands), indent=1, ensure_ascii=False)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
