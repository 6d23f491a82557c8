"""The views consume typed events: the feed follower decodes each event once against the
protocol, and an event it cannot read (an unknown kind from a newer writer, a payload
damaged on disk) is logged once per kind and skipped — no view ever crashes on it."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.events import Event
from studio.core.protocol import AssetData, TypedEvent
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.feed_follower import EventDecoder, FeedFollower, typed
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    yield w
    w.close()
    studio.close()


def _write_change(path: Path, events: list[dict[str, object]]) -> None:
    """A change-log entry as another (newer, or damaged) writer left it."""
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute(
                "INSERT INTO changes (at, actor_id, actor_name, actor_role, command, payload, "
                "events) VALUES (0, 'peer', 'Peer', 'editor', 'asset:create', '{}', ?)",
                (json.dumps(events),),
            )
    finally:
        conn.close()


def test_unreadable_events_are_logged_once_and_skipped(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    caplog: pytest.LogCaptureFixture,
) -> None:
    entry = window.studio.create_space("Board")
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    space = window.space
    assert space is not None and window.session is not None
    got: list[object] = []
    window.session.core_event.connect(got.append)
    caplog.set_level(logging.WARNING, logger="studio.ui.feed_follower")
    path = space._db.path
    assert path is not None
    # a kind this version does not know (twice), and a known kind with a damaged payload
    _write_change(path, [{"type": "asset:exploded", "data": {"id": "x"}}])
    _write_change(path, [{"type": "asset:exploded", "data": {"id": "y"}}])
    _write_change(path, [{"type": "asset:created", "data": {"name": "no id"}}])
    good = space.apply(c.CreateAsset("Fine", c.MediaKindName.IMAGE), OWNER)
    space.publish_transient(Event("job:progress", {"job_id": "j"}))  # malformed, transient
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=2_000)
    qtbot.wait(250)  # another poll: nothing more arrives
    assert [card.asset.name for card in window.scene.cards()] == ["Fine"]
    assert all(isinstance(e, TypedEvent) for e in got)
    assert [e.kind for e in got if isinstance(e, TypedEvent)] == ["asset:created"]
    assert got[0].seq == good.seq  # type: ignore[attr-defined]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len([w for w in warnings if "asset:exploded" in w]) == 1  # once per kind
    assert len([w for w in warnings if "asset:created" in w]) == 1
    assert len([w for w in warnings if "job:progress" in w]) == 1
    assert window.session.follower.decode.skipped == 4
    # the window goes on: a later change still shows
    space.apply(c.CreateAsset("Later", c.MediaKindName.AUDIO), OWNER)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=2_000)


def test_the_follower_hands_out_typed_payloads(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Board")
        with studio.open_space(entry.slug) as space:
            follower = FeedFollower(space)
            got: list[TypedEvent] = []
            follower.changed.connect(got.append)
            made = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE, tags=("a",)), OWNER)
            qtbot.waitUntil(lambda: bool(got), timeout=1_000)
            (event,) = got
            assert event.kind == "asset:created" and event.seq == made.seq
            assert isinstance(event.data, AssetData)
            assert event.data.name == "Hero" and event.data.tags == ("a",)
            follower.close()


def test_typed_skips_what_does_not_decode() -> None:
    seen: list[TypedEvent] = []
    deliver = typed(seen.append)
    deliver(Event("queue:paused", {}, 3))
    deliver(Event("no:such", {}, 4))
    deliver(Event("frame:deleted", {"id": 5}, 5))  # wrong type
    assert [(e.kind, e.seq) for e in seen] == [("queue:paused", 3)]
    decode = EventDecoder()
    assert decode(Event("no:such", {})) is None and decode.skipped == 1
