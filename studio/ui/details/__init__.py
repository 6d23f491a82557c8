"""Asset details: the inspector's compact view (:class:`AssetDetailsWidget`) and the
full view (:class:`AssetDetailsDialog`) with large media and side-by-side compare. The
full view is imported when first asked for (not on the app's start path)."""

from typing import TYPE_CHECKING

from studio.ui.details.widget import AssetDetailsWidget

if TYPE_CHECKING:
    from studio.ui.details.full_view import AssetDetailsDialog

__all__ = ["AssetDetailsDialog", "AssetDetailsWidget"]


def __getattr__(name: str) -> object:
    if name == "AssetDetailsDialog":
        from studio.ui.details.full_view import AssetDetailsDialog

        return AssetDetailsDialog
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
