"""One proposal of the assistant as a card: the exact commands, the cost of a
generation, and approve / edit / reject / always allow."""

from __future__ import annotations

import json
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
)

from studio.core.chat_commands import TRAY_TOOL
from studio.core.chat_reads import Proposal


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
        self.title = QLabel(f"<b>{_esc(proposal.tool)}</b>: {_esc(proposal.summary)}{cost}")
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.commands = QPlainTextEdit(_pretty(proposal.commands))
        self.commands.setReadOnly(True)
        self.commands.setMaximumHeight(90)
        layout.addWidget(self.commands)
        self.state = QLabel(proposal.state)
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


def cost_text(usd: float | None) -> str:
    if usd is None:
        return ""
    return " — free" if usd == 0 else f" — estimated ${usd:.2f}"


def _pretty(commands: Any) -> str:
    return json.dumps(list(commands), indent=1, ensure_ascii=False)


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
