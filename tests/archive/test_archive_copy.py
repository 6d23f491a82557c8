"""How an archive's stored entries are copied out: in the kernel with the written file
hashed back, or through a buffer (another file system, an old kernel); the hash beside
the copy or on the same thread. Every mode yields the same files and refuses the same
damage with nothing written."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from studio.core.archive import export_space, import_space
from studio.core.imports import import_files
from studio.core.studio import Studio
from studio.media.previews import TIERS, tier_name
from studio.store import archive_extract, archive_stream
from studio.store.archive import ArchiveError, open_archive
from studio.store.archive_stream import WINDOW, kernel_copy_hashed
from tests.conftest import OWNER

SIZE = 2 * WINDOW + 12_345  # three windows, the last one short


def _source(tmp_path: Path) -> tuple[Path, bytes]:
    data = os.urandom(SIZE + 1000)
    path = tmp_path / "src.bin"
    path.write_bytes(data)
    return path, data


@pytest.mark.parametrize("threaded", [True, False])
def test_kernel_copy_copies_the_range_and_hashes_what_it_wrote(
    tmp_path: Path, threaded: bool
) -> None:
    src, data = _source(tmp_path)
    steps: list[int] = []
    with (
        ThreadPoolExecutor(1) as pool,
        open(src, "rb") as f,
        open(tmp_path / "dst.bin", "x+b") as out,
    ):
        digest = kernel_copy_hashed(
            f.fileno(), 700, SIZE, out.fileno(), pool if threaded else None, steps.append
        )
    written = (tmp_path / "dst.bin").read_bytes()
    assert written == data[700 : 700 + SIZE]
    assert digest == hashlib.sha256(written).hexdigest()
    assert steps == [WINDOW, WINDOW, 12_345]


def test_kernel_copy_stops_where_the_source_ends(tmp_path: Path) -> None:
    src, _data = _source(tmp_path)
    with (
        open(src, "rb") as f,
        open(tmp_path / "dst.bin", "x+b") as out,
        pytest.raises(EOFError),
    ):
        kernel_copy_hashed(f.fileno(), 2000, SIZE, out.fileno(), None, lambda n: None)
    assert (tmp_path / "dst.bin").stat().st_size <= SIZE - 1000


def test_no_kernel_copy_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A kernel or file system without copy_file_range: None, and the file stays empty."""

    def unsupported(*_args: object) -> int:
        raise OSError(18, "Invalid cross-device link")  # EXDEV

    monkeypatch.setattr(os, "copy_file_range", unsupported)
    src, _data = _source(tmp_path)
    with open(src, "rb") as f, open(tmp_path / "dst.bin", "x+b") as out:
        assert kernel_copy_hashed(f.fileno(), 0, SIZE, out.fileno(), None, lambda n: None) is None
    assert (tmp_path / "dst.bin").stat().st_size == 0


