"""File ▸ Export space… / Import space…, and imported prompts found by the find bar."""

from __future__ import annotations

import json
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QInputDialog

from studio.core.imports import import_files
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui import file_jobs
from studio.ui.details import file_out
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER
from tests.ui.test_details_kit import Details, import_one


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    yield w
    w.close()
    studio.close()


def _made(path: Path, prompt: str) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", f"{prompt}\nSteps: 9, Sampler: Euler, Seed: 5, Size: 40x30")
    Image.new("RGB", (40, 30), "teal").save(path, pnginfo=info)
    return path


def _action(window: MainWindow, name: str) -> QAction:
    found = [a for a in window.findChildren(QAction) if a.objectName() == name]
    assert len(found) == 1, name
    return found[0]


def test_export_and_import_space_through_the_file_menu(
    window: MainWindow,
    tmp_path: Path,
    qtbot,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    entry = window.studio.create_space("Moodboard")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    report = import_files(space, [_made(tmp_path / "a.png", "a copper kettle")], OWNER)
    assert not report.refused
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=10_000)

    out = tmp_path / "board.forgespace"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(out), ""))
    _action(window, "exportSpace").trigger()
    qtbot.waitUntil(lambda: window.archive_control.running is None, timeout=20_000)
    assert out.is_file() and out.stat().st_size > 1000

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(out), ""))
    _action(window, "importSpace").trigger()
    qtbot.waitUntil(lambda: window.archive_control.running is None, timeout=20_000)
    qtbot.waitUntil(lambda: window.space is not None and window.space.slug == "moodboard-2")
    assert window.spaces.list.count() == 2
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=10_000)

    # a damaged archive: one clear message, nothing added
    out.write_bytes(out.read_bytes()[:500])
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", errors.append)
    _action(window, "importSpace").trigger()
    qtbot.waitUntil(lambda: window.archive_control.running is None, timeout=20_000)
    qtbot.waitUntil(lambda: bool(errors))
    assert "truncated" in errors[0] and window.spaces.list.count() == 2


def test_an_imported_prompt_is_found(window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Found")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    import_files(
        space,
        [_made(tmp_path / "one.png", "a copper kettle"), _made(tmp_path / "two.png", "a tin cup")],
        OWNER,
    )
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=10_000)
    window.find_bar.open_bar()
    qtbot.keyClicks(window.find_bar.text, "copper")
    qtbot.waitUntil(lambda: window.find_bar.count.text() == "1 of 1", timeout=5_000)
    [match] = window.scene.finder.matches()
    assert space.asset(match).name == "one"


@pytest.fixture
def d(qtbot, space) -> Iterator[Details]:  # type: ignore[no-untyped-def]
    details = Details(qtbot, space)
    yield details
    details.close()


