"""The forge tray's "Enhance" button: Claude rewrites the prompt (off the UI thread),
the person accepts or edits the result, and the request then sent records both prompts
(``GenerationOptions.prompt_before``, see :meth:`PromptEnhancer.annotate`)."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import (
    QBoxLayout,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.assistant.client import ClaudeClient
from studio.assistant.enhance import enhance_prompt
from studio.core import commands as c
from studio.core.errors import StudioError

Ask = Callable[[str, str], "str | None"]
"""(the person's prompt, Claude's) → the prompt to use, or None to keep theirs."""

GENERATION = (c.RequestGeneration, c.RequestRefine, c.RequestBatch)


class EnhanceDialog(QDialog):
    def __init__(self, original: str, better: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Enhanced prompt")
        layout = QVBoxLayout(self)
        mine = QLabel(f"Yours: {original}")
        mine.setWordWrap(True)
        layout.addWidget(mine)
        self.text = QPlainTextEdit(better)
        layout.addWidget(self.text)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Use it")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


NO_KEY = "Enhance needs an Anthropic API key: add it in Preferences ▸ Keys."


def ask_with_dialog(original: str, better: str, parent: QWidget | None = None) -> str | None:
    dialog = EnhanceDialog(original, better, parent)
    return dialog.text.toPlainText() if dialog.exec() == QDialog.DialogCode.Accepted else None


class PromptEnhancer(QObject):
    finished = Signal(str, str)  # the person's prompt, Claude's
    failed = Signal(str)

    def __init__(
        self,
        prompt: QPlainTextEdit,
        media_kind: Callable[[], str],
        client_factory: Callable[[], ClaudeClient],
        *,
        ask: Ask | None = None,
        on_error: Callable[[str], None] | None = None,
        has_key: Callable[[], bool] | None = None,
    ) -> None:
        """``has_key`` (no network): without a key, a click says in the app's words
        where to add one instead of trying."""
        super().__init__(prompt)
        self.prompt = prompt
        self._kind = media_kind
        self._factory = client_factory
        self._has_key = has_key
        self._ask = ask or (lambda mine, better: ask_with_dialog(mine, better, prompt.window()))
        self._before: dict[str, str] = {}
        self._thread: threading.Thread | None = None
        self.button = QToolButton()
        self.button.setText("Enhance")
        self.button.setToolTip("Rewrite the prompt with the assistant (you accept or edit it)")
        self.button.clicked.connect(self.enhance)
        self.finished.connect(self._offer)
        self.failed.connect(lambda _m: self._busy(False))
        self.failed.connect(on_error or (lambda _m: None))

    def attach(self) -> None:
        """Put the button right after the prompt box, in the prompt's own row."""
        parent = self.prompt.parentWidget()
        layout = None if parent is None else parent.layout()
        if isinstance(layout, QBoxLayout):
            layout.insertWidget(layout.indexOf(self.prompt) + 1, self.button)

    def enhance(self) -> None:
        text = self.prompt.toPlainText().strip()
        if not text or (self._thread is not None and self._thread.is_alive()):
            return
        if self._has_key is not None and not self._has_key():
            self.failed.emit(NO_KEY)
            return
        kind = self._kind()
        self._busy(True)

        def work() -> None:
            try:
                client = self._factory()
                try:
                    better = enhance_prompt(client, text, media_kind=kind)
                finally:
                    client.close()
            except StudioError as exc:
                self.failed.emit(exc.message)
                return
            except Exception as exc:  # a dead thread says what broke
                self.failed.emit(f"the prompt could not be enhanced: {type(exc).__name__}")
                return
            self.finished.emit(text, better)

        self._thread = threading.Thread(target=work, name="enhance-prompt", daemon=True)
        self._thread.start()

    def _busy(self, on: bool) -> None:
        self.button.setEnabled(not on)
        self.button.setText("Enhancing…" if on else "Enhance")

    def _offer(self, original: str, better: str) -> None:
        self._busy(False)
        chosen = self._ask(original, better)
        if chosen is None or not chosen.strip():
            return
        self.prompt.setPlainText(chosen.strip())
        if chosen.strip() != original:
            self._before[chosen.strip()] = original

    def annotate(self, cmds: Sequence[c.Command]) -> list[c.Command]:
        """Generation requests whose prompt is an accepted enhancement, with the person's
        own prompt in ``options.prompt_before`` (so the recipe keeps both)."""
        out: list[c.Command] = []
        for cmd in cmds:
            before = self._before.get(cmd.prompt.strip()) if isinstance(cmd, GENERATION) else None
            if isinstance(cmd, GENERATION) and before is not None:
                options = dataclasses.replace(cmd.options, prompt_before=before)
                cmd = dataclasses.replace(cmd, options=options)
            out.append(cmd)
        return out

    def wait(self, timeout_s: float = 10.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)