@pytest.fixture
def archive(studio: Studio, tmp_path: Path) -> tuple[Path, dict[str, str]]:
    entry = studio.create_space("Copies")
    paths = []
    for i in range(3):
        p = tmp_path / f"n{i}.png"
        Image.effect_noise((300 + i, 200), 60).convert("RGB").save(p)  # incompressible
        paths.append(p)
    with studio.open_space(entry.slug) as sp:
        assert not import_files(sp, paths, OWNER).refused
        media = {  # what an archive carries: every file a row names (not the small
            # tiers beside a thumbnail, rebuilt from it whenever needed)
            str(f.relative_to(sp.media_dir)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sp.media_dir.rglob("*")
            if f.is_file() and f.name not in TIER_NAMES
        }
    return export_space(studio, entry.slug, tmp_path / "c.forgespace").path, media


def _flip_a_media_byte(src: Path, dest: Path) -> Path:
    data = bytearray(src.read_bytes())
    with zipfile.ZipFile(src) as zf:
        info = next(i for i in zf.infolist() if i.filename.startswith("media/"))
    at = info.header_offset + 30 + len(info.orig_filename.encode()) + len(info.extra or b"")
    data[at + info.compress_size // 2] ^= 0x01
    dest.write_bytes(bytes(data))
    return dest


TIER_NAMES = {tier_name(t) for t in TIERS}

# (kernel copy, hash beside the copy when one worker, workers)
MODES = [
    (True, True, 1),
    (True, False, 1),
    (False, True, 1),
    (False, False, 1),
    (True, False, 3),
    (False, False, 3),
]


@pytest.mark.parametrize(("kernel", "beside", "workers"), MODES)
def test_every_copy_mode_round_trips_and_refuses_a_flipped_byte(
    studio: Studio,
    archive: tuple[Path, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    kernel: bool,
    beside: bool,
    workers: int,
) -> None:
    path, media = archive
    used: list[bool] = []
    real = archive_extract.kernel_copy_hashed

    def kernel_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        used.append(kernel)
        return real(*args, **kwargs) if kernel else None

    monkeypatch.setattr(archive_extract, "kernel_copy_hashed", kernel_copy)
    monkeypatch.setattr(archive_stream, "second_core_free", lambda: beside)
    monkeypatch.setattr(archive_extract, "cores", lambda: 8)
    monkeypatch.setattr(archive_extract, "MAX_WORKERS", workers)
    entry = import_space(studio, path).entry
    assert used and set(used) == {kernel}
    with studio.open_space(entry.slug) as sp:
        got = {
            str(f.relative_to(sp.media_dir)): hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sp.media_dir.rglob("*")
            if f.is_file()
        }
    assert sorted(got.values()) == sorted(media.values())
    spaces = studio.spaces()
    bad = _flip_a_media_byte(path, tmp_path / "bad.forgespace")
    with pytest.raises(ArchiveError, match="does not match the checksum"):
        import_space(studio, bad)
    assert studio.spaces() == spaces
    assert not [p for p in studio.paths.spaces_dir.iterdir() if p.name.startswith(".")]


def test_a_second_core_counts_as_free_only_when_others_leave_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """From the machine's CPU ticks, this process's own left out (so a long import does
    not talk itself out of its hashing thread)."""
    machine = [(0, 0)]
    own = [0.0]
    monkeypatch.setattr(archive_stream, "_machine_ticks", lambda: machine[0])
    monkeypatch.setattr(archive_stream, "_cores", lambda: 2)
    monkeypatch.setattr(os, "times", lambda: os.times_result((own[0], 0.0, 0.0, 0.0, 0.0)))
    cpu = archive_stream._Cpu()
    cpu._hz = 100

    def after(total: int, idle: int, own_s: float) -> bool | None:
        t, i = machine[0]
        machine[0] = (t + total, i + idle)
        own[0] += own_s
        return cpu.second_core_free()

    assert after(200, 190, 0.0) is True  # an idle machine
    assert after(200, 10, 0.0) is False  # others keep both cores busy
    assert after(200, 10, 1.8) is True  # busy, but with this very import: still free
    assert after(200, 100, 0.0) is False  # others use one core: no room for two threads
    assert after(5, 5, 0.0) is False  # too short a span: the last answer stands


def test_files_are_copied_and_hashed_on_several_cores_at_once(
    studio: Studio,
    archive: tuple[Path, dict[str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two files copy at the same time (each hashed by its own worker): the hash, the
    import's real cost, runs on every core instead of one. Each copy waits at a barrier
    for a second one to be under way; copied one after the other, it would time out."""
    path, media = archive
    real = archive_extract.kernel_copy_hashed
    barrier = threading.Barrier(2, timeout=10)
    threads: set[str] = set()
    met = [0]
    counting = threading.Lock()

    def kernel_copy(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.add(threading.current_thread().name)
        with counting:
            first_two = met[0] < 2
            met[0] += 1
        if first_two:
            barrier.wait()  # raises BrokenBarrierError if no other copy comes
        return real(*args, **kwargs)

    monkeypatch.setattr(archive_extract, "kernel_copy_hashed", kernel_copy)
    monkeypatch.setattr(archive_extract, "cores", lambda: 2)
    entry = import_space(studio, path).entry
    assert len(threads) == 2
    with studio.open_space(entry.slug) as sp:
        got = sorted(
            hashlib.sha256(f.read_bytes()).hexdigest()
            for f in sp.media_dir.rglob("*")
            if f.is_file()
        )
    assert sorted(media.values()) == got


def test_a_failing_file_stops_the_other_workers_before_the_import_cleans_up(
    studio: Studio,
    archive: tuple[Path, dict[str, str]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One worker's refusal is raised only once every other worker has stopped (none
    writes into the staging folder after it is removed), and the others stop early."""
    path, _media = archive
    bad = _flip_a_media_byte(path, tmp_path / "bad.forgespace")
    with open_archive(bad) as reader:
        good = {f.sha256 for f in reader.manifest.files} | {reader.manifest.database_sha256}
    real = archive_extract.kernel_copy_hashed
    running: list[int] = [0]
    late: list[str] = []
    lock = threading.Lock()

    def kernel_copy(src, offset, size, dst, pool, progress):  # type: ignore[no-untyped-def]
        with lock:
            running[0] += 1
        try:
            digest = real(src, offset, size, dst, pool, progress)
            if digest in good:  # a sound file: it keeps going until told to stop
                for _ in range(100):  # at most 5 s
                    progress(0)  # raises once another worker has failed
                    time.sleep(0.05)
                late.append(threading.current_thread().name)
            return digest
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(archive_extract, "kernel_copy_hashed", kernel_copy)
    monkeypatch.setattr(archive_extract, "cores", lambda: 4)
    spaces = studio.spaces()
    with pytest.raises(ArchiveError, match="does not match the checksum"):
        import_space(studio, bad)
    assert running[0] == 0  # no copy still running once the refusal is raised
    assert late == []  # every other worker stopped at its next step
    assert studio.spaces() == spaces
    assert not [p for p in studio.paths.spaces_dir.iterdir() if p.name.startswith(".")]
