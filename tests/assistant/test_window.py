"""The assistant in the main window: its dock, and the tray's Enhance button whose
accepted prompt reaches the recipe with the person's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox

import studio.keys as keys_module
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER
from tests.fakes.anthropic import AnthropicFake, turn
from tests.workers.cloud_helpers import MemoryKeyring, using_keyring

KEY = "sk-ant-api03-window000000000000000000000000000000"


@pytest.fixture
def window(
    tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MainWindow, AnthropicFake]]:  # type: ignore[no-untyped-def]
    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", KEY)
    with using_keyring(MemoryKeyring()), AnthropicFake(KEY) as fake:
        studio = Studio(tmp_path / "home", providers=build_providers)
        studio.library.set_setting("providers.anthropic.base_url", fake.url)
        entry = studio.create_space("Kites")
        w = MainWindow(studio, OWNER)
        qtbot.addWidget(w)
        w.show()
        w.open_space(entry.id)
        yield w, fake
        w.enhancer.wait()
        w.close()
        studio.close()


def test_enhance_in_the_tray_then_generate_keeps_both_prompts(
    qtbot, window: tuple[MainWindow, AnthropicFake]
) -> None:  # type: ignore[no-untyped-def]
    w, fake = window
    assert w.assistant.notice.isHidden() and w.assistant.send_button.isEnabled()
    offered: list[tuple[str, str]] = []

    def accept_edited(original: str, better: str) -> str:
        offered.append((original, better))
        return better + ", ribbon tail"

    w.enhancer._ask = accept_edited
    fake.script("messages", turn("A red kite over green hills at dusk"))
    w.tray.prompt.setPlainText("a red kite")
    with qtbot.waitSignal(w.enhancer.finished, timeout=10_000):
        w.enhancer.button.click()
        assert w.enhancer.button.text() == "Enhancing…" and not w.enhancer.button.isEnabled()
    assert offered == [("a red kite", "A red kite over green hills at dusk")]
    assert w.enhancer.button.text() == "Enhance" and w.enhancer.button.isEnabled()
    assert w.tray.prompt.toPlainText() == "A red kite over green hills at dusk, ribbon tail"
    assert w.tray.generate()
    space = w.space
    assert space is not None
    (variant,) = space.all_variants()
    recipe = space.variant_detail(variant.id).recipe
    assert recipe["prompt"] == "A red kite over green hills at dusk, ribbon tail"
    assert recipe["prompt_before"] == "a red kite"


def test_an_enhance_failure_is_one_message_and_the_prompt_stays(
    qtbot, window: tuple[MainWindow, AnthropicFake]
) -> None:  # type: ignore[no-untyped-def]
    from tests.fakes.anthropic import overloaded

    w, fake = window
    errors: list[str] = []
    w.enhancer.failed.connect(errors.append)
    fake.script("messages", overloaded())
    w.tray.prompt.setPlainText("a kite")
    with qtbot.waitSignal(w.enhancer.failed, timeout=10_000):
        w.enhancer.button.click()
    assert errors == ["Claude is busy (overloaded); try again in a minute"]
    assert w.tray.prompt.toPlainText() == "a kite" and w.enhancer.button.isEnabled()
    boxes = [b.text() for b in w.findChildren(QMessageBox, "errorMessage") if b.isVisible()]
    assert boxes == ["Claude is busy (overloaded); try again in a minute"]


def test_approving_in_the_dock_puts_a_placeholder_card_on_the_canvas(
    qtbot, window: tuple[MainWindow, AnthropicFake]
) -> None:  # type: ignore[no-untyped-def]
    w, fake = window
    dock = w.assistant
    fake.script(
        "messages",
        turn("", ("generate", {"prompt": "a red kite", "media_kind": "image", "name": "Kite"})),
        turn("Proposed."),
    )
    dock.actor_mode.setChecked(True)
    dock.input.setPlainText("a kite please")
    with qtbot.waitSignal(dock.runner.done, timeout=10_000):
        dock.send_button.click()
    (card,) = dock.cards_shown()
    card.approve_button.click()
    space = w.space
    assert space is not None
    (asset,) = space.snapshot().assets
    qtbot.waitUntil(lambda: w.scene.card(asset.id) is not None, timeout=5_000)
    assert w.undo_stack.undoText().startswith("via assistant")
    w.undo_stack.undo()
    qtbot.waitUntil(lambda: w.scene.card(asset.id) is None, timeout=5_000)


def test_an_approved_add_to_tray_fills_the_tray(
    qtbot, window: tuple[MainWindow, AnthropicFake]
) -> None:  # type: ignore[no-untyped-def]
    from studio.core import chat_reads
    from tests.conftest import add_variant
    from tests.core.tables import differences, tables

    w, fake = window
    space = w.space
    assert space is not None
    hero = add_variant(space, name="Hero")
    w.tray.prompt.setPlainText("what I was writing")
    fake.script(
        "messages",
        turn(
            "",
            (
                "add_to_tray",
                {
                    "prompt": "Hero as a kite pilot",
                    "mode": "image",
                    "references": [hero.variant_id],
                },
            ),
        ),
        turn("It waits on its card."),
    )
    dock = w.assistant
    dock.actor_mode.setChecked(True)
    dock.input.setPlainText("set Hero up as a kite pilot")
    with qtbot.waitSignal(dock.runner.done, timeout=10_000):
        dock.send_button.click()
    (card,) = dock.cards_shown()
    assert card.always_button.isHidden() and card.approve_button.text() == "Put in the tray"
    assert w.tray.prompt.toPlainText() == "what I was writing"  # nothing before approval
    before = tables(space)
    card.approve_button.click()
    assert w.tray.prompt.toPlainText() == "Hero as a kite pilot"
    assert w.tray.references() == [hero.variant_id] and w.tray.current_mode() == "image"
    assert w.tray.verdict().ok and not w.tray_dock.isHidden()
    assert {d.split(" ")[0] for d in differences(before, tables(space))} == {"proposals"}
    assert chat_reads.proposal(space, card.proposal.id).state == "applied"
    (card,) = dock.cards_shown()
    assert card.approve_button.isHidden()
    # the user then forges it: the request is theirs, from the tray
    assert w.tray.generate()
    assert len(space.all_variants()) == 2


def test_add_to_tray_from_a_recipe_with_a_destination(
    qtbot, window: tuple[MainWindow, AnthropicFake]
) -> None:  # type: ignore[no-untyped-def]
    w, fake = window
    space = w.space
    assert space is not None
    w.tray.prompt.setPlainText("a paper kite")
    assert w.tray.generate()
    (first,) = space.all_variants()
    fake.script(
        "messages",
        turn(
            "",
            (
                "add_to_tray",
                {
                    "recipe_variant_id": first.id,
                    "prompt": "a paper kite, at night",
                    "destination_asset_id": first.asset_id,
                },
            ),
        ),
        turn("Proposed."),
    )
    dock = w.assistant
    dock.actor_mode.setChecked(True)
    dock.input.setPlainText("make it night")
    with qtbot.waitSignal(dock.runner.done, timeout=10_000):
        dock.send_button.click()
    w.tray.prompt.setPlainText("")
    (card,) = dock.cards_shown()
    card.approve_button.click()
    assert w.tray.prompt.toPlainText() == "a paper kite, at night"
    assert w.tray.destination_id() == first.asset_id
