"""A chat turn off the UI thread: text pieces, the result and errors come back as
signals (queued to the runner's thread, the UI's)."""

from __future__ import annotations

import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.assistant.chat import Chat, ChatReply
from studio.core.errors import StudioError

_warming: list[threading.Thread] = []


def warm_up_sdk() -> None:
    """Import the Anthropic SDK on a thread of its own, once per process."""
    if _warming:
        return

    def load() -> None:
        import anthropic  # noqa: F401 (loaded for the chat thread)

    thread = threading.Thread(target=load, name="assistant-warm-up", daemon=True)
    _warming.append(thread)
    thread.start()


class ChatRunner(QObject):
    text = Signal(str)
    done = Signal(object)  # ChatReply
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._thread: threading.Thread | None = None
        self.stop_event = threading.Event()

    @property
    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, make_chat: Callable[[], Chat], message: str, session_id: str | None) -> None:
        """Send ``message`` on a thread of its own (one at a time)."""
        if self.busy:
            return
        self.stop_event = threading.Event()
        stop = self.stop_event

        def work() -> None:
            try:
                chat = make_chat()
                try:
                    reply: ChatReply = chat.send(
                        message, session_id=session_id, on_text=self.text.emit, stop=stop
                    )
                finally:
                    chat.client.close()
            except StudioError as exc:
                self.failed.emit(exc.message)
                return
            except Exception as exc:  # never a silent dead thread: say what broke
                self.failed.emit(f"the assistant stopped: {type(exc).__name__}")
                return
            self.done.emit(reply)

        self._thread = threading.Thread(target=work, name="assistant-chat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Wait (bounded) for a running turn to end; True when none runs."""
        if self._thread is not None:
            self._thread.join(timeout_s)
        return not self.busy
