"""Chatting on a joined space (a replica): the host runs the assistant with its own key,
so a peer's chat is refused in one sentence — before any key is looked for — while the
host's chats reach the peer read-only, and the peer's approve / reject go to the host
(from the CLI and from the app's dock)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

import studio.keys as keys_module
from studio.assistant.chat import Chat, ChatOnReplicaError
from studio.assistant.client import ClaudeClient
from studio.cli.main import main
from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.sync import peer
from studio.sync.host import HostLimits
from studio.ui.main_window import MainWindow
from studio.ui.sharing import window as sharing_window
from tests.core.tables import differences, tables
from tests.fakes.anthropic import AnthropicFake
from tests.sync.harness import HostThread
from tests.sync.test_host import ME, _invite, _join, _sync
from tests.workers.cloud_helpers import MemoryKeyring, using_keyring

KEY = "sk-ant-api03-replica00000000000000000000000000000"
WAIT_MS = 20_000


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[HostThread, str, str]]:
    """A host sharing a space whose owner chatted: one chat, two turns, a proposal."""
    home = tmp_path / "host"
    with Studio(home) as s:
        entry = s.create_space("Shared Board")
        with s.open_space(entry.slug) as space:
            sid = space.apply(cc.CreateChatSession("Ideas"), ME).created["session_id"]
            said = ({"type": "text", "text": "what should act one hold?"},)
            space.apply(cc.AddChatMessage(sid, "user", said), ME)
            answer = ({"type": "text", "text": "A frame for the opening scene."},)
            space.apply(cc.AddChatMessage(sid, "assistant", answer), Actor.assistant(ME))
            frame = c.command_to_json(c.CreateFrame("Act one", 0, 0, 10, 10))
            pid = space.apply(
                cc.CreateProposal(sid, "make_frame", (frame,), "a frame for act one"),
                Actor.assistant(ME),
            ).created["proposal_id"]
    h = HostThread(home, ["shared-board"], limits=HostLimits(send_timeout=5))
    try:
        yield h, sid, pid
    finally:
        h.stop()


def _host_frames(home: Path) -> list[str]:
    with Studio(home) as s, s.open_space("shared-board") as space:
        return [f.title for f in space.snapshot().frames]


def test_a_peer_cannot_chat_sees_the_hosts_chats_and_approves_through_the_host(
    shared: tuple[HostThread, str, str],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    host, sid, pid = shared
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    _sync(pia, slug)
    with Studio(pia) as s, s.open_space(slug) as replica, AnthropicFake(KEY) as fake:
        assert [x.title for x in chat_reads.sessions(replica)] == ["Ideas"]
        said = [m.blocks[0]["text"] for m in chat_reads.messages(replica, sid)]
        assert said == ["what should act one hold?", "A frame for the opening scene."]
        before = tables(replica)
        chat = Chat(replica, ME, ClaudeClient(KEY, base_url=fake.url))
        for attempt in (lambda: chat.send("hello"), lambda: chat.send("more", session_id=sid)):
            with pytest.raises(ChatOnReplicaError, match="runs on the host that shares"):
                attempt()
        chat.client.close()
        assert fake.requests == [] and differences(before, tables(replica)) == []
    # the CLI: one line, said before any key is looked for (there is none here)
    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    capsys.readouterr()
    with using_keyring(MemoryKeyring()):
        assert main(["--home", str(pia), "chat", slug, "hello"]) == 1
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and "runs on the host that shares" in err
    assert main(["--home", str(pia), "chats", slug, sid]) == 0
    out, _ = capsys.readouterr()
    assert "assistant: A frame for the opening scene." in out and pid in out
    # approving from the peer's CLI is the peer's own step, applied by the host
    assert main(["--home", str(pia), "approve", slug, pid]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"applied proposal {pid} (by the host)", err
    assert _host_frames(host.home) == ["Act one"]
    with Studio(pia) as s, s.open_space(slug) as replica:
        assert chat_reads.proposal(replica, pid).state == "applied"


def test_the_peers_dock_shows_the_hosts_chat_read_only_and_rejects_through_the_host(
    shared: tuple[HostThread, str, str], tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    host, sid, pid = shared
    monkeypatch.setenv(sharing_window.BIND_ENV, "127.0.0.1")
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)  # a key here changes nothing: the host chats
    studio = Studio(tmp_path / "pia", providers=build_providers)
    w = MainWindow(studio, ME)
    qtbot.addWidget(w)
    w.show()
    try:
        dialog = sharing_window.open_join(w)
        dialog.link.setText(_invite(host).link())
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.space is not None and w.space.is_replica, timeout=WAIT_MS)
        dock = w.assistant
        qtbot.waitUntil(lambda: dock.sessions.count() == 1, timeout=WAIT_MS)
        assert dock.sessions.currentText() == "Ideas"
        assert "A frame for the opening scene." in dock.transcript.toPlainText()
        assert not dock.notice.isHidden() and "runs on the host" in dock.notice.text()
        for control in (dock.send_button, dock.input, dock.new_button, dock.actor_mode):
            assert not control.isEnabled()
        dock.input.setPlainText("hello")
        dock.send()
        assert not dock.runner.busy
        (card,) = dock.cards_shown()
        assert card.proposal.state == "pending" and card.reject_button.isVisible()
        card.reject_button.click()  # sent to the host; the answer comes back as a step
        qtbot.waitUntil(
            lambda: [x.proposal.state for x in dock.cards_shown()] == ["rejected"],
            timeout=WAIT_MS,
        )
        with Studio(host.home) as s, s.open_space("shared-board") as space:
            assert chat_reads.proposal(space, pid).state == "rejected"
        # the host chats on: its new turn reaches the peer's dock live
        with Studio(host.home) as s, s.open_space("shared-board") as space:
            more = ({"type": "text", "text": "Then a second frame for act two."},)
            space.apply(cc.AddChatMessage(sid, "assistant", more), Actor.assistant(ME))
        qtbot.waitUntil(
            lambda: "a second frame for act two" in dock.transcript.toPlainText(),
            timeout=WAIT_MS,
        )
    finally:
        w.close()
        studio.close()


def test_a_peer_cannot_run_an_unapproved_proposal_from_its_cli(
    shared: tuple[HostThread, str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host, _sid, pid = shared
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    run = c.command_to_json(cc.RunProposal(pid))
    with Studio(pia) as s, pytest.raises(peer.HostError, match="no recorded approval"):
        asyncio.run(peer.send(s, slug, [run], timeout=20))
    capsys.readouterr()
    assert main(["--home", str(pia), "reject", slug, pid]) == 0
    assert capsys.readouterr().out.strip() == f"rejected proposal {pid} (by the host)"
    assert _host_frames(host.home) == []
