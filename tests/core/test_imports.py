"""Importing real media files, and every kind of bad input."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from PIL import Image

import studio.media.previews as previews_mod
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.events import Event
from studio.core.imports import ImportReport, import_files, recover_interrupted
from studio.core.space import Space
from studio.media import MediaLimits
from tests.conftest import OWNER
from tests.media.conftest import Sample

ME = OWNER


# `samples`: the session's generated media (tests/conftest.py), shared with tests/media


KINDS = [
    "png",
    "jpeg",
    "webp",
    "gif",
    "bmp",
    "tiff",
    "wav",
    "mp3",
    "flac",
    "ogg_vorbis",
    "m4a",
    "mp4",
    "mov",
    "webm_vp9",
]


def test_every_accepted_format_imports_with_probe_data_and_previews(
    space: Space, samples: dict[str, Sample]
) -> None:
    paths = [samples[k].path for k in KINDS]
    report = import_files(space, paths, ME, type_="ref")
    assert report.refused == ()
    assert len(report.imported) == len(KINDS)
    for key, item in zip(KINDS, report.imported, strict=True):
        sample = samples[key]
        asset = space.asset(item.asset_id)
        detail = space.variant_detail(item.variant_id)
        row = detail.row
        assert asset.media_kind == sample.kind and asset.type == "ref"
        assert asset.name == sample.path.stem and asset.active_variant_id == item.variant_id
        assert row.status == "completed" and row.mime == sample.mime
        assert (row.width, row.height) == (sample.width, sample.height)
        if sample.duration_ms is not None and sample.kind != "image":
            assert row.duration_ms is not None and abs(row.duration_ms - sample.duration_ms) < 80
        original = space.media_dir / (row.media_path or "")
        assert original.name == f"original.{sample.ext}"
        assert original.parent.name == item.variant_id and original.parent.parent.name == asset.slug
        assert detail.sha256 == hashlib.sha256(sample.path.read_bytes()).hexdigest()
        assert detail.size_bytes == sample.path.stat().st_size
        assert detail.original_name == sample.path.name
        with Image.open(space.media_dir / (row.thumb_path or "")) as thumb:
            assert thumb.format == "WEBP" and max(thumb.size) <= 512
        if sample.kind == "video":
            assert row.poster_path is not None and row.poster_path.endswith("poster.webp")
        else:
            assert row.poster_path is None


def test_content_decides_the_kind_not_the_extension(
    space: Space, samples: dict[str, Sample], tmp_path: Path
) -> None:
    liar = tmp_path / "song.png"
    liar.write_bytes(samples["wav"].path.read_bytes())
    (item,) = import_files(space, [liar], ME).imported
    detail = space.variant_detail(item.variant_id)
    assert detail.row.mime == "audio/wav" and detail.row.media_path.endswith("original.wav")  # type: ignore[union-attr]
    assert space.asset(item.asset_id).media_kind == "audio"
    assert detail.original_name == "song.png"  # kept as metadata only


def test_import_into_an_existing_asset(space: Space, samples: dict[str, Sample]) -> None:
    (first,) = import_files(space, [samples["png"].path], ME).imported
    report = import_files(
        space, [samples["jpeg"].path, samples["wav"].path], ME, into=first.asset_id
    )
    assert len(report.imported) == 1
    assert "is audio, but" in report.refused[0].reason and "image asset" in report.refused[0].reason
    variants = space.variants_of(first.asset_id)
    assert len(variants) == 2
    assert space.asset(first.asset_id).active_variant_id == first.variant_id
    assert report.undo == (c.DeleteVariant(report.imported[0].variant_id),)


def test_multi_file_import_lays_out_a_grid(space: Space, samples: dict[str, Sample]) -> None:
    report = import_files(
        space, [samples[k].path for k in ("png", "jpeg", "gif", "bmp")], ME, origin=(100, 50)
    )
    spots = sorted((space.asset(i.asset_id).x, space.asset(i.asset_id).y) for i in report.imported)
    assert spots == [(100, 50), (100, 330), (380, 50), (380, 330)]


def test_a_multi_file_import_onto_taken_cards_lands_together_where_its_grid_fits(
    space: Space, samples: dict[str, Sample]
) -> None:
    """Each card took the free spot nearest its own grid spot: four files imported
    where cards already were came down scattered around them, one per side."""
    taken = {(100.0, 50.0), (380.0, 50.0), (100.0, 330.0), (380.0, 330.0)}
    for x, y in taken:
        space.apply(c.CreateAsset("taken", c.MediaKindName.IMAGE, x=x, y=y), ME)
    report = import_files(
        space, [samples[k].path for k in ("png", "jpeg", "gif", "bmp")], ME, origin=(100, 50)
    )
    spots = sorted((space.asset(i.asset_id).x, space.asset(i.asset_id).y) for i in report.imported)
    (x0, y0) = spots[0]
    assert spots == [(x0, y0), (x0, y0 + 280), (x0 + 280, y0), (x0 + 280, y0 + 280)]
    assert not set(spots) & taken  # beside them, on none


def test_events_show_uploading_then_completed(space: Space, samples: dict[str, Sample]) -> None:
    seen: list[Event] = []
    space.subscribe(seen.append)
    import_files(space, [samples["png"].path], ME)
    assert [e.type for e in seen] == ["asset:created", "variant:created", "variant:updated"]
    assert seen[1].data["status"] == "uploading" and seen[2].data["status"] == "completed"


def _bomb(path: Path) -> Path:
    Image.new("1", (20_000, 20_000)).save(path)  # 400 Mpx, compresses to ~50 KB
    return path


def test_bad_inputs_are_refused_one_line_each_and_the_rest_go_in(
    space: Space, samples: dict[str, Sample], tmp_path: Path
) -> None:
    empty = tmp_path / "empty.png"
    empty.write_bytes(b"")
    text = tmp_path / "notes.png"
    text.write_text("these are my notes, not a picture\n" * 20)
    data = samples["png_big"].path.read_bytes()
    truncated = tmp_path / "cut.png"
    truncated.write_bytes(data[: len(data) // 2])
    jdata = samples["jpeg"].path.read_bytes()
    cut_jpeg = tmp_path / "cut.jpg"
    cut_jpeg.write_bytes(jdata[: len(jdata) // 3])
    pdf = tmp_path / "doc.pdf"
    pdf.write_bytes(b"%PDF-1.7\n" + b"0" * 200)
    missing = tmp_path / "nowhere.png"
    a_dir = tmp_path / "folder.png"
    a_dir.mkdir()
    bomb = _bomb(tmp_path / "bomb.png")
    good = [samples["png"].path, samples["wav"].path]
    bad = [empty, text, truncated, cut_jpeg, pdf, missing, a_dir, bomb]
    files_before = sorted(space.media_dir.rglob("*"))

    report = import_files(space, [good[0], *bad, good[1]], ME)

    assert [i.path for i in report.imported] == good
    reasons = {r.path.name: r.reason for r in report.refused}
    assert set(reasons) == {p.name for p in bad}
    assert "empty" in reasons["empty.png"]
    assert "text" in reasons["notes.png"]
    assert "truncated" in reasons["cut.png"] or "corrupt" in reasons["cut.png"]
    assert "truncated" in reasons["cut.jpg"] or "corrupt" in reasons["cut.jpg"]
    assert "pdf" in reasons["doc.pdf"].lower()
    assert "million pixel" in reasons["bomb.png"]
    for r in report.refused:
        assert "\n" not in r.line() and r.line().startswith(str(r.path))
    # a refused file leaves no row and no file behind
    assert len(space.snapshot().assets) == 2
    new_files = set(space.media_dir.rglob("*")) - set(files_before)
    assert not any(
        ".staging" in str(p.relative_to(space.media_dir)) and p.is_file() for p in new_files
    )


def test_size_limit_is_configurable(space: Space, samples: dict[str, Sample]) -> None:
    report = import_files(
        space,
        [samples["png_big"].path, samples["png_tiny"].path],
        ME,
        limits=MediaLimits(max_bytes=10_000),
    )
    assert len(report.imported) == 1
    assert "over the" in report.refused[0].reason and "limit" in report.refused[0].reason


def test_a_failure_placing_the_file_marks_the_variant_failed(
    space: Space, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.imports as imports

    def broken_place(src: Path, dest: Path) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(imports, "place_file", broken_place)
    report = import_files(space, [samples["png"].path], ME)
    assert report.imported == ()
    assert "No space left on device" in report.refused[0].reason
    (variant,) = space.all_variants()
    assert (variant.status, variant.error_code) == ("failed", "STORAGE_ERROR")


def test_a_failure_staging_the_copy_refuses_without_a_row(
    space: Space, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.media.files as files

    real_fsync = os.fsync

    def full_disk(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", full_disk)
    report = import_files(space, [samples["png"].path], ME)
    monkeypatch.setattr(files.os, "fsync", real_fsync)
    assert report.imported == ()
    assert "No space left on device" in report.refused[0].reason
    assert space.all_variants() == []
    assert not any(p.is_file() and p.name != ".swept" for p in space.media_dir.rglob("*"))


def test_viewer_cannot_import(space: Space, samples: dict[str, Sample]) -> None:
    from tests.conftest import VIEWER

    report = import_files(space, [samples["png"].path], VIEWER)
    assert report.imported == () and "can only view" in report.refused[0].reason
    assert space.snapshot().assets == []


def test_interrupted_uploads_are_failed_once_their_importer_is_dead(space: Space, studio) -> None:  # type: ignore[no-untyped-def]
    importer = studio.open_space(space.slug)
    begun = importer.apply(c.BeginUpload(c.MediaKindName.IMAGE, "x.png"), ME)
    stage = importer.staging_dir() / "copying"
    stage.mkdir()
    try:
        assert recover_interrupted(space) == 0  # its importer is alive: still copying
        assert stage.is_dir()
    finally:
        importer.close()
    assert recover_interrupted(space) == 1  # its importer is gone: orphaned
    assert not stage.exists()
    row = space.variant_detail(begun.created["variant_id"]).row
    assert (row.status, row.error_code) == ("failed", "IMPORT_INTERRUPTED")


@pytest.mark.skipif(os.geteuid() == 0, reason="root can read anything")
def test_unreadable_file(space: Space, samples: dict[str, Sample], tmp_path: Path) -> None:
    p = tmp_path / "secret.png"
    p.write_bytes(samples["png"].path.read_bytes())
    p.chmod(0)
    report = import_files(space, [p], Actor.local_owner())
    assert "permission" in report.refused[0].reason.lower() or "read" in report.refused[0].reason


# --------------------------------------------------------------------------- the source is read once


def _run_bounded(fn, seconds: float = 20.0):  # type: ignore[no-untyped-def]
    """Run ``fn`` in a thread; fail (instead of hanging the suite) if it does not finish."""
    import threading

    box: dict[str, object] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # re-raised below, in the test's thread
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    return t, box


def test_a_fifo_swapped_in_after_probing_neither_blocks_nor_is_read(
    space: Space, samples: dict[str, Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.imports as imports

    src = tmp_path / "swap.png"
    original = samples["png"].path.read_bytes()
    src.write_bytes(original)
    fifo = tmp_path / "pipe"
    real_previews = previews_mod.render_previews

    def previews_then_swap(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real_previews(*args, **kwargs)  # probed and previewed: only the copy is left
        os.mkfifo(fifo)
        os.replace(fifo, src)  # the user's path is now a pipe nobody writes to
        return out

    monkeypatch.setattr(previews_mod, "render_previews", previews_then_swap)
    thread, box = _run_bounded(lambda: import_files(space, [src], ME))
    if thread.is_alive():  # unblock the reader stuck on the pipe, then fail
        fd = os.open(src, os.O_WRONLY | os.O_NONBLOCK)
        os.close(fd)
        thread.join(10)
        pytest.fail("the import blocked on a FIFO swapped in after probing")
    assert "error" not in box, box.get("error")
    report = box["result"]
    assert isinstance(report, imports.ImportReport)
    (item,) = report.imported
    detail = space.variant_detail(item.variant_id)
    stored = (space.media_dir / (detail.row.media_path or "")).read_bytes()
    assert stored == original
    assert detail.sha256 == hashlib.sha256(original).hexdigest()


def test_a_file_replaced_after_probing_stores_the_probed_bytes(
    space: Space, samples: dict[str, Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:

    src = tmp_path / "moving.png"
    probed = samples["png"].path.read_bytes()
    src.write_bytes(probed)
    other = samples["wav"].path.read_bytes()  # a different file, even of another kind
    real_previews = previews_mod.render_previews

    def previews_then_replace(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = real_previews(*args, **kwargs)  # probed and previewed: only the copy is left
        swap = tmp_path / "other.tmp"
        swap.write_bytes(other)
        os.replace(swap, src)
        return out

    monkeypatch.setattr(previews_mod, "render_previews", previews_then_replace)
    (item,) = import_files(space, [src], ME).imported
    detail = space.variant_detail(item.variant_id)
    stored = (space.media_dir / (detail.row.media_path or "")).read_bytes()
    assert stored == probed and detail.row.mime == "image/png"
    assert detail.sha256 == hashlib.sha256(probed).hexdigest()
    assert detail.size_bytes == len(probed)


def test_a_fifo_or_a_device_is_refused_without_blocking(
    space: Space, samples: dict[str, Sample], tmp_path: Path
) -> None:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    paths = [fifo, Path("/dev/zero"), samples["png"].path]
    thread, box = _run_bounded(lambda: import_files(space, paths, ME))
    if thread.is_alive():
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(10)
        pytest.fail("the import blocked on a FIFO")
    report = box["result"]
    assert isinstance(report, ImportReport)
    assert [i.path for i in report.imported] == [samples["png"].path]
    assert [r.path for r in report.refused] == paths[:2]
    assert all("not a regular file" in r.reason for r in report.refused)


def test_a_symlink_the_user_chose_is_followed(
    space: Space, samples: dict[str, Sample], tmp_path: Path
) -> None:
    link = tmp_path / "link.png"
    link.symlink_to(samples["png"].path)
    (item,) = import_files(space, [link], ME).imported
    detail = space.variant_detail(item.variant_id)
    assert detail.sha256 == hashlib.sha256(samples["png"].path.read_bytes()).hexdigest()
    assert detail.original_name == "link.png"


# --------------------------------------------------------------------------- names


def test_file_names_that_are_not_utf8_import_with_printable_names(
    space: Space, samples: dict[str, Sample], tmp_path: Path
) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9 \xff\xfe shot.png"  # Latin-1 bytes, not UTF-8
    with open(raw, "wb") as f:
        f.write(samples["png"].path.read_bytes())
    path = Path(os.fsdecode(raw))  # holds lone surrogates \udce9 \udcff \udcfe
    bad = Path(os.fsdecode(os.fsencode(tmp_path) + b"/\xff\xff.png"))
    bad.write_bytes(b"not an image at all\n" * 10)

    report = import_files(space, [path, bad], ME)

    (item,) = report.imported
    detail = space.variant_detail(item.variant_id)
    name = space.asset(item.asset_id).name
    for text in (name, detail.original_name, report.refused[0].line()):
        assert text.encode("utf-8")  # no lone surrogate survives
        assert all(ch.isprintable() for ch in text)
    assert detail.original_name == "caf\ufffd \ufffd\ufffd shot.png"
    assert name == "caf\ufffd \ufffd\ufffd shot"
    assert report.refused[0].path == bad  # the real path is kept for the caller


@pytest.mark.parametrize("length", [201, 205, 230, 255])
def test_long_file_names_import_with_a_cut_asset_name(
    space: Space, samples: dict[str, Sample], tmp_path: Path, length: int
) -> None:
    stem = ("very long name " * 20)[: length - 4].replace(" ", "_")
    path = tmp_path / f"{stem}.png"
    assert len(path.name) == length
    path.write_bytes(samples["png"].path.read_bytes())
    (item,) = import_files(space, [path], ME).imported
    asset = space.asset(item.asset_id)
    if len(stem) <= 200:
        assert asset.name == stem
    else:
        assert len(asset.name) == 200 and asset.name.endswith("\u2026")
        assert stem.startswith(asset.name[:-1])
    assert space.variant_detail(item.variant_id).original_name == path.name  # kept whole


def test_an_unexpected_error_in_one_file_costs_that_file_only(
    space: Space, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A decoder bug (any exception, not only the ones we expect) becomes one Refused line."""

    cursed = tmp_path / "cursed.png"
    cursed.write_bytes(samples["png"].path.read_bytes())
    real_previews = previews_mod.render_previews

    def flaky(path: Path, *args, **kwargs):  # type: ignore[no-untyped-def]
        if hashlib.sha256(path.read_bytes()).hexdigest() == hashlib.sha256(
            cursed.read_bytes()
        ).hexdigest() and not getattr(flaky, "done", False):
            flaky.done = True  # type: ignore[attr-defined]
            raise RuntimeError("a bug deep inside a decoder")
        return real_previews(path, *args, **kwargs)

    monkeypatch.setattr(previews_mod, "render_previews", flaky)
    report = import_files(space, [samples["jpeg"].path, cursed, samples["wav"].path], ME)
    assert [i.path for i in report.imported] == [samples["jpeg"].path, samples["wav"].path]
    (bad,) = report.refused
    assert bad.path == cursed
    assert (
        bad.reason == "the file could not be imported because of an unexpected error (RuntimeError)"
    )
    assert len(space.snapshot().assets) == 2  # nothing of the cursed file stayed


