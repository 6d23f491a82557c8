"""Atomic copies and writes: right hash, no temp files left, destination untouched on failure."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from studio.media import atomic_copy, atomic_write_bytes, fsync_dir, sha256_file
from studio.media import files as files_mod


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_copy_returns_size_and_sha256(tmp_path: Path) -> None:
    data = os.urandom(3 * files_mod.CHUNK + 123)  # several chunks and a partial one
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    dest = tmp_path / "deep" / "er" / "dest.bin"
    size, digest = atomic_copy(src, dest)
    assert size == len(data)
    assert digest == hashlib.sha256(data).hexdigest() == sha256_file(dest)
    assert dest.read_bytes() == data
    assert leftovers(dest.parent) == []


def test_atomic_copy_replaces_an_existing_file(tmp_path: Path) -> None:
    src = tmp_path / "new"
    src.write_bytes(b"new content")
    dest = tmp_path / "dest"
    dest.write_bytes(b"old content that is longer")
    assert atomic_copy(src, dest) == (11, hashlib.sha256(b"new content").hexdigest())
    assert dest.read_bytes() == b"new content"


def test_atomic_copy_of_unreadable_source_leaves_nothing(tmp_path: Path) -> None:
    dest = tmp_path / "out" / "dest.bin"
    with pytest.raises(OSError):
        atomic_copy(tmp_path / "missing.bin", dest)
    assert not dest.exists()
    with pytest.raises(OSError):
        atomic_copy(tmp_path, dest)  # a directory as source
    assert not dest.exists()
    assert not (tmp_path / "out").exists() or leftovers(tmp_path / "out") == []


def test_failure_after_writing_removes_temp_and_keeps_old_dest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"x" * 5000)
    dest = tmp_path / "dest"
    dest.write_bytes(b"precious")

    def broken_fsync(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files_mod.os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="No space"):
        atomic_copy(src, dest)
    with pytest.raises(OSError, match="No space"):
        atomic_write_bytes(dest, b"new")
    assert dest.read_bytes() == b"precious"
    assert leftovers(tmp_path) == []


def test_failure_while_reading_source_midway(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"y" * (files_mod.CHUNK * 2))
    dest = tmp_path / "dest"
    calls = {"n": 0}
    real_sha = files_mod.hashlib.sha256

    class FailingHash:
        def __init__(self) -> None:
            self._h = real_sha()

        def update(self, data: bytes | memoryview) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(5, "Input/output error")
            self._h.update(data)

        def hexdigest(self) -> str:
            return self._h.hexdigest()

    monkeypatch.setattr(files_mod.hashlib, "sha256", FailingHash)
    with pytest.raises(OSError, match="Input/output"):
        atomic_copy(src, dest)
    assert not dest.exists()
    assert leftovers(tmp_path) == []


def test_atomic_write_bytes(tmp_path: Path) -> None:
    dest = tmp_path / "a" / "b.json"
    digest = atomic_write_bytes(dest, b'{"ok": true}')
    assert digest == hashlib.sha256(b'{"ok": true}').hexdigest()
    assert dest.read_bytes() == b'{"ok": true}'
    assert leftovers(dest.parent) == []


def test_written_files_get_normal_permissions(tmp_path: Path) -> None:
    if os.name != "posix":
        pytest.skip("POSIX permissions")
    dest = tmp_path / "f"
    atomic_write_bytes(dest, b"1")
    umask = os.umask(0)
    os.umask(umask)
    assert dest.stat().st_mode & 0o777 == 0o666 & ~umask


def test_fsync_dir_tolerates_anything(tmp_path: Path) -> None:
    fsync_dir(tmp_path)
    fsync_dir(tmp_path / "does-not-exist")


def test_sha256_file(tmp_path: Path) -> None:
    p = tmp_path / "f"
    p.write_bytes(b"abc")
    assert sha256_file(p) == hashlib.sha256(b"abc").hexdigest()


def test_a_copy_made_in_the_kernel_is_whole_and_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not hasattr(os, "copy_file_range"):
        pytest.skip("no copy_file_range here")
    data = os.urandom(2 * files_mod.CHUNK + 77)
    src = tmp_path / "src"
    src.write_bytes(data)
    calls: list[int] = []
    real = os.copy_file_range

    def counting(*args, **kw):  # type: ignore[no-untyped-def]
        calls.append(args[2])
        return real(*args, **kw)

    monkeypatch.setattr(files_mod.os, "copy_file_range", counting)
    size, digest = atomic_copy(src, tmp_path / "dest")
    assert calls, "the kernel did not copy"
    assert (size, digest) == (len(data), hashlib.sha256(data).hexdigest())
    assert (tmp_path / "dest").read_bytes() == data


@pytest.mark.parametrize("fails_at", [0, 1])
def test_a_kernel_copy_that_fails_starts_over_in_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fails_at: int
) -> None:
    """Another file system (EXDEV) at once, or an error half-way: the read-and-write
    loop copies all of it again, from the start."""
    if not hasattr(os, "copy_file_range"):
        pytest.skip("no copy_file_range here")
    data = os.urandom(3 * files_mod.CHUNK)
    src = tmp_path / "src"
    src.write_bytes(data)
    real = os.copy_file_range
    calls = {"n": 0}

    def flaky(src_fd: int, dst_fd: int, count: int, *a, **kw):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] > fails_at:
            raise OSError(18, "Invalid cross-device link")
        return real(src_fd, dst_fd, min(count, files_mod.CHUNK), *a, **kw)

    monkeypatch.setattr(files_mod.os, "copy_file_range", flaky)
    with open(src, "rb") as f:
        f.read(100)  # copied from where the descriptor stands: the rest of the file
        size, digest = files_mod.atomic_copy_from(f, tmp_path / "dest")
    rest = data[100:]
    assert (size, digest) == (len(rest), hashlib.sha256(rest).hexdigest())
    assert (tmp_path / "dest").read_bytes() == rest
    assert leftovers(tmp_path) == []


def test_a_source_over_the_limit_stops_a_kernel_copy(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.write_bytes(b"z" * 5000)
    with open(src, "rb") as f, pytest.raises(files_mod.CopyLimitExceeded):
        files_mod.atomic_copy_from(f, tmp_path / "dest", max_bytes=4096)
    assert not (tmp_path / "dest").exists() and leftovers(tmp_path) == []


def test_a_kernel_copy_that_gives_nothing_is_read_by_the_loop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some kernels copy nothing from a /proc or /sys file and say so with 0 (as at the
    end of a file): the loop reads what is there."""
    if not hasattr(os, "copy_file_range"):
        pytest.skip("no copy_file_range here")
    src = tmp_path / "src"
    src.write_bytes(b"dynamic text")
    monkeypatch.setattr(files_mod.os, "copy_file_range", lambda *a, **kw: 0)
    assert atomic_copy(src, tmp_path / "dest") == (
        12,
        hashlib.sha256(b"dynamic text").hexdigest(),
    )
    assert (tmp_path / "dest").read_bytes() == b"dynamic text"
