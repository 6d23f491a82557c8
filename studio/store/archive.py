"""The ``.forgespace`` file: one space (its SQLite file and its media) as one zip.

Layout (every entry stored uncompressed)::

    space.db            a consistent snapshot of the space file (SQLite backup API)
    media/<sha256>      each distinct media file once, named by its SHA-256
    manifest.json       format and protocol versions, counts, every checksum; written last

Writing streams every file through a fixed-size buffer (memory does not grow with the
media). Reading trusts nothing: :func:`open_archive` refuses, before a byte is
extracted, anything but the entries above (zip-slip and absolute names, symlinks,
encryption, odd compression, a compression ratio or a total size beyond the limits,
entries that overlap), a manifest from a newer format, and a manifest that does not
match the entries; :meth:`ArchiveReader.extract` then checks every byte against the
manifest's SHA-256 and sizes, and :func:`check_snapshot` the database against the
manifest's counts and files. Every refusal is one :class:`ArchiveError` sentence.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import stat
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.store.archive_db import check_snapshot, describe_snapshot, snapshot, stamp_identity
from studio.store.archive_extract import Blob, extract_blobs
from studio.store.archive_manifest import (
    CHUNK,
    DATABASE,
    FORMAT_VERSION,
    FREE_MARGIN,
    MANIFEST,
    MAX_ENTRIES,
    MAX_MANIFEST_BYTES,
    MAX_RATIO,
    MEDIA_NAME,
    MEDIA_PREFIX,
    RATIO_FLOOR,
    SUFFIX,
    ArchivedFile,
    ArchiveError,
    Manifest,
    Progress,
    no_progress,
    parse_manifest,
)
from studio.store.archive_stream import Flusher, HashingCopier, TooLong
from studio.store.archive_stream import fsync_path as _fsync

__all__ = [
    "FORMAT_VERSION",
    "SUFFIX",
    "ArchiveError",
    "ArchiveReader",
    "Manifest",
    "Progress",
    "SpaceIdentity",
    "check_room",
    "check_snapshot",
    "open_archive",
    "snapshot",
    "stamp_identity",
    "write_archive",
]

# --------------------------------------------------------------------------- writing


def _entry(name: str, size: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_STORED
    info.file_size = size
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    return info


class _Counter:
    def __init__(self, total: int, progress: Progress) -> None:
        self.done = 0
        self.total = total
        self._progress = progress
        self.on_step: Callable[[int], None] | None = None

    def add(self, n: int) -> None:
        self.done += n
        self._progress(self.done, self.total)
        if self.on_step is not None:
            self.on_step(self.done)


def _copy_in(
    zf: zipfile.ZipFile,
    name: str,
    src: Path,
    size: int,
    counter: _Counter,
    copier: HashingCopier,
) -> str:
    """Stream ``src`` into the entry ``name``; returns its SHA-256."""
    with open(src, "rb") as f, zf.open(_entry(name, size), "w") as out:
        try:
            written, sha = copier.copy(f.readinto, out.write, limit=size, progress=counter.add)
        except TooLong:
            written, sha = size + 1, ""
    if written != size:
        raise ArchiveError(f"{src.name} changed size while it was being archived")
    return sha


def sha256_of(path: Path, buf: bytearray) -> str:
    digest = hashlib.sha256()
    view = memoryview(buf)
    with open(path, "rb") as f:
        while n := f.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


@dataclass(frozen=True, slots=True)
class SpaceIdentity:
    id: str
    slug: str
    name: str


def write_archive(
    db: Path,
    media_dir: Path,
    dest: Path,
    *,
    space: SpaceIdentity,
    protocol_version: int,
    created_at: int,
    progress: Progress = no_progress,
) -> Manifest:
    """Write the archive of the snapshot ``db`` (whose media live in ``media_dir``) to
    ``dest``, which must not exist: written under a temporary name and renamed only once
    whole. Each original is checked against the SHA-256 its variant records."""
    version, counts, wanted = describe_snapshot(db)
    buf = bytearray(CHUNK)
    files: list[ArchivedFile] = []
    for rel, sha in sorted(wanted.items()):
        path = media_dir / rel
        try:
            st = os.lstat(path)
        except OSError as exc:
            raise ArchiveError(
                f"the media file {rel} is missing ({exc.strerror}); see `studio check`"
            ) from exc
        if not stat.S_ISREG(st.st_mode):
            raise ArchiveError(f"the media file {rel} is not a regular file; see `studio check`")
        if sha is None:  # a preview: small, and its row records no checksum
            sha = sha256_of(path, buf)
        files.append(ArchivedFile(rel, sha, st.st_size))
    db_size = db.stat().st_size
    by_sha: dict[str, ArchivedFile] = {}
    for f in files:
        by_sha.setdefault(f.sha256, f)
    counter = _Counter(db_size + sum(f.size for f in by_sha.values()), progress)
    tmp = dest.with_name(f".{dest.name}.part")
    try:
        with (
            ThreadPoolExecutor(1, thread_name_prefix="archive-hash") as pool,
            ThreadPoolExecutor(1, thread_name_prefix="archive-sync") as syncer,
            open(tmp, "xb") as raw,
            zipfile.ZipFile(raw, "w", allowZip64=True) as zf,
        ):
            copier = HashingCopier(pool)
            flusher = counter.on_step = Flusher(syncer, raw.fileno())
            db_sha = _copy_in(zf, DATABASE, db, db_size, counter, copier)
            for sha, f in by_sha.items():
                got = _copy_in(zf, MEDIA_PREFIX + sha, media_dir / f.path, f.size, counter, copier)
                if got != sha:
                    raise ArchiveError(
                        f"the media file {f.path} does not match its SHA-256 (damaged?); "
                        "see `studio check`"
                    )
            manifest = Manifest(
                format_version=FORMAT_VERSION,
                protocol_version=protocol_version,
                schema_version=version,
                created_at=created_at,
                space_id=space.id,
                space_slug=space.slug,
                space_name=space.name,
                counts=counts,
                database_sha256=db_sha,
                database_size=db_size,
                files=tuple(files),
            )
            data = json.dumps(manifest.to_json(), ensure_ascii=False, indent=1).encode()
            zf.writestr(_entry(MANIFEST, len(data)), data)
            raw.flush()
            flusher.wait()
            os.fsync(raw.fileno())
        _link_into_place(tmp, dest)
    except ArchiveError:
        tmp.unlink(missing_ok=True)
        raise
    except FileExistsError:
        raise ArchiveError(f"{dest.name} is being written by another export; try again") from None
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"could not write {dest}: {exc.strerror or exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return manifest


def _link_into_place(tmp: Path, dest: Path) -> None:
    """Rename ``tmp`` to ``dest`` unless ``dest`` appeared meanwhile (never overwritten)."""
    try:
        os.link(tmp, dest)
    except FileExistsError:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"{dest} already exists; choose another file name") from None
    except OSError:  # no hard links here: reserve the name, then replace
        fd = os.open(dest, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.close(fd)
        os.replace(tmp, dest)
    else:
        tmp.unlink()
    _fsync_dir(dest.parent)


# --------------------------------------------------------------------------- reading


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _entry_fault(name: str) -> str | None:
    """Why an entry name is refused outright (before it is even compared to the layout)."""
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        return f"the entry {name[:80]!r} has an absolute path"
    parts = re.split(r"[\\/]", name)
    if ".." in parts:
        return f"the entry {name[:80]!r} points outside the archive (zip-slip)"
    if "\x00" in name:
        return f"the entry {name[:80]!r} has a NUL in its name"
    return None


class ArchiveReader:
    """A ``.forgespace`` file whose structure and manifest have been checked (see
    :func:`open_archive`). Use as a context manager."""

    def __init__(self, path: Path, zf: zipfile.ZipFile, manifest: Manifest) -> None:
        self.path = path
        self.label = path.name
        self._zf = zf
        self.manifest = manifest

    def close(self) -> None:
        self._zf.close()

    def __enter__(self) -> ArchiveReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def total_bytes(self) -> int:
        return self.manifest.database_size + self.manifest.media_bytes

    def extract(self, db_dest: Path, media_dest: Path, progress: Progress = no_progress) -> None:
        """Extract the space file to ``db_dest`` and every media file under ``media_dest``
        (created), each checked against its SHA-256 and size as it streams, several
        files at once (:mod:`studio.store.archive_extract`); a media file listed twice is
        linked to its first copy. Returns once every file is on disk. The caller removes
        what was written when this raises."""
        m = self.manifest
        blobs = [Blob(DATABASE, db_dest, m.database_sha256, m.database_size)]
        firsts: dict[str, Path] = {}
        again: list[tuple[Path, Path]] = []
        root = media_dest.resolve()
        for f in m.files:
            target = media_dest.joinpath(*PurePosixPath(f.path).parts)
            if not target.resolve().is_relative_to(root):
                raise ArchiveError(f"{self.label} is refused: {f.path} leads outside the space")
            target.parent.mkdir(parents=True, exist_ok=True)
            first = firsts.get(f.sha256)
            if first is None:
                blobs.append(Blob(MEDIA_PREFIX + f.sha256, target, f.sha256, f.size))
                firsts[f.sha256] = target
            else:
                again.append((first, target))
        extract_blobs(self._zf, self.path, self.label, blobs, progress, self.total_bytes)
        for first, target in again:
            try:
                os.link(first, target)
            except OSError:
                shutil.copyfile(first, target)
                _fsync(target)


def open_archive(path: Path) -> ArchiveReader:
    """Open and check a ``.forgespace`` file (see the module's docstring), reading
    nothing but its directory and its manifest."""
    label = path.name
    try:
        st = os.stat(path)
    except OSError as exc:
        raise ArchiveError(f"could not read {path}: {exc.strerror or exc}") from exc
    if not stat.S_ISREG(st.st_mode):
        raise ArchiveError(f"{path} is not a file")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError, NotImplementedError) as exc:
        raise ArchiveError(
            f"{label} is not a whole Forge Studio space archive (truncated, or not a zip file)"
        ) from exc
    except OSError as exc:
        raise ArchiveError(f"could not read {path}: {exc.strerror or exc}") from exc
    try:
        manifest = _check_structure(zf, label, st.st_size)
    except BaseException:
        zf.close()
        raise
    return ArchiveReader(path, zf, manifest)


def _check_structure(zf: zipfile.ZipFile, label: str, archive_size: int) -> Manifest:
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise ArchiveError(f"{label} is refused: it has more than {MAX_ENTRIES} entries")
    names: dict[str, zipfile.ZipInfo] = {}
    packed = 0
    for info in infos:
        fault = _entry_fault(info.filename) or _entry_fault(info.orig_filename)
        if fault is not None:
            raise ArchiveError(f"{label} is refused: {fault}")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise ArchiveError(f"{label} is refused: the entry {info.filename[:80]!r} is a symlink")
        if info.is_dir() or stat.S_IFMT(mode) not in (0, stat.S_IFREG):
            raise ArchiveError(
                f"{label} is refused: the entry {info.filename[:80]!r} is not a plain file"
            )
        if info.flag_bits & 0x1:
            raise ArchiveError(f"{label} is refused: it is encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise ArchiveError(f"{label} is refused: it uses an unknown compression")
        if info.compress_type == zipfile.ZIP_STORED and info.compress_size != info.file_size:
            raise ArchiveError(
                f"{label} is refused: {info.filename[:80]!r} declares two different sizes"
            )
        if info.file_size > RATIO_FLOOR and info.file_size > MAX_RATIO * max(1, info.compress_size):
            raise ArchiveError(
                f"{label} is refused: {info.filename[:80]!r} would expand "
                f"{info.file_size // max(1, info.compress_size)}-fold (a zip bomb?)"
            )
        if info.filename in names:
            raise ArchiveError(f"{label} is refused: the entry {info.filename[:80]!r} is repeated")
        names[info.filename] = info
        packed += info.compress_size
    if packed > archive_size:
        raise ArchiveError(f"{label} is refused: its entries overlap (a zip bomb?)")
    manifest_info = names.get(MANIFEST)
    if manifest_info is None or DATABASE not in names:
        raise ArchiveError(f"{label} is not a Forge Studio space archive (no manifest)")
    if manifest_info.file_size > MAX_MANIFEST_BYTES:
        raise ArchiveError(f"{label} is refused: its manifest is larger than any we write")
    try:
        with zf.open(manifest_info) as stream:
            data = stream.read(MAX_MANIFEST_BYTES + 1)
    except (zipfile.BadZipFile, EOFError, zlib.error, OSError) as exc:
        raise ArchiveError(f"{label} is damaged or truncated (manifest: {exc})") from exc
    manifest = parse_manifest(data, label)
    blobs = manifest.blobs()
    for name in names:
        if name in (MANIFEST, DATABASE):
            continue
        m = MEDIA_NAME.fullmatch(name)
        if m is None:
            raise ArchiveError(f"{label} is refused: unexpected entry {name[:80]!r}")
        if m.group(1) not in blobs:
            raise ArchiveError(f"{label} is refused: its manifest does not list {name}")
    if names[DATABASE].file_size != manifest.database_size:
        raise ArchiveError(f"{label} is refused: its manifest lies about the space file's size")
    for sha, f in blobs.items():
        blob = names.get(MEDIA_PREFIX + sha)
        if blob is None:
            raise ArchiveError(f"{label} is refused: {f.path} is listed but not in the archive")
        if blob.file_size != f.size:
            raise ArchiveError(f"{label} is refused: its manifest lies about the size of {f.path}")
    return manifest


def free_bytes(folder: Path) -> int:
    import shutil

    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return 2**63 - 1  # unknown: let the writes themselves fail cleanly


def check_room(folder: Path, needed: int) -> None:
    free = free_bytes(folder)
    if needed + FREE_MARGIN > free:
        raise ArchiveError(
            f"not enough free disk space: the import needs {needed // 2**20 + 1} MiB "
            f"and {free // 2**20} MiB are free"
        )
