"""Render the asset details to PNG files a person can look at: the dock for an image
asset with every variant state and a lineage graph, for audio and for video, and the
full view's Media and Compare tabs. Generated offline with the ``local`` provider.

The files go to $FORGE_DETAILS_RENDER_DIR (default: /tmp/forge-details-render)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtWidgets import QApplication, QWidget

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space
from studio.ui.details import AssetDetailsDialog
from studio.ui.theme import apply_theme
from tests.conftest import OWNER
from tests.ui.events import typed_event
from tests.ui.test_details_kit import (
    Details,
    import_one,
    local_space_fixture,  # noqa: F401  (the local_space fixture)
    media_fixture,  # noqa: F401  (the media fixture)
    run_jobs,
)

OUT = Path(os.environ.get("FORGE_DETAILS_RENDER_DIR", "/tmp/forge-details-render"))
SYSTEM = Actor.system()


def opts(seed: int, **kw: object) -> c.GenerationOptions:
    return c.GenerationOptions(provider="local", no_style=True, seed=seed, **kw)  # type: ignore[arg-type]


def save(widget: QWidget, name: str) -> Path:
    for _ in range(5):  # let layouts settle (word-wrapped labels take a few passes)
        QApplication.processEvents()
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / name
    assert widget.grab().save(str(path))
    assert path.stat().st_size > 5_000
    return path


def test_render_details(qtbot, local_space: Space, media: dict[str, Path]) -> None:  # type: ignore[no-untyped-def]
    space = local_space
    apply_theme()
    knight = space.apply(
        c.RequestGeneration(
            "a knight in silver armour, portrait",
            c.MediaKindName.IMAGE,
            type="character",
            name="Silver knight",
            options=opts(3),
        ),
        OWNER,
    ).created
    kid = knight["asset_id"]
    run_jobs(space)
    space.apply(c.UpdateAsset(kid, tags=("hero", "act one")), OWNER)
    refined = space.apply(c.RequestRefine(kid, "with a red cape", options=opts(4)), OWNER)
    rv = refined.created["variant_id"]
    run_jobs(space)
    space.apply(c.StarVariant(rv), OWNER)
    space.apply(c.RateVariant(rv, c.Rating.APPROVED), OWNER)
    space.apply(c.RateVariant(knight["variant_id"], c.Rating.REJECTED), OWNER)
    failed = space.apply(c.RegenerateVariant(rv), OWNER).created
    space.apply(
        c.CancelJob(failed["job_id"], "SAFETY_BLOCKED", "The provider blocked this prompt"), OWNER
    )
    busy = space.apply(c.RegenerateVariant(rv), OWNER).created
    space.apply(c.StartJob(busy["job_id"], space.holder_id, 600_000), SYSTEM)  # a live owner
    horse = space.apply(
        c.RequestGeneration("a white horse", c.MediaKindName.IMAGE, options=opts(5)), OWNER
    ).created
    run_jobs(space)  # the busy one is running (leased): the scheduler leaves it alone
    rider = space.apply(
        c.RequestGeneration(
            "the knight riding the horse",
            c.MediaKindName.IMAGE,
            name="Knight on horse",
            references=(rv, horse["variant_id"]),
            options=opts(6),
        ),
        OWNER,
    ).created
    run_jobs(space)
    space.apply(c.ForkVariant(rider["variant_id"], name="Rider poster"), OWNER)

    d = Details(qtbot, space)
    w = d.show(kid)
    w.resize(400, 1500)
    w.core.grid.select_variant(rv)
    w.apply_event(
        typed_event(
            "job:progress", {"variant_id": busy["variant_id"], "progress": 0.62, "message": ""}
        )
    )
    assert w.core.grid.tile(busy["variant_id"]).progress == 0.62
    save(w, "dock-image.png")

    w.core.grid.select_variant(failed["variant_id"])
    w.resize(400, 700)
    save(w, "dock-failed.png")

    w.show_asset(rider["asset_id"])
    w.resize(400, 1500)
    w.recipe_section.set_open(False)
    save(w, "dock-lineage.png")
    w.recipe_section.set_open(True)

    sfx = space.apply(
        c.RequestGeneration(
            "a bright magic chime",
            c.MediaKindName.AUDIO,
            type="sfx",
            options=opts(7, duration_s=2.0),
        ),
        OWNER,
    ).created
    run_jobs(space)
    w.show_asset(sfx["asset_id"])
    w.resize(400, 1100)
    assert w.core.preview.kind == "audio"
    save(w, "dock-audio.png")

    if "clip" in media:
        vid_asset, _ = import_one(space, media["clip"])
        w.show_asset(vid_asset)
        assert w.core.preview.kind == "video"
        save(w, "dock-video.png")

    w.show_asset(kid)
    dialog = w.open_full_view()
    assert isinstance(dialog, AssetDetailsDialog)
    dialog.resize(1280, 800)
    save(dialog, "full-media.png")
    dialog.tabs.setCurrentWidget(dialog.lineage)
    assert rv in dialog.lineage.nodes or knight["variant_id"] in dialog.lineage.nodes
    dialog.core.grid.select_variant(rv)
    assert {rv, rider["variant_id"]} <= set(dialog.lineage.nodes)
    save(dialog, "full-lineage.png")
    dialog.show_compare([knight["variant_id"], rv])
    assert len(dialog.compare.panes) == 2
    save(dialog, "full-compare.png")
    dialog.reject()

    space.apply(c.RegenerateVariant(sfx["variant_id"]), OWNER)
    run_jobs(space)
    w.show_asset(sfx["asset_id"])
    w.core.grid.selectAll()
    w.core.variant_actions.trigger("compare")
    audio_view = w.dialogs[-1]
    assert isinstance(audio_view, AssetDetailsDialog)
    audio_view.resize(1100, 560)
    save(audio_view, "full-compare-audio.png")
    audio_view.reject()
    d.close()
