"""Asset details: the inspector's compact view (:class:`AssetDetailsWidget`) and the
full view (:class:`AssetDetailsDialog`) with large media and side-by-side compare."""

from studio.ui.details.full_view import AssetDetailsDialog
from studio.ui.details.widget import AssetDetailsWidget

__all__ = ["AssetDetailsDialog", "AssetDetailsWidget"]
