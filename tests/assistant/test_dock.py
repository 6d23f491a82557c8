"""The chat dock (pytest-qt) against the fake Messages API: send and stream, stop,
approve a generation proposal (a placeholder appears, undoable), reject (nothing
changes), and the no-key state."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.assistant.client import ClaudeClient
from studio.assistant.errors import NoKeyError
from studio.core import chat_reads
from studio.core.space import Space
from studio.ui.assistant import ChatDockWidget
from tests.core.tables import differences, tables
from tests.fakes.anthropic import AnthropicFake, turn
from tests.ui.fake_host import FakeHost

KEY = "sk-ant-api03-dock0000000000000000000000000000000"
WAIT_MS = 10_000


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake(KEY) as f:
        yield f


def _dock(qtbot, space: Space | None, factory: Callable[[], ClaudeClient]) -> ChatDockWidget:  # type: ignore[no-untyped-def]
    host = FakeHost(space)
    dock = ChatDockWidget(host, factory)
    qtbot.addWidget(dock)
    dock.set_space(space)
    return dock


@pytest.fixture
def dock(qtbot, space: Space, fake: AnthropicFake) -> Iterator[ChatDockWidget]:  # type: ignore[no-untyped-def]
    widget = _dock(qtbot, space, lambda: ClaudeClient(KEY, base_url=fake.url))
    yield widget
    widget.shutdown()


def _send(qtbot, dock: ChatDockWidget, text: str) -> None:  # type: ignore[no-untyped-def]
    dock.input.setPlainText(text)
    with qtbot.waitSignals([dock.runner.done], timeout=WAIT_MS, raising=True):
        dock.send_button.click()


def test_without_a_key_the_dock_says_what_is_missing(qtbot, space: Space) -> None:  # type: ignore[no-untyped-def]
    def no_key() -> ClaudeClient:
        raise NoKeyError()

    dock = _dock(qtbot, space, no_key)
    assert not dock.notice.isHidden() and "studio keys set anthropic" in dock.notice.text()
    assert not dock.send_button.isEnabled()
    dock.input.setPlainText("hello")
    dock.send()  # nothing happens, nothing breaks
    assert not dock.runner.busy and chat_reads.sessions(space) == []


def test_send_streams_the_reply_and_keeps_the_chat(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    pieces: list[str] = []
    dock.runner.text.connect(pieces.append)
    fake.script("messages", turn("A quiet space, nothing in it yet."))
    _send(qtbot, dock, "what is here?")
    assert len(pieces) > 1 and "".join(pieces) == "A quiet space, nothing in it yet."
    assert "A quiet space, nothing in it yet." in dock.transcript.toPlainText()
    assert dock.sessions.count() == 1 and dock.session_id() is not None
    assert dock.send_button.isEnabled() and not dock.stop_button.isEnabled()
    fake.script("messages", turn("Still nothing."))
    _send(qtbot, dock, "and now?")
    assert [m.role for m in chat_reads.messages(space, str(dock.session_id()))] == [
        "user",
        "assistant",
        "user",
        "assistant",
    ]


def test_stop_ends_a_long_answer(qtbot, dock: ChatDockWidget, fake: AnthropicFake) -> None:  # type: ignore[no-untyped-def]
    fake.script("messages", turn("blah " * 300, delay_s=0.05))
    dock.input.setPlainText("talk a lot")
    with qtbot.waitSignal(dock.runner.text, timeout=WAIT_MS):
        dock.send_button.click()
    assert dock.stop_button.isEnabled()
    with qtbot.waitSignal(dock.runner.done, timeout=WAIT_MS) as done:
        dock.stop_button.click()
    assert done.args[0].stopped and dock.status.text() == "Stopped."


def _propose_generation(qtbot, dock: ChatDockWidget, fake: AnthropicFake) -> None:  # type: ignore[no-untyped-def]
    fake.script(
        "messages",
        turn("", ("generate", {"prompt": "a red kite", "media_kind": "image"})),
        turn("I proposed a kite."),
    )
    dock.actor_mode.setChecked(True)
    _send(qtbot, dock, "make me a kite")


def test_approving_a_generation_proposal_makes_a_placeholder(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    _propose_generation(qtbot, dock, fake)
    (card,) = dock.cards_shown()
    assert card.proposal.state == "pending" and card.proposal.cost_usd is not None
    assert (
        "generate:request" in card.commands.toPlainText() and "estimated $0.01" in card.title.text()
    )
    assert space.all_variants() == []
    card.approve_button.click()
    (placeholder,) = space.all_variants()
    assert placeholder.status == "pending"
    (card,) = dock.cards_shown()
    assert card.proposal.state == "applied" and card.approve_button.isHidden()
    assert dock.status.text() == "Applied as your own step — Edit ▸ Undo takes it back."
    host = dock._host
    assert isinstance(host, FakeHost) and host.stack.undoText().startswith("via assistant")
    host.stack.undo()
    assert space.all_variants() == []


def test_rejecting_changes_nothing(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    _propose_generation(qtbot, dock, fake)
    before = tables(space)
    (card,) = dock.cards_shown()
    card.reject_button.click()
    assert {d.split(" ")[0] for d in differences(before, tables(space))} == {"proposals"}
    (card,) = dock.cards_shown()
    assert card.proposal.state == "rejected" and card.approve_button.isHidden()
    assert dock.status.text() == "Rejected; nothing changed."


def test_edit_then_approve_and_always_allow(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    _propose_generation(qtbot, dock, fake)
    (card,) = dock.cards_shown()
    card.edit_button.click()
    card.commands.setPlainText(card.commands.toPlainText().replace("a red kite", "a blue kite"))
    card.approve_button.click()
    (v,) = space.all_variants()
    assert space.variant_detail(v.id).recipe["prompt"] == "a blue kite"
    _propose_generation(qtbot, dock, fake)
    card = next(c for c in dock.cards_shown() if c.proposal.state == "pending")
    card.always_button.click()
    assert chat_reads.rules(space) == {"allow:generate": "1"}
    assert chat_reads.proposal(space, card.proposal.id).standing


def test_screenshot_of_the_dock_with_an_approval_card(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    _propose_generation(qtbot, dock, fake)
    dock.resize(460, 720)
    shot = tmp_path / "assistant.png"
    assert dock.grab().save(str(shot)) and shot.stat().st_size > 5_000


def test_a_proposal_decided_elsewhere_redraws_the_card(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    from studio.assistant.chat import reject
    from studio.core.protocol import decode_event
    from tests.conftest import OWNER

    _propose_generation(qtbot, dock, fake)
    (card,) = dock.cards_shown()
    seen: list[object] = []
    unsubscribe = space.subscribe(seen.append)
    reject(space, OWNER, card.proposal.id)  # e.g. `studio reject` in a terminal
    unsubscribe()
    for event in seen:
        dock.apply_event(decode_event(event))  # type: ignore[arg-type]
    qtbot.waitUntil(lambda: [c.proposal.state for c in dock.cards_shown()] == ["rejected"])


def test_rename_and_delete_a_chat_undoably(
    qtbot, dock: ChatDockWidget, fake: AnthropicFake, space: Space
) -> None:  # type: ignore[no-untyped-def]
    fake.script("messages", turn("Hi."))
    _send(qtbot, dock, "hello there")
    assert dock.sessions.currentText() == "hello there"
    assert dock.rename_session("Greetings")
    assert dock.sessions.currentText() == "Greetings"
    assert dock.delete_session() and dock.sessions.count() == 0
    host = dock._host
    assert isinstance(host, FakeHost)
    host.stack.undo()
    dock.refresh_sessions()
    assert [dock.sessions.itemText(i) for i in range(dock.sessions.count())] == ["Greetings"]


def test_a_proposal_list_deleted_before_its_timers_fire_is_not_called(qtbot) -> None:  # type: ignore[no-untyped-def]
    """Redrawing the cards asks to settle the scroll on the next turns; a list deleted
    meanwhile (the chat replaced) raised "Internal C++ object already deleted" from
    those timers (seen in CI). They run with the list as their context now."""
    import shiboken6

    from studio.ui.assistant.card import ProposalListWidget

    doomed = ProposalListWidget()
    doomed.show_proposals("chat-1", [])  # schedules the settling
    shiboken6.delete(doomed)
    kept = ProposalListWidget()
    qtbot.addWidget(kept)
    kept.show_proposals("chat-2", [])
    qtbot.wait(50)  # both timers' turns pass; pytest-qt fails on an exception in them
    assert shiboken6.isValid(kept) and not shiboken6.isValid(doomed)