def test_the_cli_prints_non_utf8_file_names_as_text(
    tmp_path: Path, samples: dict[str, Sample]
) -> None:
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    raw = os.fsencode(tmp_path) + b"/\xff\xfeshot.png"
    with open(raw, "wb") as f:
        f.write(samples["png"].path.read_bytes())
    env = dict(os.environ, PYTHONPATH=str(root), LC_ALL="C.UTF-8")
    env.pop("PYTHONIOENCODING", None)
    home = str(tmp_path / "home")

    def studio(*args: str | bytes) -> subprocess.CompletedProcess[bytes]:
        cmd = [sys.executable, "-m", "studio", "--home", home, *args]
        return subprocess.run(cmd, env=env, capture_output=True, timeout=60, cwd=root)

    assert studio("space", "create", "S").returncode == 0
    proc = studio("import", "s", raw)
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert "\ufffd\ufffdshot.png: asset" in proc.stdout.decode("utf-8")
    proc = studio("import", "s", raw, "--json")
    assert proc.returncode == 0, proc.stderr.decode("utf-8", "replace")
    assert "\ufffd\ufffdshot.png" in proc.stdout.decode("utf-8")


@pytest.mark.parametrize(
    "file_name, asset_name",
    [
        ("hero.png", "hero"),
        ("lone \ud800 surrogate.png", "lone \ufffd surrogate"),  # not from surrogateescape
        (os.fsdecode(b"caf\xe9.png"), "caf\ufffd"),
        ("tab\tand\nnewline\x1b[31m.png", "tab and newline\ufffd[31m"),
        (".png", ".png"),
        ("   .gif", "Imported"),
        ("x" * 300 + ".png", "x" * 199 + "\u2026"),
    ],
)
def test_asset_names_derived_from_file_names_are_printable_and_short(
    file_name: str, asset_name: str
) -> None:
    from studio.core.handlers.assets import derived_asset_name
    from studio.media.names import printable_name

    assert derived_asset_name(file_name) == asset_name
    assert printable_name(file_name).encode("utf-8")
    assert len(printable_name(file_name)) == len(file_name)


def test_an_unexpected_error_after_the_row_exists_fails_the_variant(
    space: Space, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.imports as imports

    def buggy_place(src: Path, dest: Path) -> None:
        raise RuntimeError("a bug while placing the file")

    monkeypatch.setattr(imports, "place_file", buggy_place)
    report = import_files(space, [samples["png"].path, samples["wav"].path], ME)
    assert report.imported == () and len(report.refused) == 2
    assert all("unexpected error (RuntimeError)" in r.reason for r in report.refused)
    variants = space.all_variants()
    assert [(v.status, v.error_code) for v in variants] == [("failed", "IMPORT_FAILED")] * 2
    assert not [p for p in space.media_dir.rglob("original.*")]  # nothing left behind
