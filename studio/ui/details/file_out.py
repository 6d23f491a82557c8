"""Files out of the details views: "Export file…" (the original, provenance embedded) and
"Export as…" (a converted copy, made off the UI thread behind a progress dialog), each
asked for with a file dialog."""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path, PurePosixPath

from PySide6.QtWidgets import QFileDialog, QInputDialog, QWidget

from studio.core import settings
from studio.core.errors import StudioError
from studio.core.space import Space
from studio.store.records import AssetRow, VariantRow
from studio.ui.file_jobs import start_file_job
from studio.ui.folders import FolderMemory

ShowError = Callable[[str], None]


def export_name(asset: AssetRow, row: VariantRow, index: int) -> str:
    ext = PurePosixPath(row.media_path or "").suffix
    suffix = f"-{index}" if index > 1 else ""
    return f"{asset.slug}{suffix}{ext}"


def _start(folders: FolderMemory | None) -> Path:
    return Path.home() if folders is None else folders.start(settings.EXPORT_FOLDER)


def _chosen(folders: FolderMemory | None, chosen: str) -> Path:
    if folders is not None:  # the next export starts in this folder
        folders.remember(settings.EXPORT_FOLDER, Path(chosen))
    return Path(chosen)


def ask_export(
    parent: QWidget,
    space: Space,
    asset: AssetRow,
    row: VariantRow,
    index: int,
    error: ShowError,
    folders: FolderMemory | None = None,
) -> Path | None:
    """Ask where, then write the original there with its recipe and lineage embedded."""
    from studio.core.exports import export_variant  # (provenance, XMP): when asked for

    default = str(_start(folders) / export_name(asset, row, index))
    ext = PurePosixPath(row.media_path or "").suffix
    filters = f"{(row.mime or 'File')} (*{ext});;All files (*)" if ext else "All files (*)"
    chosen, _ = QFileDialog.getSaveFileName(parent, "Export file", default, filters)
    if not chosen:
        return None
    dest = _chosen(folders, chosen)
    return write_beside(dest, lambda tmp: export_variant(space, row.id, tmp), error)


def ask_convert(
    parent: QWidget,
    space: Space,
    asset: AssetRow,
    row: VariantRow,
    error: ShowError,
    folders: FolderMemory | None = None,
    done: Callable[[Path], None] = lambda _dest: None,
) -> Path | None:
    """Ask for a format and a place, then write a converted copy (provenance kept) off
    the UI thread; returns where it is being written (``done(dest)`` once it is)."""
    from studio.core.convert import TARGETS, ConvertOptions, convert_variant

    formats = [name for name, t in TARGETS.items() if t.kind == asset.media_kind]
    fmt, ok = QInputDialog.getItem(parent, "Export as", "Format:", formats, 0, False)
    if not ok or fmt not in TARGETS:
        return None
    default = str(_start(folders) / f"{asset.slug}.{TARGETS[fmt].ext}")
    chosen, _ = QFileDialog.getSaveFileName(parent, "Export as", default)
    if not chosen:
        return None
    dest = _chosen(folders, chosen)

    def work(progress: Callable[[int, int], None]) -> Path:
        def step(done: int, total: int, _what: str) -> None:
            if total:  # the length known: a figure (frames, then seconds of sound)
                progress(done, total)

        return replace_beside(
            dest,
            lambda tmp: convert_variant(
                space, row.id, ConvertOptions(fmt), out=tmp, exports=tmp.parent, progress=step
            ),
        )

    start_file_job(
        parent,
        f"Converting to {fmt.upper()}…",
        work,
        done,
        lambda message: error(f"Could not export to {dest}: {message}"),
    )
    return dest


def replace_beside(dest: Path, make: Callable[[Path], object]) -> Path:
    """Make the file under a temporary name beside ``dest``, then put it in place;
    raises (StudioError, OSError) with nothing left behind."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.export")
    try:
        make(tmp)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest


def write_beside(dest: Path, make: Callable[[Path], object], error: ShowError) -> Path | None:
    """Make the file under a temporary name beside ``dest``, then put it in place (the
    file dialog has already asked before replacing an existing file)."""
    tmp = dest.with_name(f".{dest.name}.{secrets.token_hex(4)}.export")
    try:
        make(tmp)
        os.replace(tmp, dest)
    except StudioError as exc:
        error(f"Could not export to {dest}: {exc.message}")
        return None
    except OSError as exc:
        error(f"Could not export to {dest}: {exc.strerror or exc}")
        return None
    finally:
        tmp.unlink(missing_ok=True)
    return dest
