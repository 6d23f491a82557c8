"""Shared helpers for the asset details tests: real media files (made by the media
test generators), imports into a space, running jobs, and the widget under test."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.imports import import_files
from studio.core.protocol import TypedEvent
from studio.core.space import Space
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.ui.details import AssetDetailsWidget
from studio.ui.feed_follower import typed
from tests.conftest import OWNER
from tests.media.conftest import VIDEO_SECONDS, encode_video, first_encoder, photo_like, write_wav
from tests.ui.fake_host import FakeHost

PLAIN = c.GenerationOptions(no_style=True, seed=7)
IMAGE = c.MediaKindName.IMAGE
_FILES: dict[str, Path] = {}


@pytest.fixture(scope="session", name="media")
def media_fixture(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Real files: two photos, a WAV and (when an encoder is there) an MP4."""
    if not _FILES:
        root = tmp_path_factory.mktemp("details-media")
        for name, size, seed in (("knight.png", (640, 480), 1), ("castle.jpg", (800, 500), 2)):
            photo_like(*size, seed=seed).save(root / name)
            _FILES[name.split(".")[0]] = root / name
        write_wav(root / "chime.wav", 1.5)
        _FILES["chime"] = root / "chime.wav"
        codec = first_encoder("libx264", "h264", "mpeg4")
        if codec:
            opts = {"preset": "ultrafast"} if codec != "mpeg4" else {}
            encode_video(root / "clip.mp4", "mp4", codec, "aac", seconds=VIDEO_SECONDS, **opts)
            _FILES["clip"] = root / "clip.mp4"
    return _FILES


def import_one(space: Space, path: Path, into: str | None = None) -> tuple[str, str]:
    report = import_files(space, [path], OWNER, into=into)
    assert not report.refused, report.refused
    item = report.imported[0]
    return item.asset_id, item.variant_id


def run_jobs(space: Space) -> None:
    scheduler = Scheduler(space, InlineExecutor())
    assert scheduler.run_until_idle(timeout_s=20)
    scheduler.close()


def generate(space: Space, prompt: str = "a knight", **kw: object) -> tuple[str, str]:
    applied = space.apply(c.RequestGeneration(prompt, IMAGE, options=PLAIN, **kw), OWNER)  # type: ignore[arg-type]
    return applied.created["asset_id"], applied.created["variant_id"]


class Details:
    """The dock widget on a fake host, fed with the space's events like the window."""

    def __init__(self, qtbot, space: Space) -> None:  # type: ignore[no-untyped-def]
        self.space = space
        self.host = FakeHost(space)
        self.widget = AssetDetailsWidget(self.host)
        qtbot.addWidget(self.widget)
        self.widget.resize(380, 1100)
        self.widget.set_space(space)
        self.events: list[TypedEvent] = []
        self._unsubscribe = space.subscribe(typed(self.events.append))

    def pump(self) -> None:
        """Deliver queued events (the window's bridge does this on the main thread)."""
        while self.events:
            self.widget.apply_event(self.events.pop(0))
        QApplication.processEvents()

    def show(self, asset_id: str) -> AssetDetailsWidget:
        self.widget.show_asset(asset_id)
        self.widget.show()
        QApplication.processEvents()
        return self.widget

    def close(self) -> None:
        self._unsubscribe()


@pytest.fixture(name="local_space")
def local_space_fixture(tmp_path: Path):  # type: ignore[no-untyped-def]
    """A space whose providers are the app's default registry (offline ``local``)."""
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers

    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Local")
        with studio.open_space(entry.slug) as sp:
            yield sp
