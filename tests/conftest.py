"""Shared fixtures. Qt tests need the offscreen platform, set before any Qt import."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# never touch a developer's real keyring; tests that need keys install an in-memory one
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

from studio.clock import CountingIds
from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.space import Space
from studio.core.studio import Studio
from workers.registry import ProviderRegistry
from workers.testing import ScriptedProvider

# under xdist, reports with hostile text must still reach the controller
pytest_plugins = ("tests.report_text",)

if TYPE_CHECKING:
    from tests.media.conftest import Sample


class FakeClock:
    """Milliseconds that move only when told (one tick per read keeps order visible)."""

    def __init__(self, start: int = 1_790_000_000_000) -> None:
        self.now = start

    def __call__(self) -> int:
        self.now += 1
        return self.now

    def advance(self, ms: int) -> None:
        self.now += ms


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# ---- generated media samples (tests/media/conftest.py makes them), once per session:
# the media, import and import-pool tests read them and never change them


@pytest.fixture(scope="session")
def media_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("media")


@pytest.fixture(scope="session")
def images(media_dir: Path) -> dict[str, Sample]:
    from tests.media.conftest import make_images

    root = media_dir / "images"
    root.mkdir()
    return make_images(root)


@pytest.fixture(scope="session")
def audio(media_dir: Path) -> dict[str, Sample]:
    from tests.media.conftest import make_audio

    root = media_dir / "audio"
    root.mkdir()
    return make_audio(root)


@pytest.fixture(scope="session")
def video(media_dir: Path) -> dict[str, Sample]:
    from tests.media.conftest import make_video

    root = media_dir / "video"
    root.mkdir()
    return make_video(root)


@pytest.fixture(scope="session")
def samples(
    images: dict[str, Sample], audio: dict[str, Sample], video: dict[str, Sample]
) -> dict[str, Sample]:
    return {**images, **audio, **video}


@pytest.fixture
def provider() -> ScriptedProvider:
    return ScriptedProvider("scripted")


@pytest.fixture
def studio(tmp_path: Path, clock: FakeClock, provider: ScriptedProvider) -> Iterator[Studio]:
    registry = ProviderRegistry([provider])
    with Studio(tmp_path / "home", clock=clock, ids=CountingIds(), providers=registry) as s:
        yield s


@pytest.fixture
def space(studio: Studio) -> Iterator[Space]:
    entry = studio.create_space("Test Space")
    with studio.open_space(entry.slug) as sp:
        yield sp


@pytest.fixture
def gil_pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every :class:`~studio.core.reads.GilPause` lets the GIL go at each look at the
    clock; the list records each time it did (a sleep of 0 s)."""
    import time

    from studio.core import reads

    handed: list[float] = []
    real_sleep = time.sleep

    def counting_sleep(s: float) -> None:
        if s == 0:
            handed.append(s)
        real_sleep(s)

    monkeypatch.setattr(reads.time, "sleep", counting_sleep)
    monkeypatch.setattr(reads, "PAUSE_EVERY_S", 0.0)
    return handed


OWNER = Actor("u-owner", "Olive", Role.OWNER)
EDITOR = Actor("u-editor", "Eddie", Role.EDITOR)
VIEWER = Actor("u-viewer", "Vera", Role.VIEWER)


@pytest.fixture
def owner() -> Actor:
    return OWNER


@dataclass(frozen=True)
class Made:
    asset_id: str
    variant_id: str


def add_asset(space: Space, name: str = "Hero", kind: str = "image", **kw: object) -> str:
    applied = space.apply(c.CreateAsset(name=name, media_kind=c.MediaKindName(kind), **kw), OWNER)  # type: ignore[arg-type]
    return applied.created["asset_id"]


def add_variant(
    space: Space,
    asset_id: str | None = None,
    *,
    name: str = "Hero",
    kind: str = "image",
    payload: bytes = b"not really a png, but whole",
) -> Made:
    """A completed variant with a small media file, bypassing the probe (core tests)."""
    begun = space.apply(
        c.BeginUpload(
            media_kind=c.MediaKindName(kind),
            original_name=f"{name}.bin",
            asset_id=asset_id,
            name=name,
        ),
        OWNER,
    )
    aid, vid = begun.created["asset_id"], begun.created["variant_id"]
    slug = space.asset(aid).slug
    rel = f"{slug}/{vid}/original.bin"
    (space.media_dir / rel).parent.mkdir(parents=True, exist_ok=True)
    (space.media_dir / rel).write_bytes(payload)
    space.apply(
        c.CompleteVariant(
            variant_id=vid,
            media_path=rel,
            mime="application/octet-stream",
            size_bytes=len(payload),
            sha256=hashlib.sha256(payload).hexdigest(),
            width=64,
            height=64,
        ),
        Actor.system(),
    )
    return Made(aid, vid)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests marked ``slow`` run only when asked for (``-m slow``, or STUDIO_SLOW=1);
    the default (CI) set keeps their short variants."""
    expr = str(config.getoption("markexpr") or "")
    if os.environ.get("STUDIO_SLOW") == "1" or ("slow" in expr and "not slow" not in expr):
        return
    skip = pytest.mark.skip(reason="slow: run with -m slow or STUDIO_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") is not None:
            item.add_marker(skip)
