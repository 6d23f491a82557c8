"""The chat dock as a person uses it (what looking at it in a real window showed): the
keyboard (Enter sends, Shift+Enter a new line, Esc stops), Stop in Send's place, the
transcript showing the end of a chat and following a stream only while the reader is
at the bottom, Markdown answers, the cards' room only when there are cards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QFocusEvent
from PySide6.QtWidgets import QApplication, QWidget

from studio.assistant.client import ClaudeClient
from studio.core import chat_commands as cc
from studio.core.actor import Actor
from studio.core.space import Space
from studio.ui.assistant import ChatDockWidget
from tests.conftest import OWNER
from tests.fakes.anthropic import AnthropicFake, turn
from tests.ui.fake_host import FakeHost

KEY = "sk-ant-api03-dockuse000000000000000000000000000000"
WAIT_MS = 10_000


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake(KEY) as f:
        yield f


@pytest.fixture
def dock(qtbot, space: Space, fake: AnthropicFake) -> Iterator[ChatDockWidget]:  # type: ignore[no-untyped-def]
    widget = ChatDockWidget(FakeHost(space), lambda: ClaudeClient(KEY, base_url=fake.url))
    qtbot.addWidget(widget)
    widget.set_space(space)
    widget.resize(420, 640)
    widget.show()
    yield widget
    widget.shutdown()


def test_enter_sends_shift_enter_is_a_new_line_and_esc_stops(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake
) -> None:  # type: ignore[no-untyped-def]
    fake.script("messages", turn("blah " * 400, delay_s=0.05))
    dock.input.setFocus()
    qtbot.keyClicks(dock.input, "two")
    qtbot.keyClick(dock.input, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(dock.input, "lines")
    assert dock.input.toPlainText() == "two\nlines" and not dock.runner.busy
    assert dock.stop_button.isHidden() and dock.send_button.isVisible()
    with qtbot.waitSignal(dock.runner.text, timeout=WAIT_MS):
        qtbot.keyClick(dock.input, Qt.Key.Key_Return)
    assert dock.input.toPlainText() == "" and "two\nlines" in dock.transcript.toPlainText()
    assert dock.stop_button.isVisible() and dock.send_button.isHidden()  # one in its place
    assert dock.focusWidget() is dock.input
    with qtbot.waitSignal(dock.runner.done, timeout=WAIT_MS) as done:
        qtbot.keyClick(dock.input, Qt.Key.Key_Escape)
    assert done.args[0].stopped and dock.status.text() == "Stopped."
    assert dock.send_button.isVisible() and dock.send_button.isEnabled()
    assert dock.stop_button.isHidden()


def test_after_clicking_send_the_message_box_keeps_the_keyboard(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake
) -> None:  # type: ignore[no-untyped-def]
    fake.script("messages", turn("blah " * 200, delay_s=0.05))
    dock.input.setPlainText("hello")
    with qtbot.waitSignal(dock.runner.text, timeout=WAIT_MS):
        qtbot.mouseClick(dock.send_button, Qt.MouseButton.LeftButton)
    assert dock.focusWidget() is dock.input  # not the hidden Send button: Esc works
    with qtbot.waitSignal(dock.runner.done, timeout=WAIT_MS):
        qtbot.keyClick(dock.input, Qt.Key.Key_Escape)


def _chat(space: Space, paragraphs: int) -> str:
    sid = space.apply(cc.CreateChatSession("Long"), OWNER).created["session_id"]
    for i in range(paragraphs):
        space.apply(cc.AddChatMessage(sid, "user", ({"type": "text", "text": f"q{i}"},)), OWNER)
        said = ({"type": "text", "text": f"Answer {i}: " + "words " * 60},)
        space.apply(cc.AddChatMessage(sid, "assistant", said), Actor.assistant(OWNER))
    return sid


def test_a_chat_opens_at_its_end_and_a_redraw_keeps_the_readers_place(
    qtbot, dock: ChatDockWidget, space: Space
) -> None:  # type: ignore[no-untyped-def]
    _chat(space, 12)
    dock.refresh_sessions()
    bar = dock.transcript.verticalScrollBar()
    # the document is laid out in steps from the event loop (under load the range still
    # grows after the redraw): the view follows it to the end
    qtbot.waitUntil(lambda: bar.maximum() > 0 and bar.value() == bar.maximum())
    opened = bar.maximum()
    dock.transcript.setFixedWidth(dock.transcript.width() // 2)  # longer lines wrap
    qtbot.waitUntil(lambda: bar.maximum() > opened)
    qtbot.waitUntil(lambda: bar.value() == bar.maximum())  # still the latest turn in sight
    bar.setValue(bar.maximum() // 3)  # the reader scrolls up to reread
    place = bar.value()
    dock.refresh_sessions()  # e.g. a proposal decided elsewhere
    assert bar.value() == place


def test_the_stream_is_followed_only_while_the_reader_is_at_the_bottom(
    qtbot, dock: ChatDockWidget, space: Space, fake: AnthropicFake
) -> None:  # type: ignore[no-untyped-def]
    sid = _chat(space, 12)
    dock.refresh_sessions(select=sid)
    fake.script("messages", turn("more " * 600, delay_s=0.02))
    bar = dock.transcript.verticalScrollBar()
    dock.input.setPlainText("go on")
    with qtbot.waitSignal(dock.runner.text, timeout=WAIT_MS):
        dock.send()
    qtbot.waitUntil(lambda: len(dock._live) > 200, timeout=WAIT_MS)
    assert bar.value() == bar.maximum()  # followed
    bar.setValue(10)  # the reader scrolls up while it streams
    grown = len(dock._live)
    qtbot.waitUntil(lambda: len(dock._live) > grown + 300, timeout=WAIT_MS)
    assert bar.value() == 10 and bar.maximum() > 10  # not yanked back down
    with qtbot.waitSignal(dock.runner.done, timeout=WAIT_MS):
        dock.stop()


def test_markdown_answers_and_room_for_cards_only_when_there_are_some(
    qtbot, dock: ChatDockWidget, space: Space
) -> None:  # type: ignore[no-untyped-def]
    sid = space.apply(cc.CreateChatSession("Md"), OWNER).created["session_id"]
    md = "Two **bold** ideas:\n\n- a kite\n- a boat"
    space.apply(cc.AddChatMessage(sid, "user", ({"type": "text", "text": "*hi*"},)), OWNER)
    claude = Actor.assistant(OWNER)
    space.apply(cc.AddChatMessage(sid, "assistant", ({"type": "text", "text": md},)), claude)
    dock.refresh_sessions()
    text = dock.transcript.toPlainText()
    assert "Claude: Two bold ideas:" in text and "**" not in text  # rendered
    assert "You: *hi*" in text  # the person's words as typed
    uses = ({"type": "tool_use", "id": "t1", "name": "list_assets", "input": {}},)
    space.apply(cc.AddChatMessage(sid, "assistant", uses), claude)
    uses = ({"type": "tool_use", "id": "t2", "name": "rename_asset", "input": {}},)
    space.apply(cc.AddChatMessage(sid, "assistant", uses), claude)
    dock.refresh_sessions()
    text = dock.transcript.toPlainText()
    assert "· looked up: list assets" in text and "· proposed: rename asset" in text
    assert dock.card_list.isHidden()  # no proposals: all the room is the transcript's
    frame = {"command": "frame:create", "title": "F", "x": 0, "y": 0, "width": 5, "height": 5}
    long_summary = "make a frame " + "very " * 80 + "long"
    space.apply(cc.CreateProposal(sid, "make_frame", (frame,), long_summary), claude)
    dock.refresh_sessions()
    assert dock.card_list.isVisible()
    (card,) = dock.cards_shown()
    assert card.title.toolTip() == long_summary and len(card.title.text()) < 260
    assert card.state.text() == "Waits for your approval"


def test_no_chats_yet_says_so(qtbot, dock: ChatDockWidget) -> None:  # type: ignore[no-untyped-def]
    assert dock.sessions.count() == 0 and dock.sessions.placeholderText() == "No chats yet"
    assert "Enter sends" in dock.transcript.toPlainText()  # the empty chat's hint


def test_deciding_a_card_keeps_the_lists_place_and_a_new_one_is_brought_into_sight(
    qtbot, dock: ChatDockWidget, space: Space
) -> None:  # type: ignore[no-untyped-def]
    sid = space.apply(cc.CreateChatSession("Many"), OWNER).created["session_id"]
    claude = Actor.assistant(OWNER)

    def propose(title: str) -> None:
        frame = {"command": "frame:create", "title": title, "x": 0, "y": 0, "width": 5, "height": 5}
        space.apply(cc.CreateProposal(sid, "make_frame", (frame,), f"a frame {title}"), claude)

    for i in range(6):
        propose(f"F{i}")
    dock.refresh_sessions(select=sid)
    bar = dock.card_list.verticalScrollBar()
    assert dock.card_list.height() >= 120  # room for a card, though hidden before
    qtbot.waitUntil(lambda: _in_sight(dock.cards_shown()[-1]))  # the newest
    bar.setValue(bar.maximum() // 2)
    place = bar.value()
    dock.cards_shown()[2].reject_button.click()
    assert [c.proposal.state for c in dock.cards_shown()].count("rejected") == 1
    qtbot.waitUntil(lambda: bar.value() == place, timeout=900)  # the reader's place
    qtbot.wait(100)
    assert bar.value() == place  # and it stays there, not at the top
    assert not _in_sight(dock.cards_shown()[-1])
    propose("F6")
    dock.refresh_sessions(select=sid)
    qtbot.waitUntil(lambda: _in_sight(dock.cards_shown()[-1]), timeout=2_000)


def _in_sight(card: QWidget) -> bool:
    return not card.visibleRegion().isEmpty()


def test_without_a_key_the_notice_opens_the_keys_page_and_enhance_says_where(
    qtbot, space: Space, fake: AnthropicFake
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QPlainTextEdit

    from studio.ui.assistant.enhance import NO_KEY, PromptEnhancer

    dock = ChatDockWidget(FakeHost(space), lambda: ClaudeClient(KEY), has_key=lambda: False)
    qtbot.addWidget(dock)
    dock.set_space(space)
    assert "Preferences ▸ Keys</a>" in dock.notice.text() and not dock.send_button.isEnabled()
    with qtbot.waitSignal(dock.add_key, timeout=1_000):
        dock.notice.linkActivated.emit("keys")
    prompt = QPlainTextEdit("a kite")
    qtbot.addWidget(prompt)
    errors: list[str] = []
    enhancer = PromptEnhancer(
        prompt,
        lambda: "image",
        lambda: ClaudeClient(KEY, base_url=fake.url),
        on_error=errors.append,
        has_key=lambda: False,
    )
    enhancer.enhance()
    assert errors == [NO_KEY] and "Preferences ▸ Keys" in NO_KEY
    assert fake.requests == [] and enhancer.button.isEnabled()


def test_deleting_a_chat_says_how_to_bring_it_back(
    qtbot, dock: ChatDockWidget, space: Space
) -> None:  # type: ignore[no-untyped-def]
    _chat(space, 1)
    dock.refresh_sessions()
    assert dock.delete_session() and dock.sessions.count() == 0
    assert dock.status.text() == "Deleted “Long” — Edit ▸ Undo brings it back."


def test_the_sdk_starts_loading_when_the_person_starts_writing_with_a_key(
    qtbot, space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.assistant import worker

    started: list[str] = []
    monkeypatch.setattr(worker, "warm_up_sdk", lambda: started.append("sdk"))
    monkeypatch.setattr("studio.ui.assistant.dock.warm_up_sdk", lambda: started.append("sdk"))
    asked: list[bool] = []

    def has_key(k: bool) -> bool:
        asked.append(k)
        return k

    for key, expected in ((False, []), (True, ["sdk"])):
        dock = ChatDockWidget(
            FakeHost(space), lambda: ClaudeClient(KEY), has_key=lambda k=key: has_key(k)
        )
        qtbot.addWidget(dock)
        dock.set_space(space)
        before = len(asked)
        QApplication.sendEvent(dock.input, QFocusEvent(QEvent.Type.FocusIn))
        assert started == expected
        assert len(asked) == before  # focus asks no keyring (it can block, or prompt)
