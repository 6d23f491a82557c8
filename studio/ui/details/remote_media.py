"""A joined space's originals come from the host when first shown: the preview shows
the thumbnail and "Fetching…" meanwhile, then the media (issue 13). While the host is
out of reach it says so instead; the fetch starts when the link is back."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from shiboken6 import isValid

from studio.store.records import VariantRow

if TYPE_CHECKING:
    from studio.ui.details.media import MediaPreview

FETCHING = "Fetching the original from the host…"
OFFLINE = "Offline — the original is on the host; it loads when the connection is back"


def fetching(preview: MediaPreview, media_dir: Path, row: VariantRow, kind: str) -> bool:
    """Ask the preview's ``fetch_missing`` for ``row``'s original when it is not here;
    True when the preview now waits for it."""
    if preview.fetch_missing is None or (media_dir / str(row.media_path)).exists():
        return False

    def ready(variant_id: str = row.id) -> None:
        if not isValid(preview):  # its window closed while the file was on its way
            return
        current = preview._row
        if current is not None and current.id == variant_id:
            preview._key = None
            preview.show_variant(media_dir, current, kind)

    if not preview.fetch_missing(row.id, ready):
        return False
    preview._placeholder(media_dir, row)
    preview._status_label.setText(OFFLINE if preview.host_offline else FETCHING)
    preview._key = None
    return True


def set_host_offline(preview: MediaPreview, offline: bool) -> None:
    """The joined space's host went out of reach (or came back): a preview waiting for
    an original says which."""
    if preview.host_offline == offline:
        return
    preview.host_offline = offline
    label = getattr(preview, "_status_label", None)
    if preview.kind == "placeholder" and label is not None and label.text() in (FETCHING, OFFLINE):
        label.setText(OFFLINE if offline else FETCHING)
