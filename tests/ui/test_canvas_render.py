"""Render a realistic canvas to PNG files a person can look at (1:1, SIMPLE and fit-all):
~30 cards with real thumbnails (images; audio and video imported through the real
pipeline), every live status, a child card, stars, a frame, a selection and a filter.

The files go to $FORGE_CANVAS_RENDER_DIR (default: /tmp/forge-canvas-render)."""

from __future__ import annotations

import math
import os
import wave
from pathlib import Path

import numpy as np
from PySide6.QtGui import QColor, QImage, QPainter

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.events import Event
from studio.core.imports import import_files
from studio.core.space import Space
from studio.ui.canvas import CanvasView
from tests.conftest import OWNER
from tests.ui.test_canvas_kit import add_image, make_canvas

OUT = Path(os.environ.get("FORGE_CANVAS_RENDER_DIR", "/tmp/forge-canvas-render"))
PLAIN = c.GenerationOptions(no_style=True, seed=1)
SYSTEM = Actor.system()
PALETTE = [
    (214, 92, 72), (72, 140, 214), (96, 176, 110), (222, 180, 70), (150, 100, 200),
    (60, 170, 170), (230, 120, 160), (120, 120, 130), (190, 140, 90), (90, 110, 210),
]  # fmt: skip
NAMES = [
    "Knight", "Castle gate", "Forest path", "Dragon egg", "Wizard tower", "Harbour",
    "Sword of dawn", "Old map", "Lantern", "Shield crest", "Village inn", "Blacksmith",
    "Moon altar", "Sky ship", "Ruins", "Crystal cave", "Tavern sign", "Market stall",
    "Royal banner", "Ice giant", "Swamp witch", "Goblin camp",
]  # fmt: skip


def _wav(path: Path) -> None:
    rate = 16_000
    t = np.arange(int(rate * 1.5)) / rate
    sig = np.sin(2 * math.pi * 220 * t) * np.exp(-2 * t) * (0.5 + 0.5 * np.sin(9 * t))
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes((sig * 30_000).astype("<i2").tobytes())


def _mp4(path: Path) -> None:
    import av

    with av.open(str(path), "w") as out:
        stream = out.add_stream("mpeg4", rate=12)
        stream.width, stream.height, stream.pix_fmt = 320, 180, "yuv420p"
        for i in range(12):
            img = np.zeros((180, 320, 3), np.uint8)
            img[:, :, 0] = np.linspace(40, 200, 320, dtype=np.uint8)[None, :]
            img[:, :, 2] = 120
            img[60:120, 20 + i * 20 : 80 + i * 20] = (250, 230, 120)
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)