def test_details_export_as_converts_with_provenance(
    d: Details, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:  # type: ignore[no-untyped-def]
    aid, _ = import_one(d.space, _made(tmp_path / "k.png", "a copper kettle"))
    w = d.show(aid)
    asked: list[list[str]] = []

    def pick(parent, title, label, items, current, editable):  # type: ignore[no-untyped-def]
        asked.append(list(items))
        return "jpeg", True

    monkeypatch.setattr(QInputDialog, "getItem", pick)
    dest = tmp_path / "kettle.jpg"
    dest.write_bytes(b"an older file the dialog agreed to replace")
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    assert w.core.variant_actions.trigger("convert") == dest
    _wait_for_file_jobs(qtbot)
    assert asked == [["png", "jpeg", "webp", "avif", "tiff"]]  # the image formats only
    with Image.open(dest) as im:
        assert im.format == "JPEG" and im.size == (40, 30)
        assert b"a copper kettle" in im.info["xmp"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def _wait_for_file_jobs(qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not file_jobs._RUNNING, timeout=20_000)


def test_details_export_as_converts_off_the_ui_thread(
    d: Details, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:  # type: ignore[no-untyped-def]
    aid, vid = import_one(d.space, _made(tmp_path / "k.png", "a brass bell"))
    w = d.show(aid)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("webp", True))
    dest = tmp_path / "bell.webp"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    threads: list[threading.Thread] = []
    from studio.core import convert as convert_module  # file_out imports it when asked

    real = convert_module.convert_variant

    def convert(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        return real(*args, **kwargs)

    monkeypatch.setattr(convert_module, "convert_variant", convert)
    assert w.core.variant_actions.trigger("convert") == dest
    _wait_for_file_jobs(qtbot)
    assert threads and threads[0] is not threading.main_thread()  # the UI never waited
    with Image.open(dest) as im:
        assert im.format == "WEBP" and im.size == (40, 30)
    assert d.space.variant_detail(vid).row.status == "completed"


def test_canvas_exports_a_selection_to_a_folder_off_the_ui_thread(
    space: Space, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.canvas import menus
    from tests.ui.test_canvas_kit import make_canvas

    ids = [
        import_one(space, _made(tmp_path / f"{n}.png", f"a {n} lamp"))[0] for n in ("red", "tin")
    ]
    cv = make_canvas(space, qtbot)
    for aid in ids:
        card = cv.scene.card(aid)
        assert card is not None
        card.setSelected(True)
    folder = tmp_path / "out"
    folder.mkdir()
    monkeypatch.setattr(QFileDialog, "getExistingDirectory", lambda *a, **k: str(folder))
    threads: list[threading.Thread] = []
    progress: list[tuple[int, int]] = []
    real = file_jobs.export_to_folder

    def export(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        space_, vids, where, report = args
        return real(space_, vids, where, lambda d, t: (progress.append((d, t)), report(d, t)))

    monkeypatch.setattr(file_jobs, "export_to_folder", export)
    card = cv.scene.card(ids[0])
    assert card is not None
    menu = menus.card_menu(cv.view, card)
    next(a for a in menu.actions() if a.text() == "Export 2 files…").trigger()
    _wait_for_file_jobs(qtbot)
    assert threads and threads[0] is not threading.main_thread()
    assert progress == [(1, 2), (2, 2)] and cv.host.errors == []
    written = sorted(folder.iterdir())
    assert len(written) == 2
    prompts = set()
    for path in written:
        with Image.open(path) as im:
            prompts.add(json.loads(im.info["forge-studio:recipe"])["recipe"]["prompt"])
    assert prompts == {"a red lamp", "a tin lamp"}  # provenance embedded in each


def test_details_show_what_an_imported_file_says(d: Details, tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    info.add_text(
        "parameters",
        "a copper kettle\nNegative prompt: rust\nSteps: 9, Sampler: Euler, Seed: 5, Size: 40x30",
    )
    path = tmp_path / "c2pa.png"
    Image.new("RGB", (40, 30), "teal").save(path, pnginfo=info)
    raw = path.read_bytes()  # plus a C2PA manifest chunk, as Gemini's images carry one
    at = raw.index(b"IDAT") - 4
    body = b"jumb-c2pa"
    chunk = (
        struct.pack(">I", len(body))
        + b"caBX"
        + body
        + struct.pack(">I", zlib.crc32(b"caBX" + body))
    )
    path.write_bytes(raw[:at] + chunk + raw[at:])
    aid, _ = import_one(d.space, path)
    panel = d.show(aid).core.recipe
    assert panel.text_of("Prompt") == "a copper kettle"
    assert panel.text_of("negative_prompt") == "rust"
    assert panel.text_of("source_tool") == "automatic1111"
    assert panel.text_of("param:Steps") == "9" and panel.text_of("param:Sampler") == "Euler"
    assert panel.text_of("c2pa") == "present"


def test_details_export_as_shows_the_conversion_progress(
    d: Details, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qtbot
) -> None:  # type: ignore[no-untyped-def]
    """Before: the dialog was a busy bar; now it follows the seconds of sound converted."""
    import math
    import wave

    src = tmp_path / "hum.wav"
    with wave.open(str(src), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
        w.writeframes(
            b"".join(struct.pack("<h", int(8000 * math.sin(i / 10))) for i in range(16000 * 3))
        )
    aid, _ = import_one(d.space, src)
    win = d.show(aid)
    monkeypatch.setattr(QInputDialog, "getItem", lambda *a, **k: ("mp3", True))
    dest = tmp_path / "hum.mp3"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(dest), ""))
    seen: list[tuple[int, int]] = []
    real = file_out.start_file_job

    def start(*args, **kwargs):  # type: ignore[no-untyped-def]
        job = real(*args, **kwargs)
        job.progressed.connect(lambda done, total: seen.append((done, total)))
        return job

    monkeypatch.setattr(file_out, "start_file_job", start)
    assert win.core.variant_actions.trigger("convert") == dest
    _wait_for_file_jobs(qtbot)
    qtbot.waitUntil(lambda: bool(seen) and seen[-1] == (1000, 1000), timeout=5000)
    assert {t for _d, t in seen} == {1000} and len(seen) > 5
    assert [d for d, _t in seen] == sorted(d for d, _t in seen)
    assert dest.stat().st_size > 1000


def test_details_show_the_c2pa_issuer(d: Details, tmp_path: Path) -> None:
    """Before: "C2PA present" whoever signed; now the signer (read offline)."""
    import io

    from tests.media.test_c2pa import MANIFEST, VALID, _signer, c2pa

    src = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 90, 160)).save(src, "PNG")
    src.seek(0)
    signed = io.BytesIO()
    with c2pa.Builder(json.dumps(MANIFEST)) as builder:
        builder.sign(_signer(), "image/png", src, signed)
    path = tmp_path / "signed.png"
    path.write_bytes(signed.getvalue())
    aid, _ = import_one(d.space, path)
    w = d.show(aid)
    assert w.core.recipe.text_of("c2pa") == VALID
