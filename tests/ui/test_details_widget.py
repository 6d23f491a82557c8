"""The inspector's asset details: inline edits, the variant grid and its actions (each
one undoable), progress and errors, and the recipe panel."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData
from PySide6.QtWidgets import QApplication, QFileDialog

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.details import actions as actions_module
from studio.ui.mime import get_variants
from tests.conftest import OWNER
from tests.sql import query
from tests.ui.events import typed_event
from tests.ui.test_details_kit import (
    Details,
    generate,
    import_one,
    local_space_fixture,  # noqa: F401  (the local_space fixture)
    media_fixture,  # noqa: F401  (the media fixture)
    run_jobs,
)
from workers.base import ErrorKind, ProviderError
from workers.testing import ScriptedProvider


@pytest.fixture
def d(qtbot, space: Space) -> Iterator[Details]:  # type: ignore[no-untyped-def]
    details = Details(qtbot, space)
    yield details
    details.close()


def test_empty_and_many_selected(d: Details) -> None:
    w = d.widget
    w.show_asset(None)
    assert w.pages.currentWidget() is w.empty and w.empty.text() == "Nothing selected"
    w.show_asset(None, selected_count=3)
    assert w.empty.text() == "3 assets selected"
    assert w.current_asset() is None and w.current_variant() is None


def test_show_asset_fills_fields_and_edits_are_undoable(
    d: Details, space: Space, media: dict[str, Path]
) -> None:
    aid, vid = import_one(space, media["knight"])
    space.apply(c.UpdateAsset(aid, name="Knight", type="character", tags=("hero",)), OWNER)
    w = d.show(aid)
    assert w.current_asset() == aid and w.current_variant() == vid
    f = w.form
    assert (f.name.text(), f.type.currentText(), f.tags.text()) == ("Knight", "character", "hero")
    assert w.title.text() == "Knight" and "1 variant" in w.kind_label.text()

    f.name.setFocus()
    f.name.setText("Sir Knight")
    f.name.editingFinished.emit()
    d.pump()
    assert space.asset(aid).name == "Sir Knight" and w.title.text() == "Sir Knight"
    assert d.host.stack.undoText() == "Rename to 'Sir Knight'"

    f.type.setEditText("npc")
    f.type.lineEdit().editingFinished.emit()
    f.tags.setText(" hero , brave,, hero ,Old  guard")
    f.tags.editingFinished.emit()
    d.pump()
    a = space.asset(aid)
    assert a.type == "npc" and a.tags == ("hero", "brave", "old guard")
    assert f.tags.text() == "hero, brave, old guard"

    for _ in range(3):
        d.host.stack.undo()
    d.pump()
    a = space.asset(aid)
    assert (a.name, a.type, a.tags) == ("Knight", "character", ("hero",))
    assert (f.name.text(), f.type.currentText(), f.tags.text()) == ("Knight", "character", "hero")

    # an empty name is refused without a command; unchanged text sends nothing
    depth = d.host.stack.count()
    f.name.setText("   ")
    assert not f.commit_name() and f.name.text() == "Knight"
    assert not f.commit_tags() and d.host.stack.count() == depth


def test_star_rate_set_active_delete_through_the_grid(
    d: Details, space: Space, media: dict[str, Path]
) -> None:
    aid, v1 = import_one(space, media["knight"])
    _, v2 = import_one(space, media["castle"], into=aid)
    w = d.show(aid)
    grid, acts = w.core.grid, w.core.variant_actions
    assert grid.count() == 2 and grid.tile(v1).active and not grid.tile(v2).active

    grid.select_variant(v2)
    assert w.current_variant() == v2
    acts.trigger("star")
    acts.trigger("approve")
    d.pump()
    t = grid.tile(v2)
    assert t.starred and t.rating == "approved"
    assert space.variant_detail(v2).row.starred == 1
    acts.trigger("reject")
    d.pump()
    assert grid.tile(v2).rating == "rejected"
    # the bar's ★ is lit now, and clicking it unstars; ✗ is lit, ✓ is not
    bar = w.core.action_bar.buttons
    assert bar["star"].isChecked() and bar["reject"].isChecked()
    assert not bar["approve"].isChecked()
    bar["star"].click()
    d.pump()
    assert not grid.tile(v2).starred and not bar["star"].isChecked()

    bar["reject"].click()  # lit: clears the rating
    d.pump()
    assert grid.tile(v2).rating is None and not bar["reject"].isChecked()

    bar["set_active"].click()
    d.pump()
    assert space.asset(aid).active_variant_id == v2 and grid.tile(v2).active

    grid.select_variant(v1)
    acts.trigger("delete")
    d.pump()
    assert [r.id for r in space.variants_of(aid)] == [v2] and grid.count() == 1

    # deleting the active (and only) variant is refused by the core, shown by the host
    assert not acts.available()["delete"]
    assert not d.host.run([c.DeleteVariant(v2)], "Delete variant") and d.host.errors

    stack = d.host.stack
    texts = [stack.text(i) for i in range(stack.count())]
    assert texts == [
        "Star variant",
        "Approve variant",
        "Reject variant",
        "Unstar variant",
        "Clear rating",
        "Set active variant",
        "Delete variant",
    ]
    for _ in texts:
        stack.undo()
    d.pump()
    r2 = space.variant_detail(v2).row
    assert (r2.starred, r2.rating) == (0, None)
    assert space.asset(aid).active_variant_id == v1
    assert grid.count() == 2 and grid.tile(v1).active


def test_multi_select_stars_all_in_one_step_and_drags_as_variants(
    d: Details, space: Space, media: dict[str, Path]
) -> None:
    aid, v1 = import_one(space, media["knight"])
    _, v2 = import_one(space, media["castle"], into=aid)
    w = d.show(aid)
    grid = w.core.grid
    grid.selectAll()
    assert grid.selected_variants() == [v1, v2]
    w.core.variant_actions.trigger("star")
    assert d.host.stack.count() == 1 and d.host.stack.undoText() == "Star variants"
    assert all(space.variant_detail(v).row.starred for v in (v1, v2))
    assert w.core.variant_actions.available()["compare"]

    data: QMimeData = grid.mimeData([grid.item(0), grid.item(1)])
    assert get_variants(data, space.id) == [v1, v2]
    assert data.urls()[0].toLocalFile().endswith("original.png")

    w.core.variant_actions.trigger("tray")
    assert d.host.tray == [v1, v2]


def test_menu_lists_what_applies(d: Details, space: Space, media: dict[str, Path]) -> None:
    aid, _ = import_one(space, media["knight"])
    w = d.show(aid)
    w.core._sync_actions()
    menu = w.core.variant_actions.build_menu(w)
    names = [a.objectName() for a in menu.actions() if a.objectName()]
    assert names[:2] == ["star", "approve"]
    assert "fork" in names and "export" in names and "reveal" in names
    # imported: nothing to retry, regenerate or reuse; the active and only one can't go
    assert not {"retry", "regenerate", "use_recipe", "delete", "set_active"} & set(names)
    menu.deleteLater()


def test_retry_regenerate_fork_tray_and_recipe(
    d: Details, space: Space, provider: ScriptedProvider
) -> None:
    provider.script.append(ProviderError(ErrorKind.SAFETY_BLOCKED, "blocked by the filter"))
    aid, vid = generate(space, "a knight in the rain")
    run_jobs(space)
    w = d.show(aid)
    grid, acts = w.core.grid, w.core.variant_actions
    t = grid.tile(vid)
    assert t.status == "failed" and "blocked by the filter" in t.error and t.badge == "failed"
    assert w.core.preview.kind == "placeholder"
    assert "blocked by the filter" in w.core.preview.status_text()
    ok = acts.available()
    assert ok["retry"] and not ok["regenerate"] and not ok["fork"]
    assert w.core.action_bar.buttons["retry"].isVisibleTo(w)

    jobs_before = len(space.jobs())
    w.core.action_bar.buttons["retry"].click()
    d.pump()
    assert space.variant_detail(vid).row.status == "pending"
    assert len(space.jobs()) == jobs_before + 1
    assert grid.tile(vid).progress == 0.0 and grid.tile(vid).badge == "queued"
    assert d.host.stack.undoText() == "Retry variant"

    run_jobs(space)
    d.pump()
    assert grid.tile(vid).status == "completed" and w.core.preview.kind == "image"
    acts.trigger("regenerate")
    d.pump()
    rows = space.variants_of(aid)
    assert len(rows) == 2 and rows[1].status == "pending" and grid.count() == 2

    grid.select_variant(vid)
    acts.trigger("fork")
    d.pump()
    forks = query(space, "SELECT id FROM assets WHERE name = ?", ("a knight in the rain (fork)",))
    assert len(forks) == 1 and d.host.stack.undoText() == "Fork to new asset"

    acts.trigger("tray")
    acts.trigger("use_recipe")
    w.core.recipe.use_button.click()
    assert d.host.tray == [vid] and d.host.recipes == [vid, vid]


def test_progress_events_move_the_bar(d: Details, space: Space) -> None:
    aid, vid = generate(space, "a slow castle")
    w = d.show(aid)
    grid = w.core.grid
    assert grid.tile(vid).progress == 0.0
    assert "Waiting" in w.core.preview.status_text()
    space.apply(c.StartJob(space.jobs()[0].id, "w1", 60_000), _system())
    d.pump()
    assert grid.tile(vid).badge == "generating"
    w.apply_event(typed_event("job:progress", {"variant_id": vid, "progress": 0.4, "message": ""}))
    assert grid.tile(vid).progress == pytest.approx(0.4)
    assert w.core.preview.status_text() == "Generating… 40%"
    w.apply_event(typed_event("job:progress", {"variant_id": "other", "progress": 0.9}))
    assert grid.tile(vid).progress == pytest.approx(0.4)


def test_recipe_panel_shows_fields_and_links_references(qtbot, local_space: Space) -> None:  # type: ignore[no-untyped-def]
    space = local_space
    d = Details(qtbot, space)
    ref_asset, ref = generate(space, "a round shield")
    run_jobs(space)
    applied = space.apply(
        c.RequestGeneration(
            "a knight holding the shield",
            c.MediaKindName.IMAGE,
            references=(ref,),
            options=c.GenerationOptions(
                provider="local",
                no_style=True,
                seed=42,
                aspect_ratio="1:1",
                params={"composition": "centered"},
            ),
        ),
        OWNER,
    )
    aid = applied.created["asset_id"]
    run_jobs(space)
    w = d.show(aid)
    panel = w.core.recipe
    assert panel.text_of("Prompt") == "a knight holding the shield"
    assert panel.text_of("Provider") == "local"
    assert panel.text_of("Model") == "local-image"
    assert panel.text_of("Seed") == "42" and panel.text_of("Aspect") == "1:1"
    assert panel.text_of("param:composition") == "centered"
    assert panel.text_of("Operation") == "Derived from references"
    assert "local" in panel.text_of("provenance")
    assert "image/png" in panel.text_of("File")
    assert panel.reference_assets == [ref_asset]
    assert "a round shield" in panel.fields["References"].text()
    panel.fields["References"].linkActivated.emit(f"asset:{ref_asset}")
    assert d.host.shown == [ref_asset]
    assert panel.use_button.isVisibleTo(panel)
    d.close()


def test_export_and_reveal(
    d: Details, space: Space, media: dict[str, Path], tmp_path: Path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    aid, vid = import_one(space, media["knight"])
    w = d.show(aid)
    asked: list[str] = []

    def save_name(parent, title, default, filters):  # type: ignore[no-untyped-def]
        asked.append(default)
        return str(tmp_path / "out.png"), filters

    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_name)
    dest = w.core.variant_actions.trigger("export")
    assert dest == tmp_path / "out.png"
    with Image.open(dest) as got, Image.open(media["knight"]) as want:  # the same pixels,
        assert got.tobytes() == want.tobytes()
        assert json.loads(got.info["forge-studio:recipe"])["variant_id"] == vid  # + provenance
    assert Path(asked[0]).name == f"{space.asset(aid).slug}.png"

    opened: list[Path] = []
    monkeypatch.setattr(actions_module, "open_folder", lambda p: opened.append(p) or True)
    assert w.core.variant_actions.trigger("reveal")
    assert opened == [(space.media_dir / space.variant_detail(vid).row.media_path).parent]


def test_follows_events_and_forgets_deleted_asset(d: Details, space: Space) -> None:
    aid, _ = generate(space, "a tower")
    w = d.show(aid)
    space.apply(c.UpdateAsset(aid, name="Tall tower"), OWNER)
    d.pump()
    assert w.title.text() == "Tall tower" and w.form.name.text() == "Tall tower"
    space.apply(c.DeleteAsset(aid), OWNER)
    d.pump()
    assert w.current_asset() is None and w.pages.currentWidget() is w.empty
    QApplication.processEvents()


def _system():  # type: ignore[no-untyped-def]
    from studio.core.actor import Actor

    return Actor.system()


def test_double_click_opens_full_view(d: Details, space: Space, media: dict[str, Path]) -> None:
    aid, _ = import_one(space, media["knight"])
    w = d.show(aid)
    opened: list[object] = []
    w.full_view_opened.connect(opened.append)
    w.core.preview.activated.emit()
    assert len(opened) == 1 and w.dialogs
    dialog = w.dialogs[0]
    assert dialog.asset_id() == aid  # type: ignore[attr-defined]
    dialog.close()
    dialog.reject()  # type: ignore[attr-defined]
    QApplication.processEvents()
    assert not w.dialogs


def test_clearing_an_empty_preview_again_keeps_its_widget(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A space switch clears the details panel, most often already empty: the same
    message keeps the picture widget (no widget made, deleted and laid out again); a
    different message replaces it."""
    from studio.ui.details.media import MediaPreview

    preview = MediaPreview()
    qtbot.addWidget(preview)
    preview.clear("Nothing selected")
    first = preview.content
    preview.clear("Nothing selected")
    assert preview.content is first and preview.kind == "empty"
    preview.clear("No variant")
    assert preview.content is not first and preview.kind == "empty"


