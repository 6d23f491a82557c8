"""The style preset editor: create, edit, delete (each one undoable step), following the
change feed; and the forge tray's style choice ("Edit presets…" opens the editor, a
preset chosen there is recorded in the generated variant's recipe)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QAction

from studio.core import commands as c
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from studio.ui.style_presets import NO_COLLECTION, StylePresetsDialog
from tests.conftest import OWNER, add_variant


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1300, 850)
    w.show()
    entry = studio.create_space("Board")
    w.open_space(entry.id)
    qtbot.waitUntil(lambda: w.space_control._held is None, timeout=10_000)
    yield w
    w.close()
    studio.close()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), "teal").save(buf, "PNG")
    return buf.getvalue()


def _editor(window: MainWindow) -> StylePresetsDialog:
    (menu_entry,) = [a for a in window.findChildren(QAction) if a.objectName() == "stylePresets"]
    menu_entry.trigger()  # Generate ▸ Style presets…
    editor = window.style_editor
    assert editor is not None and editor.isVisible() and not editor.isModal()
    return editor


def _names(editor: StylePresetsDialog) -> list[str]:
    return [editor.list.item(i).text() for i in range(editor.list.count())]


def test_create_edit_delete_are_undoable_steps(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    ref = add_variant(space, name="Paper", payload=_png())
    cid = space.apply(c.CreateCollection("Style refs"), OWNER).created["collection_id"]
    space.apply(c.AddCollectionItem(cid, asset_id=ref.asset_id), OWNER)
    editor = _editor(window)
    assert _names(editor) == [] and not editor.editor.isEnabled()
    assert editor.hint.text().startswith("No presets yet")

    before = window.undo_stack.count()
    editor.new_button.click()
    (made,) = space.read.style_presets()
    assert made.name == "New style" and _names(editor) == ["New style"]
    assert editor.editor.isEnabled() and editor.name.text() == "New style"
    assert window.undo_stack.count() == before + 1

    editor.name.setText("Watercolour")
    editor.prompt.setPlainText("soft watercolour, paper texture")
    combo = editor.collection
    assert [combo.itemText(i) for i in range(combo.count())] == [
        NO_COLLECTION,
        "Style refs (1 item)",
    ]
    combo.setCurrentIndex(1)
    editor.is_default.setChecked(True)
    editor.save_button.click()
    (saved,) = space.read.style_presets()
    assert (saved.name, saved.prompt, saved.collection_id, saved.is_default) == (
        "Watercolour",
        "soft watercolour, paper texture",
        cid,
        1,
    )
    assert window.undo_stack.count() == before + 2  # all the form's changes: one step
    assert _names(editor) == ["Watercolour  (default)"]

    window.undo_stack.undo()  # the edit, whole
    (back,) = space.read.style_presets()
    assert (back.name, back.prompt, back.collection_id, back.is_default) == (
        "New style",
        "",
        None,
        0,
    )
    qtbot.waitUntil(lambda: _names(editor) == ["New style"], timeout=5_000)  # via the feed
    assert editor.name.text() == "New style" and editor.collection.currentIndex() == 0
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: _names(editor) == ["Watercolour  (default)"], timeout=5_000)

    editor.delete_button.click()
    assert space.read.style_presets() == [] and _names(editor) == []
    window.undo_stack.undo()
    assert [p.name for p in space.read.style_presets()] == ["Watercolour"]
    qtbot.waitUntil(lambda: _names(editor) == ["Watercolour  (default)"], timeout=5_000)


def test_the_tray_choice_reaches_the_recipe(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    sid = space.apply(c.CreateStylePreset("Ink", "black ink line art"), OWNER).created["style_id"]
    combo = window.tray.options.style_combo
    qtbot.waitUntil(lambda: combo.findText("Ink") >= 0, timeout=5_000)  # via the feed
    items = [combo.itemText(i) for i in range(combo.count())]
    assert items == ["Default style", "No style", "Ink", "", "Edit presets…"]

    # "Edit presets…" opens the editor and leaves the choice as it was
    combo.setCurrentIndex(combo.findText("Edit presets…"))
    assert window.style_editor is not None and window.style_editor.isVisible()
    assert combo.currentText() == "Default style" and combo.choice() == "default"
    assert _names(window.style_editor) == ["Ink"]

    combo.setCurrentIndex(combo.findText("Ink"))
    assert combo.choice() == sid
    assert "style Ink" in window.tray.options.summary()
    window.tray.prompt.setPlainText("a lighthouse")
    assert window.tray.generate()
    (asset,) = space.snapshot().assets
    (variant,) = space.variants_of(asset.id)
    recipe = space.variant_detail(variant.id).recipe
    assert recipe["style"]["id"] == sid and recipe["style"]["name"] == "Ink"
    assert recipe["prompt"] == "a lighthouse"
    assert recipe["prompt_sent"].startswith("black ink line art")
    (job,) = space.jobs()
    assert job.variant_id == variant.id  # the job runs that recipe


def test_unsaved_edits_survive_changes_made_elsewhere(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    space.apply(c.CreateStylePreset("Ink", "black ink"), OWNER)
    editor = _editor(window)
    assert editor.name.text() == "Ink"
    editor.prompt.setPlainText("black ink, heavy lines")  # not saved yet
    space.apply(c.CreateCollection("Refs"), OWNER)  # someone else changes the space
    combo = editor.collection
    qtbot.waitUntil(lambda: combo.count() == 2, timeout=5_000)  # the new collection is offered
    assert editor.prompt.toPlainText() == "black ink, heavy lines"
    assert editor.save()
    assert space.read.style_presets()[0].prompt == "black ink, heavy lines"
