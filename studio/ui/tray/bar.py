"""The forge tray's main row, as widgets only (the tray wires the behaviour): the slots
strip, the prompt, the destination control, the mode, the options toggle, the operation
label, the estimate and the Generate button."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QAction, QDragEnterEvent, QDropEvent, QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.mime import get_variants
from studio.ui.tray.slots import GAP, PAD, SLOT, SlotsStrip
from studio.ui.tray.state import IMAGE_TYPES, MODE_LABELS, MODES, Destination

STYLE = """
QFrame#trayBar { background: #23272f; border-top: 1px solid #333842; }
QWidget#trayOptions { background: #1f232a; border-top: 1px solid #2d323c; }
QLabel#trayCaption { color: #8b93a3; font-size: 11px; }
QLabel#trayOperation { color: #c9ced8; }
QLabel#trayOperation[tone="warn"] { color: #e8a85c; }
QLabel#trayOperation[tone="hint"] { color: #7d8594; }
QLabel#trayEstimate { color: #8b93a3; font-size: 11px; }
QLabel#trayEstimate[tone="warn"] { color: #e8a85c; }
QLabel#traySummary { color: #7d8594; font-size: 11px; }
QPlainTextEdit#trayPrompt { background: #1b1e24; border: 1px solid #3a404c; border-radius: 6px;
    padding: 2px 4px; }
QPlainTextEdit#trayPrompt:focus { border-color: #3a7bd5; }
QFrame#trayDestination[dropping="true"] { background: #2f4a6e; border-radius: 4px; }
QToolButton#trayDestinationButton { padding: 3px 8px; border: 1px solid #3a404c;
    border-radius: 4px; background: #2a2e37; }
QToolButton#trayDestinationButton[existing="true"] { border-color: #3a7bd5; color: #ffffff; }
QPushButton#trayGenerate { background: #3a7bd5; color: white; font-weight: 600;
    border: none; border-radius: 6px; padding: 7px 20px; }
QPushButton#trayGenerate:hover { background: #4a8be5; }
QPushButton#trayGenerate:disabled { background: #343a46; color: #7d8594; }
QScrollArea#traySlotsScroll { background: transparent; border: none; }
QScrollArea#traySlotsScroll > QWidget > QWidget { background: transparent; }
QScrollArea#traySlotsScroll QScrollBar:horizontal { height: 6px; background: transparent;
    margin: 0 4px; }
QScrollArea#traySlotsScroll QScrollBar::handle:horizontal { background: #4a5160;
    border-radius: 3px; min-width: 24px; }
QScrollArea#traySlotsScroll QScrollBar::add-line, QScrollArea#traySlotsScroll
    QScrollBar::sub-line { width: 0; height: 0; }
QScrollArea#traySlotsScroll QScrollBar::add-page, QScrollArea#traySlotsScroll
    QScrollBar::sub-page { background: transparent; }
"""


def retone(label: QLabel, tone: str) -> None:
    """Switch a label's colour (the style sheet keys on its ``tone`` property)."""
    if label.property("tone") != tone:
        label.setProperty("tone", tone)
        label.style().unpolish(label)
        label.style().polish(label)


class DestinationWidget(QFrame):
    """Where the result goes: "New asset" or an existing asset (menu, or drop a card).
    ``chosen(asset_id or None)`` and ``dropped(variant_ids)``."""

    chosen = Signal(object)
    dropped = Signal(list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trayDestination")
        self.setAcceptDrops(True)
        self.space_id = ""
        self._choices: list[tuple[str, str]] = []
        caption = QLabel("Into")
        caption.setObjectName("trayCaption")
        self.button = QToolButton()
        self.button.setObjectName("trayDestinationButton")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.button.setMinimumWidth(140)
        self.button.setToolTip("New asset, or an existing one to refine (drop a card here)")
        self.menu = QMenu(self.button)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)
        self.clear = QToolButton()
        self.clear.setObjectName("trayDestinationClear")
        self.clear.setText("\u00d7")
        self.clear.setToolTip("Back to a new asset")
        self.clear.setAutoRaise(True)
        self.clear.clicked.connect(self._new_asset)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        lay.addWidget(caption)
        lay.addWidget(self.button, 1)
        lay.addWidget(self.clear)
        self.set_destination(None)

    def set_destination(self, dest: Destination | None) -> None:
        if dest is None:
            self.button.setText("New asset")
        else:
            metrics = self.button.fontMetrics()
            self.button.setText(
                metrics.elidedText(f"\u27f3 {dest.name}", Qt.TextElideMode.ElideRight, 180)
            )
        self.button.setProperty("existing", dest is not None)
        self.button.style().unpolish(self.button)
        self.button.style().polish(self.button)
        self.clear.setVisible(dest is not None)

    def _new_asset(self) -> None:
        self.chosen.emit(None)

    def _picked(self) -> None:
        action = self.sender()
        if isinstance(action, QAction):
            self.chosen.emit(action.data())

    def set_choices(self, choices: Sequence[tuple[str, str]]) -> None:
        """Assets offered in the menu (those of the references): (asset id, name)."""
        self._choices = list(choices)

    def _fill_menu(self) -> None:
        self.menu.clear()
        self.menu.addAction("New asset", self._new_asset)
        if self._choices:
            self.menu.addSection("Refine an asset in the tray")
            for aid, name in self._choices:
                action = self.menu.addAction(name)
                action.setData(aid)
                action.triggered.connect(self._picked)
        hint = self.menu.addAction("Drop a card here to refine it")
        hint.setEnabled(False)

    def _highlight(self, on: bool) -> None:
        self.setProperty("dropping", on)
        self.style().unpolish(self)
        self.style().polish(self)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if get_variants(event.mimeData(), self.space_id):
            event.acceptProposedAction()
            self._highlight(True)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self._highlight(False)

    def dropEvent(self, event: QDropEvent) -> None:
        self._highlight(False)
        ids = get_variants(event.mimeData(), self.space_id)
        if not ids:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(ids)