def test_make_previews_again_from_the_details_menu(qtbot, local_space: Space) -> None:  # type: ignore[no-untyped-def]
    """A damaged thumbnail made again from the original, off the UI thread; an original
    that no longer matches its checksum is refused in words and nothing is written."""
    d = Details(qtbot, local_space)
    try:
        aid, vid = generate(local_space, "a lantern in the fog")
        run_jobs(local_space)
        w = d.show(aid)
        w.core._sync_actions()
        acts = w.core.variant_actions
        assert acts.available()["previews"]
        row = local_space.variant_detail(vid).row
        thumb = local_space.media_dir / (row.thumb_path or "")
        size = Image.open(thumb).size
        thumb.write_bytes(b"\x00" * 64)  # damaged on disk
        acts.trigger("previews")
        qtbot.waitUntil(lambda: d.host.details == [aid], timeout=20_000)
        with Image.open(thumb) as im:
            assert im.size == size
        assert d.host.errors == []
        original = local_space.media_dir / (row.media_path or "")
        original.write_bytes(original.read_bytes()[:-4] + b"oops")  # now the original too
        thumb.write_bytes(b"\x00" * 64)
        acts.trigger("previews")
        qtbot.waitUntil(lambda: bool(d.host.errors), timeout=20_000)
        assert d.host.errors == [
            "Could not make the previews again: its original no longer matches its checksum."
        ]
        assert thumb.read_bytes() == b"\x00" * 64  # nothing written
    finally:
        d.close()
