"""The assistant's chat dock: chats with Claude about the open space, its replies
streamed in, and approval cards for what it proposes."""

from studio.ui.assistant.dock import ChatDockWidget

__all__ = ["ChatDockWidget"]
