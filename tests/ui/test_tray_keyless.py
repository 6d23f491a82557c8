"""The forge tray shows every provider: the ones without a key greyed out with their
models, and an "Add … key…" entry that opens Preferences ▸ Keys (issue #15, item 4)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtGui import QStandardItemModel

import studio.keys as keys_module
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.tray import ForgeTray
from tests.ui.fake_host import FakeHost
from tests.workers.cloud_helpers import MemoryKeyring, using_keyring


@pytest.fixture
def tray(tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch) -> Iterator[ForgeTray]:  # type: ignore[no-untyped-def]
    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    with using_keyring(MemoryKeyring()):
        studio = Studio(tmp_path / "home", providers=build_providers)
        space = studio.open_space(studio.create_space("Keys").slug)
        widget = ForgeTray(FakeHost(space), studio)
        qtbot.addWidget(widget)
        widget.set_space(space)
        yield widget
        widget.set_space(None)
        space.close()
        studio.close()


def _entries(tray: ForgeTray) -> list[tuple[str, object, bool]]:
    combo = tray.options.provider
    model = combo.model()
    assert isinstance(model, QStandardItemModel)
    return [
        (combo.itemText(i), combo.itemData(i), model.item(i).isEnabled())
        for i in range(combo.count())
    ]


def test_providers_without_a_key_are_shown_greyed_with_an_add_key_entry(tray: ForgeTray) -> None:
    entries = _entries(tray)
    assert entries[0][1] == "local" and entries[0][2] is True
    texts = [t for t, _, _ in entries]
    assert "Google Gemini (images) (no key)" in texts
    greyed = next(e for e in entries if e[0] == "Google Gemini (images) (no key)")
    assert greyed[1] is None and greyed[2] is False
    assert ("    Add a Gemini key…", "addkey:gemini", True) in entries
    tip = tray.options.provider.itemData(texts.index(greyed[0]), 3)  # ToolTipRole
    assert "Gemini 3.1 Flash Image" in str(tip)


def test_choosing_add_key_opens_the_keys_page_and_keeps_the_provider(tray: ForgeTray) -> None:
    host = tray._host
    assert isinstance(host, FakeHost)
    combo = tray.options.provider
    combo.setCurrentIndex(combo.findData("addkey:gemini"))
    assert host.preferences == ["keys"]
    assert combo.currentData() == "local"
    assert tray.options.settings().provider == "local"
