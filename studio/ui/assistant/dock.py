"""The chat dock: sessions, the transcript with the reply streaming in, a stop button,
approval cards, and — without a key — what is missing and how to add it."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.assistant.chat import Chat, ChatReply
from studio.assistant.client import ClaudeClient
from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.errors import StudioError
from studio.core.protocol import TypedEvent
from studio.core.space import Space
from studio.ui.assistant.card import ApprovalCardWidget
from studio.ui.assistant.tray_fill import tray_fills
from studio.ui.assistant.worker import ChatRunner

NO_KEY = (
    "The assistant needs an Anthropic API key. Add it in Preferences ▸ Keys, or run "
    "<code>studio keys set anthropic</code>; the rest of Forge Studio works without it."
)


ON_REPLICA = (
    "The assistant runs on the host that shares this space (<b>{host}</b>), with its key: "
    "ask there. Its chats show here as they happen; you can still approve or reject "
    "proposals (the host applies them)."
)


class ChatHost(Protocol):
    @property
    def space(self) -> Space | None: ...

    actor: Actor

    def run(self, cmds: Sequence[Command], text: str) -> bool: ...

    def show_error(self, message: str) -> None: ...


class ChatDockWidget(QWidget):
    tray_fill = Signal(object)  # cc.FillTray: an approved add_to_tray (the window fills it)

    def __init__(
        self,
        host: ChatHost,
        client_factory: Callable[[], ClaudeClient],
        has_key: Callable[[], bool] | None = None,
    ) -> None:
        """``client_factory`` runs on the chat's thread (it may fetch the model list);
        ``has_key`` (no network) tells the UI thread whether chatting can work."""
        super().__init__()
        self._host = host
        self._client_factory = client_factory
        self._has_key = has_key or self._factory_works
        self._space: Space | None = None
        self._live = ""
        self.runner = ChatRunner(self)
        self.runner.text.connect(self._on_text)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.sessions = QComboBox()
        self.sessions.currentIndexChanged.connect(lambda _i: self.show_session())
        self.new_button = QPushButton("New chat")
        self.new_button.clicked.connect(self.new_chat)
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.more)
        menu.addAction("Rename chat…", self._ask_rename)
        menu.addAction("Delete chat", self.delete_session)
        self.more.setMenu(menu)
        top.addWidget(self.sessions, 1)
        top.addWidget(self.new_button)
        top.addWidget(self.more)
        layout.addLayout(top)
        self.notice = QLabel(NO_KEY)
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.hide()
        layout.addWidget(self.notice)
        self.transcript = QTextBrowser()
        layout.addWidget(self.transcript, 3)
        self.cards = QVBoxLayout()
        holder = QWidget()
        holder.setLayout(self.cards)
        self.cards_area = QScrollArea()
        self.cards_area.setWidgetResizable(True)
        self.cards_area.setWidget(holder)
        layout.addWidget(self.cards_area, 2)
        self.input = QPlainTextEdit()
        self.input.setPlaceholderText("Ask about this space…")
        self.input.setMaximumHeight(70)
        layout.addWidget(self.input)
        row = QHBoxLayout()
        self.actor_mode = QCheckBox("Let it propose actions")
        self.send_button = QPushButton("Send")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.runner.stop)
        self.stop_button.setEnabled(False)
        row.addWidget(self.actor_mode, 1)
        row.addWidget(self.stop_button)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        self._refresh = QTimer(self)
        self._refresh.setSingleShot(True)
        self._refresh.setInterval(50)
        self._refresh.timeout.connect(lambda: self.refresh_sessions())

    def apply_event(self, event: TypedEvent) -> None:
        """A chat or a proposal changed (here, in another window or process, by a peer):
        redraw once things settle — not while a reply streams in."""
        if event.kind.split(":")[0] in ("chat", "proposal") and not self.runner.busy:
            self._refresh.start()

    # ------------------------------------------------------------------ space
    def set_space(self, space: Space | None) -> None:
        self.runner.stop()
        self._space = space
        self.refresh_sessions()
        self.check_key()

    def _factory_works(self) -> bool:
        try:
            self._client_factory().close()
        except StudioError:
            return False
        return True

    def check_key(self) -> bool:
        """Show what is missing — a key, or (on a joined space) the host, which chats for
        everyone sharing it; True when chatting can work here."""
        host = None if self._space is None else chat_reads.replica_host(self._space)
        ok = host is None and self._has_key()
        if host is not None:
            self.notice.setText(ON_REPLICA.format(host=html.escape(host)))
        else:
            self.notice.setText(NO_KEY)
        self.notice.setVisible(not ok)
        for w in (self.input, self.actor_mode, self.new_button):
            w.setEnabled(host is None)
        self.send_button.setEnabled(ok and self._space is not None and not self.runner.busy)
        return ok

    def refresh_sessions(self, select: str | None = None) -> None:
        current = select or self.session_id()
        self.sessions.blockSignals(True)
        self.sessions.clear()
        if self._space is not None:
            for s in chat_reads.sessions(self._space):
                self.sessions.addItem(s.title, s.id)
        index = self.sessions.findData(current) if current else 0
        self.sessions.setCurrentIndex(max(index, 0) if self.sessions.count() else -1)
        self.sessions.blockSignals(False)
        self.show_session()

    def session_id(self) -> str | None:
        value = self.sessions.currentData()
        return str(value) if value else None

    def new_chat(self) -> None:
        self.sessions.setCurrentIndex(-1)
        self.show_session()
        self.input.setFocus()

    def rename_session(self, title: str) -> bool:
        """Rename the chosen chat (one undoable step)."""
        sid = self.session_id()
        if sid is None or not title.strip():
            return False
        ok = self._host.run([cc.RenameChatSession(sid, title.strip())], "Rename chat")
        self.refresh_sessions(select=sid)
        return ok

    def delete_session(self) -> bool:
        """Delete the chosen chat (one undoable step)."""
        sid = self.session_id()
        if sid is None:
            return False
        ok = self._host.run([cc.DeleteChatSession(sid)], "Delete chat")
        self.refresh_sessions()
        return ok

    def _ask_rename(self) -> None:
        title, ok = QInputDialog.getText(
            self, "Rename chat", "Title:", text=self.sessions.currentText()
        )
        if ok:
            self.rename_session(title)

    # ------------------------------------------------------------------ transcript
    def show_session(self) -> None:
        """Draw the chosen chat's transcript and its proposals' cards."""
        parts: list[str] = []
        sid = self.session_id()
        space = self._space
        if space is not None and sid is not None:
            for m in chat_reads.messages(space, sid):
                parts += _render(m.role, m.blocks)
        self.transcript.setHtml("".join(parts))
        while self.cards.count():
            item = self.cards.takeAt(0)
            if item is not None and (w := item.widget()) is not None:
                w.deleteLater()
        if space is None or sid is None:
            return
        for p in chat_reads.proposals(space, session_id=sid):
            card = ApprovalCardWidget(p)
            card.approved.connect(self.approve)
            card.rejected.connect(self.reject)
            card.always.connect(self.always_allow)
            self.cards.addWidget(card)
        self.cards.addStretch(1)

    def cards_shown(self) -> list[ApprovalCardWidget]:
        out = []
        for i in range(self.cards.count()):
            item = self.cards.itemAt(i)
            w = None if item is None else item.widget()
            if isinstance(w, ApprovalCardWidget):
                out.append(w)
        return out

    # ------------------------------------------------------------------ sending
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        space = self._space
        if not text or space is None or self.runner.busy or not self.check_key():
            return
        self.input.clear()
        self.transcript.append(f"<p><b>You:</b> {html.escape(text)}</p><p><b>Claude:</b> ")
        self._live = ""
        self.send_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.status.setText("Claude is answering…")
        person, actor_mode = self._host.actor, self.actor_mode.isChecked()
        factory = self._client_factory

        def make() -> Chat:
            return Chat(space, person, factory(), actor_mode=actor_mode)

        self.runner.start(make, text, self.session_id())

    def _on_text(self, piece: str) -> None:
        self._live += piece
        self.transcript.moveCursor(QTextCursor.MoveOperation.End)
        self.transcript.insertPlainText(piece)

    def _on_done(self, reply: ChatReply) -> None:
        waiting = sum(p.state == "pending" for p in reply.proposals)
        asks = f"{waiting} proposal(s) wait for your approval." if waiting else ""
        self._finish("Stopped." if reply.stopped else asks)
        self.refresh_sessions(select=reply.session_id)

    def _on_failed(self, message: str) -> None:
        self._finish(message)
        self.refresh_sessions()

    def _finish(self, status: str) -> None:
        self.status.setText(status)
        self.stop_button.setEnabled(False)
        self.send_button.setEnabled(self._space is not None)

    # ------------------------------------------------------------------ approvals
    def approve(self, proposal_id: str, edited: Any = None, *, standing: bool = False) -> bool:
        """Run the proposal as the person's undoable step (the app's undo stack)."""
        space = self._space
        if space is None:
            return False
        p = chat_reads.proposal(space, proposal_id)
        cmds = None if edited is None else tuple(edited)
        ok = self._host.run(
            [cc.ApproveProposal(proposal_id, cmds, standing), cc.RunProposal(proposal_id)],
            f"via assistant: {p.summary or p.tool}"[:200],
        )
        if ok and p.tool == cc.TRAY_TOOL:  # the window's, not the space's: filled here
            for fill in tray_fills(p.commands if cmds is None else cmds):
                self.tray_fill.emit(fill)
        self.show_session()
        return ok

    def reject(self, proposal_id: str) -> None:
        """Through the host like any step (a joined space's host applies it)."""
        if self._space is None:
            return
        self._host.run([cc.RejectProposal(proposal_id)], "Reject proposal")
        self.show_session()

    def always_allow(self, proposal_id: str, tool: str) -> None:
        if self._host.run([cc.AllowAssistantTool(tool)], f"always allow {tool}"):
            self.approve(proposal_id, standing=True)

    def shutdown(self) -> None:
        """Stop a running turn and wait for it (bounded), e.g. when the window closes."""
        self.runner.stop()
        self.runner.wait(5.0)


def _render(role: str, blocks: Sequence[dict[str, Any]]) -> list[str]:
    who = "You" if role == "user" else "Claude"
    out: list[str] = []
    for b in blocks:
        kind = b.get("type")
        if kind == "text" and b.get("text"):
            text = html.escape(str(b["text"])).replace("\n", "<br>")
            out.append(f"<p><b>{who}:</b> {text}</p>")
        elif kind == "tool_use":
            out.append(f"<p style='color:#8b93a1'>· {html.escape(str(b.get('name')))}</p>")
        elif kind == "variant_image":
            out.append(
                f"<p style='color:#8b93a1'>· showed {html.escape(str(b.get('variant_id')))}</p>"
            )
    return out
