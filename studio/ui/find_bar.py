"""Find on the canvas (Ctrl+F) and its controller, which also runs the filter panel.

Typing is debounced (:data:`DEBOUNCE_MS`): a burst of keystrokes costs the UI thread
a timer restart each and makes one query. Queries run on the filter worker's thread
(``studio.ui.filter_panel_worker``) over the FTS5 index and the facet index
(``studio.core.facets``); the canvas and the panel take the newest answer.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from studio.core.facets import FilterResult, FilterSpec, Pick
from studio.ui.canvas.filtering import CanvasFilter, parse_query
from studio.ui.canvas.find import MatchSet
from studio.ui.canvas.scene import CanvasScene
from studio.ui.filter_panel import FilterPanel
from studio.ui.filter_panel_worker import FilterWorker
from studio.ui.icons import icon
from studio.ui.widgets import tool_button

DEBOUNCE_MS = 120
"""Quiet time after the last keystroke before Find asks (one query per burst)."""


class FindBar(QWidget):
    """Emits ``changed`` with the criteria; the window applies them to the canvas."""

    changed = Signal(dict)
    step = Signal(int)  # +1 next, -1 previous
    opened = Signal()
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.text = QLineEdit(placeholderText="Find by name, type, tag or prompt…")
        self.text.setClearButtonEnabled(True)
        self.kind = QComboBox()
        self.kind.addItems(["All kinds", "image", "audio", "video"])
        self.starred = QCheckBox("Starred")
        self.count = QLabel("")
        prev_b = tool_button("↑", "Previous match (Shift+Enter)")
        next_b = tool_button("↓", "Next match (Enter)")
        close_b = tool_button("", "Close (Esc)")
        close_b.setIcon(icon("close"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.text, self.kind, self.starred, self.count, prev_b, next_b, close_b):
            layout.addWidget(w)
        layout.setStretch(0, 1)
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(DEBOUNCE_MS)
        self._debounce.timeout.connect(self._emit)
        self.text.textChanged.connect(self._debounce.start)
        self.kind.currentIndexChanged.connect(self._emit)
        self.starred.toggled.connect(self._emit)
        self.text.returnPressed.connect(lambda: self.step.emit(1))
        prev_b.clicked.connect(lambda: self.step.emit(-1))
        next_b.clicked.connect(lambda: self.step.emit(1))
        close_b.clicked.connect(self.close_bar)

    def criteria(self) -> dict[str, object]:
        kind = self.kind.currentText()
        return {
            "text": self.text.text().strip(),
            "media_kind": None if kind == "All kinds" else kind,
            "starred": self.starred.isChecked(),
        }

    def _emit(self) -> None:
        self._debounce.stop()
        self.changed.emit(self.criteria())

    def open_bar(self) -> None:
        self.show()
        self.text.setFocus()
        self.text.selectAll()
        self.opened.emit()

    def close_bar(self) -> None:
        self.hide()
        for w in (self.text, self.kind, self.starred):
            w.blockSignals(True)
        self.text.clear()
        self.kind.setCurrentIndex(0)
        self.starred.setChecked(False)
        for w in (self.text, self.kind, self.starred):
            w.blockSignals(False)
        self._debounce.stop()
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        super().keyPressEvent(event)

    def set_count(self, current: int, total: int) -> None:
        self.count.setText("no matches" if total == 0 else f"{current} of {total}")


def find_picks(query: CanvasFilter) -> frozenset[Pick]:
    """The facet values Find's ``kind:``/``type:``/``tag:``/``is:starred`` tokens pick."""
    picks: set[Pick] = {("kind", k) for k in query.media_kinds}
    picks |= {("type", t) for t in query.types}
    picks |= {("tag", t) for t in query.tags}
    if query.starred is not None:
        picks.add(("starred", "yes" if query.starred else "no"))
    return frozenset(picks)


