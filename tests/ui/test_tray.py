"""The forge tray driven through its real widgets, on a real space with the offline
``local`` provider (and a scripted one for priced estimates)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QCheckBox, QComboBox, QWidget

from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from studio.ui.feed_follower import typed
from studio.ui.mime import put_variants
from studio.ui.tray import ForgeTray
from tests.conftest import OWNER, add_variant
from tests.ui.fake_host import FakeHost

NO_MODS = Qt.KeyboardModifier.NoModifier


@dataclass
class Rig:
    studio: Studio
    space: Space
    host: FakeHost
    tray: ForgeTray

    def run_jobs(self) -> None:
        scheduler = Scheduler(self.space, InlineExecutor())
        try:
            assert scheduler.run_until_idle(timeout_s=60)
        finally:
            scheduler.close()

    def image(self, prompt: str) -> tuple[str, str]:
        """A finished local image: (asset id, variant id)."""
        opts = c.GenerationOptions(size="512")
        made = self.space.apply(
            c.RequestGeneration(prompt, c.MediaKindName.IMAGE, options=opts), OWNER
        )
        self.run_jobs()
        return made.created["asset_id"], made.created["variant_id"]

    def status(self, variant_id: str) -> str:
        return self.space.variant_detail(variant_id).row.status

    def new_tray(self) -> ForgeTray:
        tray = ForgeTray(self.host, self.studio)
        tray.set_space(self.space)
        return tray


@pytest.fixture
def rig(tmp_path: Path, qtbot) -> Iterator[Rig]:  # type: ignore[no-untyped-def]
    studio = Studio(
        tmp_path / "home", providers=build_providers
    )  # the real default registry: ``local``
    entry = studio.create_space("Forge")
    space = studio.open_space(entry.slug)
    host = FakeHost(space)
    tray = ForgeTray(host, studio)
    qtbot.addWidget(tray)
    tray.set_space(space)
    tray.resize(1280, 120)
    yield Rig(studio, space, host, tray)
    tray.set_space(None)
    space.close()
    studio.close()


def drop(widget: QWidget, data: QMimeData, at: QPoint) -> QDropEvent:
    pos = QPointF(at)
    enter = QDragEnterEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NO_MODS)
    QApplication.sendEvent(widget, enter)
    event = QDropEvent(pos, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NO_MODS)
    QApplication.sendEvent(widget, event)
    return event


def variants_mime(space_id: str, ids: list[str]) -> QMimeData:
    data = QMimeData()
    put_variants(data, space_id, ids)
    return data


def pick(combo: QComboBox, text: str) -> None:
    i = combo.findText(text)
    assert i >= 0, f"{text!r} not in {[combo.itemText(n) for n in range(combo.count())]}"
    combo.setCurrentIndex(i)


# --------------------------------------------------------------------------- filling


def test_drops_and_references_drive_the_operation_label(rig: Rig) -> None:
    tray, sp = rig.tray, rig.space
    (a1, v1), (a2, v2), (_a3, v3) = (
        rig.image("red dragon"),
        rig.image("blue castle"),
        rig.image("tree"),
    )
    assert tray.operation.text() == "Write a prompt, or add a reference to fork"
    assert not tray.generate_button.isEnabled()

    data = variants_mime(sp.id, [v1])  # a card dragged from the canvas
    event = drop(tray.strip, data, QPoint(10, 10))
    assert event.isAccepted()
    assert tray.references() == [v1]
    assert tray.operation.text() == "Will fork the reference into a new asset"
    assert tray.generate_button.isEnabled()

    other = variants_mime("another-space", [v2])  # other spaces' cards are refused
    assert not drop(tray.strip, other, QPoint(10, 10)).isAccepted()

    tray.add_references([v2, v3, v1])  # v1 again: no duplicate
    assert tray.references() == [v1, v2, v3]
    assert tray.operation.text().startswith("Several references need a prompt")
    assert tray.operation.property("tone") == "warn" and not tray.generate_button.isEnabled()

    tray.prompt.setPlainText("the dragon guards the castle")
    assert tray.operation.text() == "Will derive a new image asset from 3 references"
    assert tray.generate_button.isEnabled()

    menu = tray.destination.menu  # the destination menu offers the tray's assets
    menu.aboutToShow.emit()
    offered = {a.text(): a for a in menu.actions()}
    assert {"New asset", "red dragon", "blue castle", "tree"} <= set(offered)
    offered["red dragon"].trigger()
    assert tray.destination_id() == a1
    assert tray.operation.text() == "Will refine \u201cred dragon\u201d (new variant)"
    assert tray.destination.button.text().endswith("red dragon")

    for _ in range(3):
        tray.remove_reference(0)
    assert tray.operation.text().startswith("Refining needs at least one reference")
    tray.destination.clear.click()
    assert tray.destination_id() is None and tray.destination.button.text() == "New asset"
    assert tray.operation.text() == "Will generate a new image asset"
    tray.prompt.clear()
    assert tray.operation.property("tone") == "hint"

    # destination first: an empty tray takes the asset's active variant as the reference
    drop(tray.destination, variants_mime(sp.id, [v2]), QPoint(5, 5))
    assert tray.destination_id() == a2 and tray.references() == [v2]
    assert tray.operation.text().startswith("Refining an asset needs a prompt")


def test_slots_reorder_remove_and_the_limit(rig: Rig, qtbot) -> None:  # type: ignore[no-untyped-def]
    tray, sp = rig.tray, rig.space
    ids = [add_variant(sp, name=f"Ref {n}").variant_id for n in range(15)]
    tray.add_references(ids[:3])
    strip = tray.strip
    # drag slot 1 to the end (the strip's own drag data), then slot 2 to the front
    drop(strip, strip.slot_mime(0), strip.slot_rect(2).topRight() + QPoint(4, 0))
    assert tray.references() == [ids[1], ids[2], ids[0]]
    drop(strip, strip.slot_mime(2), strip.slot_rect(0).topLeft())
    assert tray.references() == [ids[0], ids[1], ids[2]]
    # an outside drop lands where it is dropped
    extra = add_variant(sp, name="Extra").variant_id
    drop(strip, variants_mime(sp.id, [extra]), strip.slot_rect(1).topLeft())
    assert tray.references() == [ids[0], extra, ids[1], ids[2]]
    # × removes
    qtbot.mouseClick(strip, Qt.MouseButton.LeftButton, pos=strip.close_rect(1).center())
    assert tray.references() == [ids[0], ids[1], ids[2]]
    # fourteen at most, with a reason
    tray.add_references(ids)
    assert len(tray.references()) == 14
    assert rig.host.errors and "up to 14" in rig.host.errors[-1]


def test_first_references_pick_their_mode(rig: Rig) -> None:
    tray = rig.tray
    song = add_variant(rig.space, name="Boom", kind="audio").variant_id
    tray.add_references([song])  # the image model can't take sound: follow the reference
    assert tray.current_mode() == "sfx" and tray.options.model_spec() is not None
    tray.prompt.setPlainText("louder")
    assert tray.operation.text() == "Will derive a new sound effect asset from the reference"
    tray.remove_reference(0)
    pick(tray.mode, "Video")
    picture = add_variant(rig.space, name="Still").variant_id
    tray.add_references([picture])  # a video model takes pictures: stay in video
    assert tray.current_mode() == "video"


# --------------------------------------------------------------------------- running


def test_generate_derive_refine_fork_and_batches(rig: Rig) -> None:
    tray, sp, host = rig.tray, rig.space, rig.host
    sent: list[c.Command] = []
    tray.generated.connect(sent.append)
    tray.placement = lambda: (500.0, 600.0)
    pick(tray.options.size_combo, "512")

    tray.prompt.setPlainText("a lighthouse at dusk")
    assert tray.generate()
    gen = sent[-1]
    assert isinstance(gen, c.RequestGeneration)
    made = [a for a in sp.snapshot().assets if a.name.startswith("a lighthouse")]
    assert len(made) == 1 and (made[0].x, made[0].y) == (500.0, 600.0)
    assert made[0].type == "character"
    gen_variant = made[0].active_variant_id
    assert gen_variant is not None and rig.status(gen_variant) == "pending"  # placeholder at once
    rig.run_jobs()
    assert rig.status(gen_variant) == "completed"

    (a1, v1), (_a2, v2) = (made[0].id, gen_variant), rig.image("a ship")
    tray.add_references([v1, v2])
    tray.prompt.setPlainText("the ship passes the lighthouse")
    assert tray.generate() and isinstance(sent[-1], c.RequestGeneration)
    derived = sp.snapshot().assets[-1]
    dv = derived.active_variant_id
    assert dv is not None
    parents = {(ln.parent_variant_id, ln.relation) for ln in sp.lineage_of(dv)}
    assert parents == {(v1, "derived"), (v2, "derived")}

    tray.set_destination(a1)
    tray.remove_reference(1)
    assert tray.references() == [v1]
    tray.prompt.setPlainText("stormy sky")
    assert tray.operation.text().startswith("Will refine")
    assert tray.generate() and isinstance(sent[-1], c.RequestRefine)
    refined = sp.variants_of(a1)[-1]
    assert refined.status == "pending"
    assert [(ln.parent_variant_id, ln.relation) for ln in sp.lineage_of(refined.id)] == [
        (v1, "refined")
    ]

    tray.options.count.setValue(2)  # refine batch: explore into the destination
    assert tray.operation.text().endswith("(2 new variants)")
    assert tray.generate()
    batch = sent[-1]
    assert isinstance(batch, c.RequestBatch) and batch.asset_id == a1
    assert len(sp.variants_of(a1)) == 4

    tray.set_destination(None)
    tray.prompt.clear()
    tray.options.count.setValue(1)
    assert tray.operation.text() == "Will fork the reference into a new asset"
    tray.estimator.refresh()
    assert tray.estimate.text() == "free (copy)"
    assert tray.generate()
    fork = sent[-1]
    assert isinstance(fork, c.ForkVariant) and fork.variant_id == v1
    forked = sp.snapshot().assets[-1]
    assert forked.name.endswith("(fork)") and forked.active_variant_id is not None
    assert rig.status(forked.active_variant_id) == "completed"

    tray.remove_reference(0)
    tray.prompt.setPlainText("crates")
    tray.options.count.setValue(3)
    pick(tray.options.batch, "Explore")
    before = len(sp.snapshot().assets)
    assert tray.operation.text() == "Will generate 3 variants in a new image asset"
    assert tray.generate()
    after = sp.snapshot()
    assert len(after.assets) == before + 1
    assert len(sp.variants_of(after.assets[-1].id)) == 3
    pick(tray.options.batch, "Set")
    assert tray.operation.text() == "Will generate 3 new image assets"
    assert tray.generate()
    assert len(sp.snapshot().assets) == before + 4
    assert isinstance(sent[-1], c.RequestBatch) and sent[-1].mode is c.BatchMode.SET

    rig.run_jobs()
    assert {v.status for v in sp.all_variants()} == {"completed"}
    assert host.stack.count() == 7 and not host.errors
    host.stack.undo()  # one step per request
    assert len(sp.snapshot().assets) == before + 1


def test_ctrl_enter_generates(rig: Rig, qtbot) -> None:  # type: ignore[no-untyped-def]
    tray = rig.tray
    tray.show()
    qtbot.waitExposed(tray)
    tray.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is tray)
    tray.prompt.setFocus()
    pick(tray.options.size_combo, "512")
    with qtbot.waitSignal(tray.generated, timeout=2000):
        tray.prompt.setPlainText("a tiny robot")
        qtbot.keyClick(tray.prompt, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    assert tray.prompt.toPlainText() == "a tiny robot"  # no newline typed
    assert len(rig.space.snapshot().assets) == 1


# --------------------------------------------------------------------------- options


def _shown(w: QWidget) -> bool:
    return not w.isHidden()


def test_options_follow_capabilities_and_are_remembered(rig: Rig) -> None:
    tray, opts = rig.tray, rig.tray.options
    tray.show_options(True)
    assert _shown(opts) and tray.options_button.text() == "Options \u25b4"
    assert opts.provider.currentData() == "local" and opts.model.currentText() == "Local image"
    assert _shown(opts.f_size) and _shown(opts.f_aspect) and not _shown(opts.f_duration)
    assert opts.findChild(QComboBox, "trayParam_composition") is not None
    pick(opts.size_combo, "512")
    pick(opts.findChild(QComboBox, "trayParam_composition"), "thirds")

    pick(tray.mode, "Video")
    assert opts.model.currentText() == "Local video"
    assert _shown(opts.f_duration) and _shown(opts.f_aspect) and _shown(opts.f_size)
    assert opts.findChild(QCheckBox, "trayParam_audio") is not None
    assert opts.duration.text() == "Auto"
    pick(opts.aspect_combo, "9:16")
    opts.duration.setValue(3.0)
    assert tray.image_type.isHidden()

    pick(tray.mode, "Speech")
    assert opts.model.currentText() == "Local audio"
    assert _shown(opts.f_duration) and not _shown(opts.f_size) and not _shown(opts.f_aspect)
    voice = opts.findChild(QComboBox, "trayParam_voice")
    assert voice is not None and voice.currentText() == "mid"
    pick(voice, "high")
    opts.count.setValue(4)
    pick(opts.batch, "Set")
    pick(opts.style_combo, "No style")
    assert tray.state().settings.params == {"voice": "high"}

    pick(tray.mode, "Image")  # each mode keeps its own settings
    assert opts.size_combo.currentText() == "512"
    assert opts.findChild(QComboBox, "trayParam_composition").currentText() == "thirds"
    pick(tray.mode, "Speech")

    def check(t: ForgeTray) -> None:
        o = t.options
        assert t.current_mode() == "speech"
        assert o.findChild(QComboBox, "trayParam_voice").currentText() == "high"
        assert (o.count.value(), o.batch_mode(), o.style_choice()) == (4, "set", "none")
        pick(t.mode, "Video")
        assert (o.aspect_combo.currentText(), o.duration.value()) == ("9:16", 3.0)
        pick(t.mode, "Image")
        assert o.size_combo.currentText() == "512"

    tray.set_space(None)
    assert not tray.isEnabled() and tray.operation.text() == "Open a space to forge"
    tray.set_space(rig.space)
    check(tray)
    pick(tray.mode, "Speech")
    again = rig.new_tray()
    try:
        check(again)
    finally:
        again.deleteLater()


def test_provider_list_default_and_priced_estimate(rig: Rig, qtbot) -> None:  # type: ignore[no-untyped-def]
    from workers.testing import ScriptedProvider

    rig.studio.providers.add(ScriptedProvider("scripted", cost_usd=0.04))
    rig.studio.library.set_setting("providers.default.image", "scripted")
    tray = rig.new_tray()
    qtbot.addWidget(tray)
    opts = tray.options
    names = [opts.provider.itemData(i) for i in range(opts.provider.count())]
    assert names[0] == "local" and "scripted" in names  # (plus any keyed cloud provider)
    assert opts.provider.currentData() == "scripted"
    assert opts.size_combo.currentText() == "small"
    tray.prompt.setPlainText("a coin")
    opts.count.setValue(4)
    qtbot.waitUntil(lambda: tray.estimate.text() != "", timeout=2000)  # debounced
    assert tray.estimate.text() == "\u2248 $0.1600 \u00b7 4 images"
    pick(tray.mode, "Music")  # the scripted provider makes no audio
    names = [opts.provider.itemData(i) for i in range(opts.provider.count())]
    assert "local" in names and "scripted" not in names


def test_estimate_free_and_refusals_disable_generate(rig: Rig) -> None:
    tray = rig.tray
    tray.prompt.setPlainText("a castle")
    tray.estimator.refresh()
    assert tray.estimate.text() == "free (offline)" and tray.generate_button.isEnabled()

    tray.prompt.setPlainText("x" * 20_001)  # only the core knows this limit
    tray.estimator.refresh()
    assert "limit is 20000" in tray.estimate.text()
    assert tray.estimate.property("tone") == "warn" and not tray.generate_button.isEnabled()
    assert tray.estimator.error is not None

    ids = [rig.image(p)[1] for p in ("one", "two", "three")]
    tray.prompt.setPlainText("animate them")
    tray.add_references(ids)
    pick(tray.mode, "Video")
    assert tray.operation.text() == "Local video takes up to 2 references"
    assert not tray.generate_button.isEnabled()
    assert not tray.generate() and rig.host.errors[-1] == "Local video takes up to 2 references"
    tray.remove_reference(2)
    assert tray.operation.text() == "Will derive a new video asset from 2 references"

    boom = add_variant(rig.space, name="Boom", kind="audio").variant_id
    pick(tray.mode, "Image")
    tray.add_references([boom])
    assert "can't take audio references" in tray.operation.text()
    tray.remove_reference(2)

    hero = rig.space.variant_detail(ids[0]).row.asset_id
    tray.set_destination(hero)
    pick(tray.mode, "Music")
    assert tray.operation.text().startswith("\u201cone\u201d is an image asset")
    pick(tray.mode, "Image")
    tray.options.count.setValue(2)
    pick(tray.options.batch, "Set")
    assert tray.operation.text().startswith("A set batch makes new assets")
    assert not tray.generate_button.isEnabled()


def test_fill_from_recipe(rig: Rig) -> None:
    tray, sp = rig.tray, rig.space
    (_a1, v1), (_a2, v2) = rig.image("a fox"), rig.image("a hat")
    opts = c.GenerationOptions(
        provider="local",
        model="local-image",
        size="512",
        aspect_ratio="16:9",
        params={"composition": "thirds"},
        no_style=True,
    )
    made = sp.apply(
        c.RequestGeneration(
            "the fox wears the hat",
            c.MediaKindName.IMAGE,
            type="prop",
            references=(v1, v2),
            options=opts,
        ),
        OWNER,
    )
    sp.apply(c.DeleteAsset(_a2), OWNER)  # gone sources are left out
    tray.fill_from_recipe(made.created["variant_id"])
    st = tray.state()
    assert st.prompt == "the fox wears the hat" and st.mode == "image" and st.image_type == "prop"
    assert (st.settings.provider, st.settings.model, st.settings.size) == (
        "local",
        "local-image",
        "512",
    )
    assert st.settings.aspect_ratio == "16:9" and st.settings.params == {"composition": "thirds"}
    assert st.style == "none" and tray.references() == [v1] and st.destination is None
    assert tray.operation.text() == "Will derive a new image asset from the reference"

    song = sp.apply(
        c.RequestGeneration(
            "calm harp",
            c.MediaKindName.AUDIO,
            type="music",
            options=c.GenerationOptions(duration_s=2.5),
        ),
        OWNER,
    )
    tray.fill_from_recipe(song.created["variant_id"])
    st = tray.state()
    assert (st.mode, st.settings.duration_s, st.slots, st.prompt) == ("music", 2.5, (), "calm harp")

    imported = add_variant(sp, name="Photo").variant_id
    tray.fill_from_recipe(imported)
    assert "imported" in rig.host.errors[-1]


def test_events_keep_the_tray_true(rig: Rig) -> None:
    tray, sp = rig.tray, rig.space
    unsubscribe = sp.subscribe(typed(tray.apply_event))
    try:
        (a1, v1), (a2, v2) = rig.image("left"), rig.image("right")
        tray.add_references([v1, v2])
        tray.prompt.setPlainText("merge")
        tray.set_destination(a1)
        assert rig.host.run([c.UpdateAsset(a1, name="Left one")], "Rename")
        assert tray.destination.button.text().endswith("Left one")
        other = add_variant(sp, a2, name="right").variant_id
        assert rig.host.run([c.SetActiveVariant(a2, other), c.DeleteVariant(v2)], "Delete")
        assert tray.references() == [v1]
        assert rig.host.run([c.DeleteAsset(a1)], "Delete")
        assert tray.references() == [] and tray.destination_id() is None

        assert rig.host.run([c.CreateStylePreset("Watercolour", "soft watercolour")], "Style")
        names = [
            tray.options.style_combo.itemText(i) for i in range(tray.options.style_combo.count())
        ]
        assert names == ["Default style", "No style", "Watercolour", "", "Edit presets…"]
        sid = tray.options.style_combo.itemData(2)
        assert rig.host.run([c.UpdateStylePreset(sid, is_default=True)], "Default")
        assert tray.options.style_combo.itemText(0) == "Default style (Watercolour)"
    finally:
        unsubscribe()


# --------------------------------------------------------------------------- looks


def test_render_the_tray(rig: Rig) -> None:
    from studio.ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet = app.palette(), app.styleSheet()
    apply_theme()
    try:
        tray = rig.tray
        tray.resize(1280, tray.sizeHint().height())
        tray.show()
        assert tray.grab().save("/tmp/forge_tray_empty.png")
        ids = [rig.image(p)[1] for p in ("red dragon", "blue castle", "green forest")]
        tray.add_references(ids)
        tray.prompt.setPlainText(
            "The dragon sleeps on the castle roof, forest all around, dawn light"
        )
        tray.show_options(True)
        tray.resize(1280, tray.sizeHint().height())
        tray.estimator.refresh()
        QApplication.processEvents()
        out = Path("/tmp/forge_tray.png")
        assert tray.grab().save(str(out)) and out.stat().st_size > 0
        pick(tray.mode, "Video")
        tray.resize(1280, tray.sizeHint().height())
        assert not tray.generate_button.isEnabled()
        QApplication.processEvents()  # new editors show and layouts settle on the next pass
        assert tray.grab().save("/tmp/forge_tray_refusal.png")
    finally:
        app.setPalette(palette)
        app.setStyleSheet(sheet)