class TrayBar(QFrame):
    """The main row's widgets and layout."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trayBar")
        self.strip = SlotsStrip()
        self.slots_scroll = QScrollArea()
        self.slots_scroll.setObjectName("traySlotsScroll")
        self.slots_scroll.setWidget(self.strip)
        self.slots_scroll.setWidgetResizable(False)
        self.slots_scroll.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.slots_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.slots_scroll.setFixedHeight(SLOT + 2 * PAD + 8)
        self.slots_scroll.setMinimumWidth(3 * SLOT + 2 * GAP + 2 * PAD + 2)
        self.slots_scroll.setMaximumWidth(5 * SLOT + 4 * GAP + 2 * PAD + 2)
        self.slots_scroll.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)

        self.prompt = PromptEdit()
        self.prompt.setObjectName("trayPrompt")
        self.prompt.setPlaceholderText("Describe what to make, or how to change the references…")
        self.prompt.setTabChangesFocus(True)
        self.prompt.setFixedHeight(3 * self.prompt.fontMetrics().lineSpacing() + 14)
        self.prompt.setMinimumWidth(220)

        self.destination = DestinationWidget()
        self.mode = QComboBox()
        self.mode.setObjectName("trayMode")
        self.mode.setToolTip("What to make")
        for m in MODES:
            self.mode.addItem(MODE_LABELS[m], m)
        self.image_type = QComboBox()
        self.image_type.setObjectName("trayImageType")
        self.image_type.setEditable(True)
        self.image_type.addItems(list(IMAGE_TYPES))
        self.image_type.setToolTip("The new asset's type")
        self.image_type.setMinimumWidth(96)
        self.options_button = QToolButton()
        self.options_button.setObjectName("trayOptionsButton")
        self.options_button.setText("Options \u25be")
        self.options_button.setCheckable(True)
        self.options_button.setAutoRaise(True)
        self.summary = QLabel()
        self.summary.setObjectName("traySummary")
        self.summary.setMaximumWidth(260)

        self.operation = QLabel()
        self.operation.setObjectName("trayOperation")
        self.operation.setWordWrap(True)
        self.operation.setFixedWidth(250)
        self.operation.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop)
        self.estimate = QLabel()
        self.estimate.setObjectName("trayEstimate")
        self.estimate.setWordWrap(True)
        self.generate = QPushButton("Generate")
        self.generate.setObjectName("trayGenerate")
        self.generate.setToolTip("Generate (Ctrl+Enter)")
        self.generate.setCursor(Qt.CursorShape.PointingHandCursor)

        middle = QVBoxLayout()
        middle.setSpacing(4)
        middle.addWidget(self.destination)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.mode)
        row.addWidget(self.image_type)
        middle.addLayout(row)
        row = QHBoxLayout()
        row.setSpacing(4)
        row.addWidget(self.options_button)
        row.addWidget(self.summary, 1)
        middle.addLayout(row)
        right = QVBoxLayout()
        right.setSpacing(4)
        right.addWidget(self.operation, 1)
        row = QHBoxLayout()
        row.addWidget(self.estimate, 1)
        row.addWidget(self.generate)
        right.addLayout(row)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 6, 8, 6)
        lay.setSpacing(10)
        lay.addWidget(self.slots_scroll, 0, Qt.AlignmentFlag.AlignVCenter)
        lay.addWidget(self.prompt, 1)
        lay.addLayout(middle)
        lay.addLayout(right)


SUBMIT_KEYS = (Qt.Key.Key_Return, Qt.Key.Key_Enter)


def _is_submit(event: QKeyEvent) -> bool:
    mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() in SUBMIT_KEYS and mods == Qt.KeyboardModifier.ControlModifier


class PromptEdit(QPlainTextEdit):
    """The prompt box. Ctrl+Return (or Ctrl+Enter) here is the prompt's own: it emits
    ``submitted`` and types no newline. Claiming the key (ShortcutOverride) keeps the
    window's Generate shortcut from firing too, so the two never make an ambiguous
    overload."""

    submitted = Signal()

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.ShortcutOverride and isinstance(e, QKeyEvent) and _is_submit(e):
            e.accept()
            return True
        return super().event(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if _is_submit(e):
            e.accept()
            self.submitted.emit()
            return
        super().keyPressEvent(e)
