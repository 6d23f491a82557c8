"""The chat dock: sessions, the transcript with the reply streaming in, a stop button
(or Esc), approval cards, and — without a key, or on a joined space — what is missing
and what to do."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, Protocol

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMenu,
    QPushButton,
    QSplitter,
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
from studio.ui.assistant.card import ApprovalCardWidget, ProposalListWidget
from studio.ui.assistant.chat_input import ChatInputEdit
from studio.ui.assistant.transcript import TranscriptView
from studio.ui.assistant.tray_fill import tray_fills
from studio.ui.assistant.worker import ChatRunner, warm_up_sdk

NO_KEY = (
    "The assistant needs an Anthropic API key. <a href='keys' style='color:#8ab4f8'>Add it in Preferences ▸ "
    "Keys</a>, or run <code>studio keys set anthropic</code>; the rest of Forge Studio "
    "works without it."
)


CARDS_MIN = 120  # px: below this, cards shown again get two fifths of the room

ON_REPLICA = (
    "The assistant runs on the host that shares this space, with the host's key: ask "
    "there. Its chats show here as they happen; you can still approve or reject "
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
    add_key = Signal()  # "Add it in Preferences ▸ Keys" (the window opens that page)

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
        self._answering = False
        self.runner = ChatRunner(self)
        self.runner.text.connect(self._on_text)
        self.runner.done.connect(self._on_done)
        self.runner.failed.connect(self._on_failed)

        layout = QVBoxLayout(self)
        top = QHBoxLayout()
        self.sessions = QComboBox()
        self.sessions.setPlaceholderText("No chats yet")
        self.sessions.setToolTip("This space's chats, most recent first")
        self.sessions.currentIndexChanged.connect(lambda _i: self.show_session())
        self.new_button = QPushButton("New chat")
        self.new_button.clicked.connect(self.new_chat)
        self.more = QToolButton()
        self.more.setText("⋯")
        self.more.setToolTip("Rename or delete this chat")
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
        self.notice.setObjectName("assistantNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextFormat(Qt.TextFormat.RichText)
        self.notice.linkActivated.connect(lambda _link: self.add_key.emit())
        self.notice.setStyleSheet(
            "#assistantNotice { background: #2d3340; border-left: 3px solid #e0b44c; "
            "padding: 6px; }"
        )
        self.notice.hide()
        layout.addWidget(self.notice)
        self.transcript = TranscriptView()
        self.card_list = ProposalListWidget()
        self.card_list.approved.connect(self.approve)
        self.card_list.rejected.connect(self.reject)
        self.card_list.always.connect(self.always_allow)
        self.split = QSplitter(Qt.Orientation.Vertical)  # the reader sets the share
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.transcript)
        self.split.addWidget(self.card_list)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        layout.addWidget(self.split, 1)
        self.input = ChatInputEdit()
        self.input.setMaximumHeight(80)
        self.input.submitted.connect(self.send)
        self.input.focused.connect(self._warm_up)
        layout.addWidget(self.input)
        row = QHBoxLayout()
        self.actor_mode = QCheckBox("Let it propose actions")
        self.actor_mode.setToolTip(
            "Claude may propose changes (rename, tag, generate…); each waits for your approval"
        )
        self.send_button = QPushButton("Send")
        self.send_button.setToolTip("Send (Enter)")
        self.send_button.clicked.connect(self.send)
        self.stop_button = QPushButton("Stop")
        self.stop_button.setToolTip("Stop the answer (Esc)")
        self.stop_button.clicked.connect(self.stop)
        self.stop_button.setEnabled(False)
        self.stop_button.hide()  # in the Send button's place while Claude answers
        row.addWidget(self.actor_mode, 1)
        row.addWidget(self.stop_button)
        row.addWidget(self.send_button)
        layout.addLayout(row)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), self)
        escape.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        escape.activated.connect(self.stop)
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
            self.notice.setText(ON_REPLICA)
        else:
            self.notice.setText(NO_KEY)
        self.notice.setVisible(not ok)
        for w in (self.input, self.actor_mode, self.new_button):
            w.setEnabled(host is None)
        self.send_button.setEnabled(ok and self._space is not None and not self._answering)
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
        title = self.sessions.currentText()
        ok = self._host.run([cc.DeleteChatSession(sid)], "Delete chat")
        if ok:
            self.status.setText(f"Deleted “{title}” — Edit ▸ Undo brings it back.")
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
        sid, space = self.session_id(), self._space
        if space is None or sid is None:
            self.transcript.show_messages(None, [])
            self.card_list.show_proposals(None, [])
            return
        self.transcript.show_messages(sid, chat_reads.messages(space, sid))
        self.card_list.show_proposals(sid, chat_reads.proposals(space, session_id=sid))
        sizes = self.split.sizes()
        if self.card_list.isVisibleTo(self) and sizes[1] < CARDS_MIN:  # just shown: room
            total = sum(sizes)
            self.split.setSizes([total - total * 2 // 5, total * 2 // 5])

    def cards_shown(self) -> list[ApprovalCardWidget]:
        return self.card_list.cards()

    # ------------------------------------------------------------------ sending
    def send(self) -> None:
        text = self.input.toPlainText().strip()
        space = self._space
        if not text or space is None or self.runner.busy or not self.check_key():
            return
        self.input.clear()
        self.transcript.begin_reply(text)
        self._live = ""
        self._busy(True)
        self.input.setFocus()  # Send is hidden now: Esc (stop) and the next message work here
        self.status.setText("Connecting to Claude…")
        person, actor_mode = self._host.actor, self.actor_mode.isChecked()
        factory = self._client_factory

        def make() -> Chat:
            return Chat(space, person, factory(), actor_mode=actor_mode)

        self.runner.start(make, text, self.session_id())

    def _warm_up(self) -> None:
        """The person is about to write: load the SDK now (seconds on a busy machine),
        off the UI thread, so the first answer does not wait for it. (The key is not
        looked up again here: a keyring can block or prompt, and this runs on every focus.)"""
        if self.send_button.isEnabled() or self._answering:
            warm_up_sdk()

    def stop(self) -> None:
        """Stop the answer streaming in (Stop, or Esc anywhere in the dock)."""
        if self.runner.busy:
            self.runner.stop()
            self.status.setText("Stopping…")

    def _busy(self, on: bool) -> None:
        self._answering = on
        self.send_button.setVisible(not on)
        self.send_button.setEnabled(not on and self._space is not None)
        self.stop_button.setVisible(on)
        self.stop_button.setEnabled(on)

    def _on_text(self, piece: str) -> None:
        if not self._live:
            self.status.setText("Claude is answering…")
        self._live += piece
        self.transcript.add_piece(piece)

    def _on_done(self, reply: ChatReply) -> None:
        waiting = sum(p.state == "pending" for p in reply.proposals)
        asks = (
            ""
            if not waiting
            else "A new proposal waits for your approval."
            if waiting == 1
            else f"{waiting} new proposals wait for your approval."
        )
        self._finish("Stopped." if reply.stopped else asks)
        self.refresh_sessions(select=reply.session_id)

    def _on_failed(self, message: str) -> None:
        self._finish(message)
        self.refresh_sessions()

    def _finish(self, status: str) -> None:
        self.status.setText(status)
        self._busy(False)
        self.check_key()
        if self.isVisible():
            self.input.setFocus()

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
            self.status.setText("Put in the forge tray: adjust it there, then Generate.")
        elif ok:
            self.status.setText("Applied as your own step — Edit ▸ Undo takes it back.")
        self.show_session()
        return ok

    def reject(self, proposal_id: str) -> None:
        """Through the host like any step (a joined space's host applies it)."""
        if self._space is None:
            return
        if self._host.run([cc.RejectProposal(proposal_id)], "Reject proposal"):
            self.status.setText("Rejected; nothing changed.")
        self.show_session()

    def always_allow(self, proposal_id: str, tool: str) -> None:
        if self._host.run([cc.AllowAssistantTool(tool)], f"always allow {tool}"):
            self.approve(proposal_id, standing=True)

    def shutdown(self) -> None:
        """Stop a running turn and wait for it (bounded), e.g. when the window closes."""
        self.runner.stop()
        self.runner.wait(5.0)
