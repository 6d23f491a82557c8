"""Two lines of the details panel for a shared or joined space: who else is looking at
the open asset (their avatars and names), and a short notice when someone else changed
what is shown ("Mira renamed this — your view is updated"). Both are hidden when there
is nothing to say."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPaintEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from studio.ui.canvas.presence_marks import Avatar, qcolour

NOTICE_MS = 15_000
"""How long a notice stays (it also goes when another asset is shown)."""
FACE_PX = 20
NOTICE_STYLE = (
    "QLabel#changeNotice { background: #3b3318; color: #fff1c2; border-radius: 4px;"
    " padding: 4px 6px; }"
)


def viewing_text(people: tuple[Avatar, ...]) -> str:
    names = [p.name for p in people]
    if len(names) > 3:
        names = [*names[:2], f"{len(names) - 2} others"]
    if len(names) == 1:
        return f"{names[0]} is looking at this"
    return f"{', '.join(names[:-1])} and {names[-1]} are looking at this"


class _Faces(QWidget):
    def __init__(self) -> None:
        super().__init__()
        self.people: tuple[Avatar, ...] = ()
        self.setFixedHeight(FACE_PX)

    def set_people(self, people: tuple[Avatar, ...]) -> None:
        self.people = people[:5]
        self.setFixedWidth(int(FACE_PX + max(0, len(self.people) - 1) * FACE_PX * 0.75))
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        font = p.font()
        font.setPixelSize(9)
        font.setBold(True)
        p.setFont(font)
        step = FACE_PX * 0.75
        for i in reversed(range(len(self.people))):
            face = self.people[i]
            r = QRectF(i * step + 0.5, 0.5, FACE_PX - 1, FACE_PX - 1)
            p.setPen(QColor("#1b1c1f"))
            p.setBrush(qcolour(face.colour))
            p.drawEllipse(r)
            p.setPen(QColor("#ffffff"))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, face.initials)
        p.end()


class PresenceLine(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("presenceLine")
        self.faces = _Faces()
        self.text = QLabel()
        self.text.setObjectName("presenceText")
        self.text.setStyleSheet("color: #c9ced8;")
        self.notice = QLabel()
        self.notice.setObjectName("changeNotice")
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet(NOTICE_STYLE)
        self.notice.hide()
        self._row = QWidget()
        row = QHBoxLayout(self._row)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        row.addWidget(self.faces)
        row.addWidget(self.text, 1)
        self._row.hide()
        col = QVBoxLayout(self)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(4)
        col.addWidget(self._row)
        col.addWidget(self.notice)
        self._timer = QTimer(self, singleShot=True, interval=NOTICE_MS)
        self._timer.timeout.connect(self.notice.hide)
        self._by_asset: Mapping[str, tuple[Avatar, ...]] = {}
        self.asset_id: str | None = None

    def viewers(self) -> tuple[Avatar, ...]:
        """Who else is looking at the asset shown (empty when nobody, or none shown)."""
        return self._by_asset.get(self.asset_id or "", ())

    def set_people(self, by_asset: Mapping[str, tuple[Avatar, ...]]) -> None:
        """Who looks at what (asset id → people), as the presence last said."""
        self._by_asset = by_asset
        self._render()

    def show_for(self, asset_id: str | None) -> None:
        if asset_id != self.asset_id:
            self.asset_id = asset_id
            self.notice.hide()
            self._timer.stop()
        self._render()

    def notify(self, text: str) -> None:
        self.notice.setText(text)
        self.notice.show()
        self._timer.start()

    def _render(self) -> None:
        people = self.viewers()
        self._row.setVisible(bool(people))
        if people:
            self.faces.set_people(people)
            self.text.setText(viewing_text(people))
            self.setToolTip("\n".join(p.name for p in people))
