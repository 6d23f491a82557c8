"""Every visible card gets its picture after a fit-all of thousands of cards (the load
queue once capped at 4096 requests and nothing asked again for the ones it dropped)."""

from __future__ import annotations

import os
import time

from PIL import Image

from studio.core.space import Space
from studio.ui.canvas import CanvasScene, ThumbnailCache
from studio.ui.canvas.geometry import CARD_W, TINY_BELOW_PX, Lod
from tests.sql import write_many
from tests.ui.test_canvas_kit import FakeHost

N = 5_000
COLS = 71


def seed_space(space: Space, n: int) -> None:
    """``n`` image assets on a grid, each with its own real (tiny) thumbnail file."""
    first = space.media_dir / "seed.webp"
    first.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (48, 32), (30, 160, 90)).save(first)
    assets, variants = [], []
    for i in range(n):
        aid, vid, slug = f"a{i:07d}", f"v{i:07d}", f"asset-{i}"
        folder = space.media_dir / slug / vid
        folder.mkdir(parents=True)
        os.link(first, folder / "thumb.webp")  # one picture, n paths: n cache keys
        x, y = (i % COLS) * 280.0, (i // COLS) * 280.0
        assets.append((aid, slug, f"Asset {i}", "image", x, y, vid, 1, 1))
        variants.append((vid, aid, "completed", f"{slug}/{vid}/thumb.webp", "image/webp", 1, 1))
    write_many(
        space,
        "INSERT INTO assets (id, slug, name, media_kind, x, y, active_variant_id, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        assets,
    )
    write_many(
        space,
        "INSERT INTO variants (id, asset_id, status, thumb_path, mime, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?)",
        variants,
    )


def test_every_visible_card_gets_its_thumbnail_after_fit_all(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.canvas import CanvasView

    assert N > 4096  # more cards on screen than the queue once held
    seed_space(space, N)
    scene = CanvasScene(ThumbnailCache())  # real decoding threads, as in the app
    view = CanvasView(scene, FakeHost(space))
    view.resize(1600, 1000)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    scene.load(space, space.snapshot())
    assert scene.wait_loaded()
    view.fit_all()
    scene.settle_lod()
    assert scene.lod is Lod.FAR
    px = view.current_scale() * CARD_W
    assert 6 < px < TINY_BELOW_PX, px  # thumbnails are shown (tiny tier), not specks
    rect = view.visible_scene_rect()
    visible = [
        c
        for c in scene.cards()
        if rect.intersects(c.sceneBoundingRect()) and c.far_keys is not None
    ]
    assert len(visible) == N
    thumbs = scene.thumbs

    def missing() -> int:
        return sum(thumbs.peek(*c.far_keys[1]) is None for c in visible)  # type: ignore[index]

    end = time.monotonic() + 45
    while missing() and time.monotonic() < end:
        qtbot.wait(50)  # the event loop paints, decodes arrive, the queue drains
    assert missing() == 0
