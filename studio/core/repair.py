"""``studio check --repair``: thumbnails, their small tiers and posters made again from
whole originals (what :func:`studio.core.check.check_space` lists as
``broken_previews``: the original's size and sha256 checked).

Only derived files are written, at the paths the variant's row already names, each
replaced whole (rendered in this holder's staging folder, then renamed over the old
one, then its folder synced): no row changes, so no command goes through the door. An
original that no longer probes, or a preview that cannot be written, costs that variant
alone, with one line saying why."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.core.check import BrokenPreview
from studio.core.errors import StudioError
from studio.core.handlers.common import media_file
from studio.core.space import Space
from studio.media import (
    MediaError,
    MediaLimits,
    fsync_dir,
    probe,
    render_previews,
    sha256_file,
)
from studio.media.previews import tier_paths


@dataclass(frozen=True)
class Repaired:
    variant_id: str
    files: tuple[str, ...] = ()
    """The previews written again (paths in the media folder); empty when it failed."""
    error: str | None = None

    def line(self) -> str:
        if self.error is not None:
            return f"variant {self.variant_id}: not repaired: {self.error}"
        names = ", ".join(PurePosixPath(f).name for f in self.files)
        return f"variant {self.variant_id}: {names} made again from the original"


def repair_previews(
    space: Space, broken: Sequence[BrokenPreview], limits: MediaLimits | None = None
) -> list[Repaired]:
    """Make every listed variant's thumbnail (with its tiers) and poster again from its
    original; one :class:`Repaired` a variant, in the order given."""
    if space.is_replica:
        raise StudioError("a joined space's previews come from its host: run studio fetch")
    limits = limits or MediaLimits()
    return [_repair(space, b, limits) for b in broken]


def remake_variant_previews(
    space: Space, variant_id: str, limits: MediaLimits | None = None
) -> Repaired:
    """Make one variant's previews again from its original (the details panel's "Make
    previews again"): only once the original's size and sha256 still match its row."""
    if space.is_replica:
        raise StudioError("a joined space's previews come from its host")
    detail = space.variant_detail(variant_id)
    row = detail.row
    if row.status != "completed" or not row.media_path:
        return Repaired(variant_id, error="it has no finished original to make them from")
    if not row.thumb_path and not row.poster_path:
        return Repaired(variant_id, error="it has no previews to make")
    try:
        original = media_file(space.media_dir, row.media_path)
        size, sha = detail.size_bytes, detail.sha256
        whole = (size is None or original.stat().st_size == size) and (
            bool(sha) and sha256_file(original) == sha
        )
    except OSError as exc:
        return Repaired(variant_id, error=f"its original cannot be read ({exc.strerror or exc})")
    if not whole:
        return Repaired(variant_id, error="its original no longer matches its checksum")
    broken = BrokenPreview(variant_id, row.media_path, row.thumb_path, row.poster_path)
    return _repair(space, broken, limits or MediaLimits())


def _repair(space: Space, b: BrokenPreview, limits: MediaLimits) -> Repaired:
    try:
        original = media_file(space.media_dir, b.media)
        info = probe(original, limits)
        stage = Path(tempfile.mkdtemp(dir=space.staging_dir(), prefix="repair-"))
        try:
            made = render_previews(
                original, info, stage, limits=limits, sync_dir=False, in_place=True
            )
            moves: list[tuple[Path, str]] = []
            if b.thumb is not None and made.thumb is not None:
                moves.append((made.thumb, b.thumb))
                moves += [
                    (tier, rel)
                    for tier, rel in zip(made.tiers, tier_paths(b.thumb), strict=False)
                    if tier.is_file()
                ]
            if b.poster is not None and made.poster is not None:
                moves.append((made.poster, b.poster))
            if not moves:
                return Repaired(b.variant_id, error="its original makes no preview of that kind")
            folders: set[Path] = set()
            for src, rel in moves:
                dest = media_file(space.media_dir, rel)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
                folders.add(dest.parent)
            for folder in folders:
                fsync_dir(folder)
            return Repaired(b.variant_id, tuple(rel for _src, rel in moves))
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    except MediaError as exc:
        return Repaired(b.variant_id, error=f"its original does not decode ({exc.message})")
    except StudioError as exc:
        return Repaired(b.variant_id, error=exc.message)
    except OSError as exc:
        return Repaired(b.variant_id, error=f"could not write its previews ({exc.strerror or exc})")
