"""Media travelling from the host to a peer, on demand, over the same authenticated
connection: a variant's original, thumbnail or poster, verified by sha256, resumable.

The peer asks ``fetch {rid, variant_id, what, offset}``; the host answers ``media {rid,
size, sha256}`` (or ``media {rid, error}``), then binary frames of the file from
``offset`` — each tagged with the request id, so they interleave with steps — then
``media_end {rid}``. The peer appends to ``.<name>.part`` beside the final file (a cut
download resumes where it stopped), checks size and sha256 over the whole file, and
only then renames it into place. The host serves only files under the space's media
folder that a variant row names.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from studio.core.errors import NotFoundError, StorageError, StudioError, ValidationError
from studio.core.space import Space
from studio.sync.wire import encode

KINDS = ("original", "thumb", "poster")
CHUNK = 256 << 10
RID_BYTES = 16
"""Each binary media frame starts with the request id, ASCII, padded to this length."""


def tag(rid: str) -> bytes:
    raw = rid.encode("ascii")
    if len(raw) > RID_BYTES:
        raise ValidationError("a media request id is too long")
    return raw.ljust(RID_BYTES, b" ")


def untag(frame: bytes) -> tuple[str, bytes]:
    if len(frame) < RID_BYTES:
        raise ValidationError("a media frame without its request id")
    return frame[:RID_BYTES].decode("ascii", "replace").rstrip(), frame[RID_BYTES:]


def relative_path(space: Space, variant_id: str, what: str) -> tuple[str, str | None]:
    """The media-folder path a variant names for ``what``, and the sha256 its row
    records (originals only). NotFoundError when there is none."""
    if what not in KINDS:
        raise ValidationError(f"media is one of {', '.join(KINDS)}")
    detail = space.variant_detail(variant_id)
    row = detail.row
    rel = {"original": row.media_path, "thumb": row.thumb_path, "poster": row.poster_path}[what]
    if not rel:
        raise NotFoundError(f"variant {variant_id} has no {what}")
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts or not path.parts:
        raise NotFoundError(f"variant {variant_id} names no file of this space")
    return rel, detail.sha256 if what == "original" else None


def host_file(space: Space, variant_id: str, what: str) -> tuple[Path, int, str]:
    """The file to send, its size and sha256 (the row's for an original: a file that no
    longer matches it is refused rather than sent)."""
    rel, recorded = relative_path(space, variant_id, what)
    path = space.media_dir / rel
    root = space.media_dir.resolve()
    try:
        real = path.resolve(strict=True)
    except OSError:
        raise NotFoundError(f"the {what} of variant {variant_id} is not on the host") from None
    if root not in real.parents or not real.is_file():
        raise NotFoundError(f"variant {variant_id} names no file of this space")
    digest = _sha256(real)
    if recorded is not None and digest != recorded:
        raise StorageError(f"the host's {what} of variant {variant_id} is damaged")
    return real, real.stat().st_size, digest


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


async def send_file(
    send: Callable[[str | bytes], Awaitable[None]],
    space: Space,
    rid: str,
    variant_id: str,
    what: str,
    offset: int,
) -> None:
    """The host's side of one fetch: the ``media`` head (or its error), the tagged
    chunks from ``offset``, ``media_end``."""
    try:
        path, size, digest = await asyncio.to_thread(host_file, space, variant_id, what)
        if offset > size:
            raise ValidationError("that download is past the end of the file")
    except StudioError as exc:
        await send(encode("media", rid=rid, error=exc.to_json()))
        return
    await send(encode("media", rid=rid, size=size, sha256=digest))
    prefix = tag(rid)
    with open(path, "rb") as f:
        f.seek(offset)
        while chunk := await asyncio.to_thread(f.read, CHUNK):
            await send(prefix + chunk)
    await send(encode("media_end", rid=rid))


@dataclass(eq=False)
class Download:
    """One file arriving on a peer (see the module docstring)."""

    dest: Path
    offset: int = 0
    size: int | None = None
    sha256: str | None = None
    received: int = 0
    _hash: Any = field(default_factory=hashlib.sha256)

    @property
    def part(self) -> Path:
        return self.dest.with_name(f".{self.dest.name}.part")

    def resume_from(self) -> int:
        """Bytes already here from a cut download (hashed again, so the check covers
        the whole file)."""
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            with open(self.part, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    self._hash.update(block)
                    self.offset += len(block)
        except FileNotFoundError:
            pass
        return self.offset

    def start(self, size: Any, sha256: Any) -> None:
        if not isinstance(size, int) or not isinstance(sha256, str) or size < self.offset:
            raise ValidationError("the host announced media that makes no sense")
        self.size, self.sha256 = size, sha256

    def write(self, data: bytes) -> None:
        if self.size is None or self.offset + self.received + len(data) > self.size:
            raise ValidationError("the host sent more media than it announced")
        with open(self.part, "ab") as f:
            f.write(data)
        self._hash.update(data)
        self.received += len(data)

    def finish(self) -> Path:
        """Check and put the file in place; a bad one is deleted and refused."""
        if self.offset + self.received != self.size or self._hash.hexdigest() != self.sha256:
            self.part.unlink(missing_ok=True)
            raise StorageError(f"{self.dest.name} arrived damaged (size or sha256 differ)")
        with open(self.part, "rb") as f:
            os.fsync(f.fileno())
        os.replace(self.part, self.dest)
        return self.dest
