"""The open window follows changes written by other processes, through the change feed,
within a second; its own changes reach the views once, in seq order."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.core import commands as c
from studio.core.protocol import AssetData, TypedEvent
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.feed_follower import FeedFollower
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER

ROOT = Path(__file__).resolve().parents[2]


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


def _cli(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _open(window: MainWindow, qtbot, name: str = "Board") -> str:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space(name)
    window.open_space(entry.id)
    assert window.session is not None
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)  # snapshot loaded
    return entry.slug


def _arrivals(window: MainWindow) -> list[tuple[TypedEvent, int]]:
    """Every event the views get, with the wall-clock millisecond it got there."""
    got: list[tuple[TypedEvent, int]] = []
    assert window.session is not None
    window.session.core_event.connect(lambda e: got.append((e, time.time_ns() // 1_000_000)))
    return got


def test_a_file_imported_by_another_process_shows_up_within_a_second(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    slug = _open(window, qtbot)
    got = _arrivals(window)
    picture = tmp_path / "from-the-cli.png"
    Image.new("RGB", (40, 30), "green").save(picture)
    proc = _cli(window.studio.paths.home, "import", slug, str(picture))
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    qtbot.waitUntil(
        lambda: any(
            card.facts.active is not None and card.facts.active.status == "completed"
            for card in window.scene.cards()
        ),
        timeout=1_000,  # the commit is already done when the process has ended
    )
    (card,) = window.scene.cards()
    assert card.asset.name == "from-the-cli"
    assert window.space is not None
    seen = {e.seq: at for e, at in got if e.seq}
    for change in window.space.changes(0):
        assert change.seq in seen, f"change {change.seq} ({change.command}) never arrived"
        assert seen[change.seq] - change.at <= 1_000, change.command


def test_own_and_other_changes_arrive_once_in_seq_order(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    slug = _open(window, qtbot)
    space = window.space
    assert space is not None
    got = _arrivals(window)
    mine = space.apply(c.CreateAsset("Mine", c.MediaKindName.IMAGE), OWNER)
    theirs = _cli(
        window.studio.paths.home,
        "apply",
        slug,
        json.dumps({"command": "asset:create", "name": "Theirs", "media_kind": "audio"}),
    )
    qtbot.waitUntil(lambda: theirs.poll() is not None, timeout=60_000)
    assert theirs.returncode == 0
    aid = mine.created["asset_id"]
    space.apply(c.MoveAssets((c.Position(aid, 50.0, 60.0),)), OWNER)
    last = space.last_seq()
    qtbot.waitUntil(lambda: any(e.seq == last for e, _ in got), timeout=2_000)
    qtbot.wait(300)  # a poll or two later: nothing arrives twice
    seqs = [e.seq for e, _ in got if e.seq]
    assert seqs == sorted(set(seqs)) == list(range(mine.seq, last + 1))
    names = sorted(card.asset.name for card in window.scene.cards())
    assert names == ["Mine", "Theirs"]


def test_a_generation_queued_by_another_process_shows_and_runs_here(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    """``studio generate`` only queues: the open window shows the placeholder card within
    a second and its queue (woken by the feed's ``job:created``) runs the job."""
    slug = _open(window, qtbot)
    got = _arrivals(window)
    proc = _cli(
        window.studio.paths.home, "generate", slug, "a small red boat", "--provider", "local"
    )
    qtbot.waitUntil(lambda: proc.poll() is not None, timeout=60_000)
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=1_000)
    qtbot.waitUntil(
        lambda: (
            (active := window.scene.cards()[0].facts.active) is not None
            and active.status == "completed"
        ),
        timeout=30_000,
    )
    assert window.space is not None
    created = [ch for ch in window.space.changes(0) if ch.command == "generate:request"]
    assert len(created) == 1
    seen = {e.seq: at for e, at in got if e.seq}
    assert seen[created[0].seq] - created[0].at <= 1_000


def test_the_follower_never_waits_for_the_write_lock(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    """While a writer of this process holds the space's lock (a long command), the UI
    thread's follower still opens, looks and delivers other writers' changes at once."""
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Board")
        with studio.open_space(entry.slug) as here, studio.open_space(entry.slug) as there:
            held = threading.Event()
            release = threading.Event()

            def long_write() -> None:
                with here._db.lock:
                    held.set()
                    release.wait(20)

            writer = threading.Thread(target=long_write, daemon=True)
            writer.start()
            assert held.wait(5)
            try:
                t0 = time.monotonic()
                follower = FeedFollower(here)
                got: list[TypedEvent] = []
                follower.changed.connect(got.append)
                there.apply(c.CreateAsset("Elsewhere", c.MediaKindName.IMAGE), OWNER)
                qtbot.waitUntil(lambda: bool(got), timeout=1_000)
                assert time.monotonic() - t0 < 1.0
                assert writer.is_alive()  # the lock was held all along
                assert [e.kind for e in got] == ["asset:created"]
                assert isinstance(got[0].data, AssetData) and got[0].data.name == "Elsewhere"
            finally:
                release.set()
                writer.join(5)
            follower.close()