def build_space(space: Space, tmp: Path) -> dict[str, str]:
    ids: dict[str, str] = {}
    step = 280.0
    for i, name in enumerate(NAMES):
        col, row = i % 6, i // 6
        size = (320, 320) if i % 3 else (480, 300)
        made = add_image(
            space, name, col * step, row * step, colour=PALETTE[i % 10], size=size, seed=i
        )
        ids[name] = made.asset_id
        if i in (0, 5):
            add_image(space, name, colour=PALETTE[(i + 3) % 10], asset_id=made.asset_id)
            add_image(space, name, colour=PALETTE[(i + 5) % 10], asset_id=made.asset_id)
    space.apply(c.StarVariant(space.asset(ids["Knight"]).active_variant_id or ""), OWNER)
    second = space.variants_of(ids["Harbour"])[1]
    space.apply(c.StarVariant(second.id), OWNER)
    space.apply(c.ReparentAsset(ids["Shield crest"], ids["Knight"]), OWNER)
    space.apply(
        c.UpdateAsset(ids["Wizard tower"], name="A wizard tower with a very long name indeed"),
        OWNER,
    )
    wav, mp4 = tmp / "Bell toll.wav", tmp / "Flythrough.mp4"
    _wav(wav)
    _mp4(mp4)
    report = import_files(space, [wav, mp4], OWNER, origin=(0.0, 4 * step))
    assert not report.refused, report.refused
    for item, name in zip(report.imported, ("Bell toll", "Flythrough"), strict=True):
        ids[name] = item.asset_id
    space.apply(c.MoveAssets((c.Position(ids["Flythrough"], step, 4 * step),)), OWNER)
    y = 4 * step
    space.apply(c.RequestGeneration("a stormy sea", c.MediaKindName.IMAGE, name="Stormy sea", x=2 * step, y=y, options=PLAIN), OWNER)  # fmt: skip
    running = space.apply(c.RequestGeneration("a red kite", c.MediaKindName.IMAGE, name="Red kite", x=3 * step, y=y, options=PLAIN), OWNER)  # fmt: skip
    space.apply(c.StartJob(running.created["job_id"], "w", 60_000), SYSTEM)
    space.publish_transient(Event("job:progress", {"job_id": running.created["job_id"], "variant_id": running.created["variant_id"], "progress": 0.62, "message": "Rendering"}))  # fmt: skip
    failed = space.apply(c.RequestGeneration("forbidden", c.MediaKindName.IMAGE, name="Blocked idea", x=4 * step, y=y, options=PLAIN), OWNER)  # fmt: skip
    space.apply(c.StartJob(failed.created["job_id"], "w", 60_000), SYSTEM)
    space.apply(c.FailJob(failed.created["job_id"], "SAFETY_BLOCKED", "The provider blocked this prompt."), SYSTEM)  # fmt: skip
    space.apply(c.BeginUpload(media_kind=c.MediaKindName.AUDIO, original_name="Rain.wav", name="Rain loop", x=5 * step, y=y), OWNER)  # fmt: skip
    refine = space.apply(c.RequestRefine(ids["Dragon egg"], "golden", options=PLAIN), OWNER)
    space.apply(c.StartJob(refine.created["job_id"], "w", 60_000), SYSTEM)
    space.publish_transient(Event("job:progress", {"job_id": refine.created["job_id"], "variant_id": refine.created["variant_id"], "progress": 0.3, "message": ""}))  # fmt: skip
    space.apply(c.CreateFrame("Act 1 — The keep", -40, -40, 3 * step + 40, 2 * step + 40 - 24 + 40, "#5b6b82"), OWNER)  # fmt: skip
    return ids


def render(view: CanvasView, path: Path) -> QImage:
    image = QImage(view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("black"))
    p = QPainter(image)
    view.render(p)
    p.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(str(path))
    return image


def settle(view: CanvasView) -> None:
    """Paint once (the cards ask for their thumbnails), load them, paint again."""
    view.grab()
    view.canvas_scene.thumbs.flush()
    view.grab()


def test_render_the_canvas_to_png(space: Space, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    ids = build_space(space, tmp_path)
    cv = make_canvas(space, qtbot, size=(1600, 1000))
    assert len(cv.scene.cards()) == 28
    cv.scene.select([ids["Castle gate"], ids["Dragon egg"]])
    cv.view.set_scale(1.0)
    cv.view.center_on(760, 420)
    settle(cv.view)
    one = render(cv.view, OUT / "canvas-1to1.png")
    running = next(card for card in cv.scene.cards() if card.asset.name == "Red kite")
    space.publish_transient(
        Event(
            "job:progress",
            {
                "job_id": "j",
                "variant_id": running.facts.active.id,
                "progress": 0.62,
                "message": "Rendering",
            },  # type: ignore[union-attr]
        )
    )
    cv.view.center_on(900, 1250)
    settle(cv.view)
    render(cv.view, OUT / "canvas-1to1-status.png")
    cv.view.set_scale(0.22)
    cv.view.center_on(760, 700)
    settle(cv.view)
    render(cv.view, OUT / "canvas-simple.png")
    cv.scene.finder.find("castle")
    cv.view.fit_all()
    cv.scene.settle_lod()
    settle(cv.view)
    fit = render(cv.view, OUT / "canvas-fit-all.png")
    cv.view.set_scale(0.1)  # FAR: the overview paints every card
    cv.view.center_on(760, 600)
    cv.scene.settle_lod()
    settle(cv.view)
    assert all(card.nocontents for card in cv.scene.cards())
    render(cv.view, OUT / "canvas-far.png")
    for img in (one, fit):
        colours = {
            img.pixel(x, y) for x in range(0, img.width(), 37) for y in range(0, img.height(), 23)
        }
        assert len(colours) > 40  # thumbnails, not just flat placeholders
    assert (OUT / "canvas-1to1.png").stat().st_size > 10_000
