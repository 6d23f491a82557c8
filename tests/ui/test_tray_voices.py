"""The account's ElevenLabs voices offered by name in the forge tray (issue #15): the
voice list is fetched (``/v2/voices`` on the fake, real SDK), cached in ``library.db``,
and the ``voice_id`` field becomes a list of names that still takes a typed id."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QComboBox

from studio.providers_setup import VOICE, apply_voice_list
from studio.store.library import Library
from studio.ui.tray.options import OptionsPanel
from studio.ui.tray.state import ModeSettings
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.workers.cloud_helpers import ELEVEN_KEY
from workers.elevenlabs import ElevenLabsProvider
from workers.local import LocalProvider
from workers.registry import ProviderRegistry


@pytest.fixture
def fake() -> Iterator[ElevenLabsFake]:
    with ElevenLabsFake(ELEVEN_KEY) as server:
        yield server


def test_voice_names_are_offered_and_an_id_can_still_be_typed(
    tmp_path: Path, qtbot, fake: ElevenLabsFake
) -> None:  # type: ignore[no-untyped-def]
    eleven = ElevenLabsProvider(ELEVEN_KEY, base_url=fake.url, timeout_s=5)
    registry = ProviderRegistry([LocalProvider(), eleven])
    library = Library(tmp_path / "library.db")
    try:
        cached = apply_voice_list(library, registry, refresh=False)
        again = apply_voice_list(library, registry, refresh=False)  # a fresh cache: no fetch
        stored = library.provider_list("elevenlabs", VOICE)
    finally:
        library.close()
    assert cached is not None and stored is not None and again == stored
    assert len(fake.of("voices")) == 1
    panel = OptionsPanel(registry)
    qtbot.addWidget(panel)
    panel.set_mode("speech", ModeSettings(provider="elevenlabs"), None)
    editor = panel._param_editors["voice_id"]
    assert isinstance(editor, QComboBox) and editor.isEditable()
    names = [editor.itemText(i) for i in range(editor.count())]
    assert names == ["Ada Lovelace", "George", "Rachel", "Roger", "Sarah"]
    editor.setCurrentText("George")
    assert panel.settings().params["voice_id"] == "George"
    editor.setCurrentText("JBFqnCBsd6RMkjVDRZzb")
    assert panel.settings().params["voice_id"] == "JBFqnCBsd6RMkjVDRZzb"
