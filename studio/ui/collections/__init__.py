"""The collections panel, its lists, and the banner of a collection opened as a view."""
