"""The filter panel (View ▸ Filters, Ctrl+Alt+F): facets with counts, a tag browser
with its own search, the active filter as chips, and "Clear filters".

The panel only shows and collects: it emits the picked facet values
(``picks_changed``) and takes each answer (:meth:`FilterPanel.show_result`) from the
window's find controller, which runs the query off the UI thread
(``studio.ui.filter_panel_worker``). Values of one facet combine with *or* (tags with
*and*); each count says how many assets picking that value would leave.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QPalette
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSizePolicy,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.core.facets import FACETS, FilterResult, Pick
from studio.ui.filter_panel_chips import ChipRow

TITLES = {
    "kind": "Kind",
    "type": "Type",
    "starred": "Starred",
    "rating": "Rating",
    "provider": "Provider",
    "model": "Model",
    "status": "Job status",
    "date": "Created",
}
FIXED_ORDER = {
    "kind": ("image", "audio", "video"),
    "starred": ("yes", "no"),
    "rating": ("approved", "rejected", "unrated"),
    "status": ("queued", "running", "failed"),
    "date": ("today", "week", "month", "older"),
}
LABELS = {
    ("starred", "yes"): "Starred",
    ("starred", "no"): "Not starred",
    ("rating", "approved"): "Approved",
    ("rating", "rejected"): "Rejected",
    ("rating", "unrated"): "Unrated",
    ("status", "queued"): "Queued",
    ("status", "running"): "Running",
    ("status", "failed"): "Failed",
    ("date", "today"): "Today",
    ("date", "week"): "Past 7 days",
    ("date", "month"): "Past 30 days",
    ("date", "older"): "Older",
    ("type", ""): "(no type)",
}
PICK_ROLE = Qt.ItemDataRole.UserRole


def _check(item: QTreeWidgetItem | QListWidgetItem, on: bool) -> None:
    state = Qt.CheckState.Checked if on else Qt.CheckState.Unchecked
    if isinstance(item, QTreeWidgetItem):
        item.setCheckState(0, state)
    else:
        item.setCheckState(state)


def label(pick: Pick) -> str:
    return LABELS.get(pick, pick[1])


def chip_text(pick: Pick) -> str:
    facet, value = pick
    if facet == "tag":
        return f"#{value}"
    title = TITLES.get(facet, facet).lower()
    return f"{title}: {label(pick)}"


class FilterPanel(QWidget):
    picks_changed = Signal(object)  # frozenset[Pick]

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filterPanel")
        self._picks: set[Pick] = set()
        self._facet_items: dict[Pick, QTreeWidgetItem] = {}
        self._tag_items: dict[str, QListWidgetItem] = {}
        self._tag_names: list[str] = []  # the list's rows, in order
        self._tags_hidden = False  # the tag search hides some rows
        self._counts: dict[Pick, int] = {}
        self._filling = False
        self._dim = QBrush()

        self.summary = QLabel("")
        self.summary.setObjectName("filterSummary")
        self.clear_button = QPushButton("Clear filters")
        self.clear_button.setObjectName("clearFilters")
        self.clear_button.clicked.connect(self.clear)
        self.chips = ChipRow()

        self.facets = QTreeWidget()
        self.facets.setObjectName("facetTree")
        self.facets.setHeaderHidden(True)
        self.facets.setRootIsDecorated(True)
        self._sections: dict[str, QTreeWidgetItem] = {}
        for facet in FACETS:
            if facet == "tag":
                continue
            section = QTreeWidgetItem([TITLES[facet]])
            section.setFlags(Qt.ItemFlag.ItemIsEnabled)
            self.facets.addTopLevelItem(section)
            section.setExpanded(facet in ("kind", "type", "starred", "status", "date"))
            self._sections[facet] = section
        self.facets.itemChanged.connect(self._facet_toggled)

        self.tag_search = QLineEdit(placeholderText="Search tags…")
        self.tag_search.setObjectName("tagSearch")
        self.tag_search.setClearButtonEnabled(True)
        self.tag_search.textChanged.connect(self._filter_tags)
        self.tags = QListWidget()
        self.tags.setObjectName("tagList")
        self.tags.itemChanged.connect(self._tag_toggled)

        top = QHBoxLayout()
        top.addWidget(self.summary, 1)
        top.addWidget(self.clear_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(top)
        layout.addWidget(self.chips)
        layout.addWidget(self.facets, 3)
        layout.addWidget(QLabel("Tags"))
        layout.addWidget(self.tag_search)
        layout.addWidget(self.tags, 2)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Expanding)
        self._update_chips()

    # ------------------------------------------------------------------ picks
    def picks(self) -> frozenset[Pick]:
        return frozenset(self._picks)

    def set_picked(self, pick: Pick, on: bool) -> None:
        """Pick (or drop) a facet value, as a click on its box does."""
        item = self._tag_items.get(pick[1]) if pick[0] == "tag" else self._facet_items.get(pick)
        if item is None:
            item = self._add_value(pick)
        _check(item, on)

    def clear(self) -> None:
        """Drop every pick (one change)."""
        if not self._picks:
            return
        self._filling = True
        for pick in list(self._picks):
            item = self._tag_items.get(pick[1]) if pick[0] == "tag" else self._facet_items.get(pick)
            if item is not None:
                _check(item, False)
        self._filling = False
        self._picks.clear()
        self._changed()

    def _facet_toggled(self, item: QTreeWidgetItem, _column: int) -> None:
        pick = item.data(0, PICK_ROLE)
        if not self._filling and isinstance(pick, tuple):
            self._toggle((str(pick[0]), str(pick[1])), item.checkState(0))

    def _tag_toggled(self, item: QListWidgetItem) -> None:
        tag = item.data(PICK_ROLE)
        if not self._filling and isinstance(tag, str):
            self._toggle(("tag", tag), item.checkState())

    def _toggle(self, pick: Pick, state: Qt.CheckState) -> None:
        on = state == Qt.CheckState.Checked
        if on == (pick in self._picks):
            return
        if on:
            self._picks.add(pick)
        else:
            self._picks.discard(pick)
        self._changed()

    def _changed(self) -> None:
        self._update_chips()
        self.picks_changed.emit(self.picks())

    def _update_chips(self) -> None:
        order = {f: i for i, f in enumerate(FACETS)}
        picks = sorted(self._picks, key=lambda p: (order.get(p[0], 99), p[1]))
        self.chips.show_chips((chip_text(p), self._dropper(p)) for p in picks)
        self.clear_button.setEnabled(bool(self._picks))

    def _dropper(self, pick: Pick) -> Callable[[], None]:
        return lambda: self.set_picked(pick, False)

    def chip_texts(self) -> list[str]:
        """The chips shown, in order (tests, screenshots)."""
        return self.chips.texts()

    # ------------------------------------------------------------------ counts
    def show_result(self, result: FilterResult) -> None:
        """Take a query's answer: the summary, every value with its count."""
        self.summary.setText(f"{result.total:,} of {result.live:,} assets")
        self._filling = True
        self._dim = QBrush(self.palette().color(QPalette.ColorRole.PlaceholderText))
        self.tags.blockSignals(True)
        self.facets.blockSignals(True)
        try:
            seen: set[Pick] = set()
            for facet in FACETS:
                for value, n in result.counts.get(facet, {}).items():
                    pick = (facet, value)
                    seen.add(pick)
                    self._set_count(pick, n)
            for pick in [p for p in self._counts if p not in seen and p not in self._picks]:
                self._remove_value(pick)
            for section in self._sections.values():  # a facet nobody has: not listed
                section.setHidden(section.childCount() == 0)
        finally:
            self._filling = False
            self.tags.blockSignals(False)
            self.facets.blockSignals(False)
        self._filter_tags(self.tag_search.text())

    def count_of(self, pick: Pick) -> int | None:
        return self._counts.get(pick)

    def _set_count(self, pick: Pick, n: int) -> None:
        old = self._counts.get(pick)
        if old == n:
            return
        self._counts[pick] = n
        text = f"{label(pick)}  ({n:,})"
        recolour = old is None or (old == 0) != (n == 0)
        brush = self._dim if n == 0 else QBrush()
        if pick[0] == "tag":
            tag_item = self._tag_items.get(pick[1]) or self._add_value(pick)
            assert isinstance(tag_item, QListWidgetItem)
            tag_item.setText(text)
            if recolour:
                tag_item.setForeground(brush)
        else:
            item = self._facet_items.get(pick) or self._add_value(pick)
            assert isinstance(item, QTreeWidgetItem)
            item.setText(0, text)
            if recolour:
                item.setForeground(0, brush)

    def _add_value(self, pick: Pick) -> QTreeWidgetItem | QListWidgetItem:
        was, self._filling = self._filling, True
        try:
            facet, value = pick
            if facet == "tag":
                tag_item = QListWidgetItem(label(pick))
                tag_item.setData(PICK_ROLE, value)
                tag_item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
                tag_item.setCheckState(Qt.CheckState.Unchecked)
                # in name order (a sorting list would sort again on every count)
                at = bisect.bisect_left(self._tag_names, value)
                self._tag_names.insert(at, value)
                self.tags.insertItem(at, tag_item)
                self._tag_items[value] = tag_item
                return tag_item
            section = self._sections[facet]
            item = QTreeWidgetItem([label(pick)])
            item.setData(0, PICK_ROLE, pick)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(0, Qt.CheckState.Unchecked)
            section.insertChild(self._position(facet, value, section), item)
            self._facet_items[pick] = item
            return item
        finally:
            self._filling = was

    def _position(self, facet: str, value: str, section: QTreeWidgetItem) -> int:
        """Where a new value goes: the facet's fixed order, else by name."""
        fixed = FIXED_ORDER.get(facet)
        for i in range(section.childCount()):
            child = section.child(i)
            other = str(child.data(0, PICK_ROLE)[1]) if child is not None else ""
            if fixed is not None and value in fixed and other in fixed:
                if fixed.index(value) < fixed.index(other):
                    return i
            elif value < other:
                return i
        return section.childCount()

    def _remove_value(self, pick: Pick) -> None:
        self._counts.pop(pick, None)
        if pick[0] == "tag":
            tag_item = self._tag_items.pop(pick[1], None)
            if tag_item is not None:
                self._tag_names.remove(pick[1])
                self.tags.takeItem(self.tags.row(tag_item))
            return
        item = self._facet_items.pop(pick, None)
        if item is not None and (parent := item.parent()) is not None:
            parent.removeChild(item)

    def _filter_tags(self, text: str) -> None:
        needle = text.strip().lower()
        if not needle and not self._tags_hidden:
            return  # nothing hidden, nothing to hide (the usual case: no search)
        hidden = False
        for tag, item in self._tag_items.items():
            hide = bool(needle) and needle not in tag
            hidden = hidden or hide
            if item.isHidden() != hide:
                item.setHidden(hide)
        self._tags_hidden = hidden
