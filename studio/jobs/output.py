"""Turning a provider's output into whole media files in the job's staging folder."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path, PurePosixPath
from typing import Any

from studio.core.commands import CompleteVariant
from studio.media import (
    MediaError,
    MediaInfo,
    Previews,
    atomic_copy,
    fsync_dir,
    probe,
    render_previews,
    sha256_file,
)
from studio.media.previews import THUMB_BOX, save_thumbnail
from workers.base import ErrorKind, GenerationOutput, ProviderError


def preload() -> None:
    """Import now what storing a picture needs: Pillow with its PNG and JPEG decoders and
    its WebP encoder (the thumbnails). Otherwise the first result stored pays for it on
    a job thread (~75 ms of Python holding the GIL while the loop claims the next job),
    and the first WebP save makes Pillow import all its 40-odd format plugins (a
    registered WebP encoder spares that: ~40 ms of CPU per process)."""
    from PIL import Image, JpegImagePlugin, PngImagePlugin, WebPImagePlugin  # noqa: F401

    Image.preinit()


def _write_new(path: Path, data: bytes) -> str:
    """Create ``path`` (its folder must exist) with ``data``, fsynced; its SHA-256. The
    folder is fsynced once, after the previews are written beside it (every preview
    path ends so), before anything points at these files."""
    with open(path, "xb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return hashlib.sha256(data).hexdigest()


def store_output(
    dest_dir: Path, rel_dir: PurePosixPath, expected_kind: str, output: GenerationOutput
) -> CompleteVariant:
    """Write the original into ``dest_dir`` (an existing folder: the job's staging
    folder; it is never created here, so a deleted space is not recreated), fsync it,
    probe it, render previews; return the command that points the variant at them as
    ``rel_dir/<name>`` (where ``job:complete`` moves the folder). Raises
    ProviderError(MALFORMED) when the provider's media are not what was asked for."""
    ext = "".join(ch for ch in output.ext.lower() if ch.isascii() and ch.isalnum())[:10] or "bin"
    original = dest_dir / f"original.{ext}"
    if output.data is not None:
        sha = _write_new(original, output.data)
        size = len(output.data)
    elif output.path is not None:
        try:
            os.replace(output.path, original)
            size, sha = original.stat().st_size, sha256_file(original)
        except OSError:
            size, sha = atomic_copy(output.path, original)
    else:
        raise ProviderError(ErrorKind.MALFORMED, "the provider returned no media")
    try:
        info = probe(original)
        if info.kind.value != expected_kind:
            raise ProviderError(
                ErrorKind.MALFORMED,
                f"the provider returned {info.kind.value}, but {expected_kind} was asked for",
            )
        previews = _picture_previews(output.picture, info, dest_dir)
        if previews is None:
            previews = render_previews(original, info, dest_dir, in_place=True)
    except MediaError as exc:  # the scheduler removes the staging folder
        raise ProviderError(
            ErrorKind.MALFORMED, f"the provider's media are unusable: {exc.message}"
        ) from exc
    if info.ext != ext:  # the content decides the name, not the provider's claim
        fixed = dest_dir / f"original.{info.ext}"
        os.replace(original, fixed)
        original = fixed
        fsync_dir(dest_dir)
    return CompleteVariant(
        variant_id=rel_dir.name,
        media_path=str(rel_dir / original.name),
        mime=info.mime,
        size_bytes=size,
        sha256=sha,
        width=info.width,
        height=info.height,
        duration_ms=info.duration_ms,
        thumb_path=None if previews.thumb is None else str(rel_dir / previews.thumb.name),
        poster_path=None if previews.poster is None else str(rel_dir / previews.poster.name),
        provider_metadata=dict(output.provider_metadata),
        generation_provenance=dict(output.provenance),
    )


def _picture_previews(picture: Any, info: MediaInfo, dest_dir: Path) -> Previews | None:
    """``thumb.webp`` from the picture the provider drew, still in memory: the thumbnail
    :func:`render_previews` would make from the file (an 8-bit RGB/RGBA picture with no
    profile or orientation is thumbnailed the same way), without decoding the file
    again. None when there is no such picture, or it is not the file's (then the file
    is decoded as for any provider)."""
    if (
        picture is None
        or info.kind.value != "image"
        or getattr(picture, "mode", None) not in ("RGB", "RGBA")
        or getattr(picture, "size", None) != (info.width, info.height)
        or picture.info.get("icc_profile")
    ):
        return None
    thumb = picture.copy()
    thumb.thumbnail((THUMB_BOX, THUMB_BOX))
    return save_thumbnail(thumb, dest_dir, in_place=True)  # and its 64/16 px tiers
