"""The first-run Welcome space."""

from __future__ import annotations

from pathlib import Path

from studio.core.studio import Studio
from studio.core.welcome import create_welcome_space, needs_welcome
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from tests.conftest import OWNER


def test_welcome_space_is_created_once_and_fills_offline(tmp_path: Path) -> None:
    with Studio(
        tmp_path / "home", providers=build_providers
    ) as studio:  # the real registry: the local provider
        assert needs_welcome(studio)
        entry = create_welcome_space(studio, OWNER)
        assert not needs_welcome(studio)
        with studio.open_space(entry.slug) as space:
            snap = space.snapshot()
            assert {a.media_kind for a in snap.assets} == {"image", "audio", "video"}
            assert len(snap.frames) == 1
            assert {v.status for v in space.all_variants()} == {"pending"}
            sched = Scheduler(space, InlineExecutor())
            assert sched.run_until_idle(timeout_s=120)
            assert {v.status for v in space.all_variants()} == {"completed"}
