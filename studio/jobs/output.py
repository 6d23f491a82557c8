"""Turning a provider's output into whole media files beside the variant."""

from __future__ import annotations

import os
import shutil
from pathlib import Path, PurePosixPath

from studio.core.commands import CompleteVariant
from studio.media import (
    MediaError,
    atomic_copy,
    atomic_write_bytes,
    fsync_dir,
    probe,
    render_previews,
    sha256_file,
)
from workers.base import ErrorKind, GenerationOutput, ProviderError


def store_output(
    media_dir: Path, asset_slug: str, variant_id: str, expected_kind: str, output: GenerationOutput
) -> CompleteVariant:
    """Write the original (temp → fsync → rename), probe it, render previews; return the
    command that points the variant at them. Raises ProviderError(MALFORMED) when the
    provider's media are not what was asked for."""
    rel_dir = PurePosixPath(asset_slug) / variant_id
    dest_dir = media_dir / rel_dir
    ext = output.ext.lower().lstrip(".") or "bin"
    original = dest_dir / f"original.{ext}"
    if output.data is not None:
        sha = atomic_write_bytes(original, output.data)
        size = len(output.data)
    elif output.path is not None:
        dest_dir.mkdir(parents=True, exist_ok=True)
        try:
            os.replace(output.path, original)
            fsync_dir(dest_dir)
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
        previews = render_previews(original, info, dest_dir)
    except MediaError as exc:
        shutil.rmtree(dest_dir, ignore_errors=True)
        raise ProviderError(
            ErrorKind.MALFORMED, f"the provider's media are unusable: {exc.message}"
        ) from exc
    except ProviderError:
        shutil.rmtree(dest_dir, ignore_errors=True)
        raise
    if info.ext != ext:  # the content decides the name, not the provider's claim
        fixed = dest_dir / f"original.{info.ext}"
        os.replace(original, fixed)
        original = fixed
        fsync_dir(dest_dir)
    return CompleteVariant(
        variant_id=variant_id,
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