class FindController(QObject):
    """Joins Find's criteria and the filter panel's picks into one query, runs it on
    the filter worker, and shows the newest answer on the canvas, the bar and the panel."""

    def __init__(
        self,
        bar: FindBar,
        scene: CanvasScene,
        parent: QObject | None = None,
        panel: FilterPanel | None = None,
    ) -> None:
        super().__init__(parent)
        self.bar = bar
        self.scene = scene
        self.panel = panel
        self.worker = FilterWorker(self)
        self.worker.ready.connect(self._answered)
        self._match = 0
        self._find = FilterSpec()
        self._focus = 0  # the serial whose answer should bring the first match into view
        self._shown = 0  # the serial of the answer on the canvas
        self.spec = FilterSpec()
        """The filter in force (Find's and the panel's together)."""
        bar.changed.connect(self._find_changed)
        bar.step.connect(self._find_step)
        bar.closed.connect(self._find_closed)
        bar.opened.connect(self._warm_up)
        scene.loaded.connect(self.refresh)
        scene.cleared.connect(self.worker.forget)
        if panel is not None:
            panel.picks_changed.connect(self._picks_changed)

    def _picks_changed(self, _picks: object) -> None:
        self.refresh()

    def visibility_changed(self, _visible: bool) -> None:
        """The panel was shown or hidden: counts are wanted, or no longer."""
        self.refresh()

    def _find_changed(self, criteria: dict[str, object]) -> None:
        query = parse_query(str(criteria.get("text") or ""))
        picks = set(find_picks(query))
        if kind := criteria.get("media_kind"):
            picks.add(("kind", str(kind)))
        if criteria.get("starred"):
            picks.add(("starred", "yes"))
        self._find = FilterSpec(query.words, frozenset(picks))
        self.refresh(focus=True)

    def _warm_up(self) -> None:
        """Find is open: have the worker read the space's facets now (a few seconds at
        50,000 assets, once per open space), so the first keystroke's answer is quick."""
        if self.scene.space is not None and self.spec.empty:
            self.worker.submit(self.scene.space, self.spec)

    def _find_closed(self) -> None:
        self._find = FilterSpec()
        self.refresh()

    def following(self) -> bool:
        """Is anything asking for answers (a filter on, or the panel shown)?"""
        return not self.spec.empty or (self.panel is not None and self.panel.isVisible())

    def refresh(self, focus: bool = False) -> None:
        """Ask again for the current filter (the UI thread only hands it over)."""
        panel = self.panel.picks() if self.panel is not None else frozenset()
        self.spec = FilterSpec(self._find.words, self._find.picks | panel)
        space = self.scene.space
        if self.spec.empty:
            if isinstance(self.scene.finder.filter, MatchSet):  # ours (not a view's own)
                self.scene.finder.show_result(None)
            self._match = 0
            self.bar.set_count(0, 0)
        if space is None or not self.following():
            self.worker.forget()
            return
        serial = self.worker.submit(space, self.spec)
        if focus:
            self._focus = serial

    def _answered(self, serial: int, result: FilterResult) -> None:
        if serial != self.worker.serial:
            return  # a newer request is on its way
        if self.panel is not None and self.panel.isVisible():
            self.panel.show_result(result)
        if self.spec.empty:
            return
        total = self.scene.finder.show_result(result.ids, result.id_set)
        if serial != self._shown:  # a new answer; the same one again keeps the place
            self._shown, self._match = serial, 0
        self._match = min(self._match, max(total - 1, 0))
        self.bar.set_count(self._match + 1 if total else 0, total)
        if total and serial == self._focus:
            self._focus = 0
            self.scene.finder.focus_match(0)

    def _find_step(self, delta: int) -> None:
        total = len(self.scene.finder.matches())
        if not total:
            return
        self._match = (self._match + delta) % total
        self.scene.finder.focus_match(self._match)
        self.bar.set_count(self._match + 1, total)

    def close(self) -> None:
        self.worker.close()
