"""Sharing in the desktop app (issue 13): the engine thread, the controller, Share…,
People, Join…, the connection banner."""
