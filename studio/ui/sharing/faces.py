"""How a person looks wherever the app shows them — the People panel, the cards, the
details: initials in a circle of a colour that is theirs. The one place colours are
chosen: a stable function of the person's device id (the same on the host and on every
peer, from one run to the next)."""

from __future__ import annotations

import hashlib

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from studio.ui.canvas.presence_marks import Avatar

PALETTE = (
    "#e5484d",
    "#f76b15",
    "#d6a100",
    "#46a758",
    "#12a594",
    "#ab4aba",
    "#6e56cf",
    "#d6409f",
    "#8d6e4c",
    "#5c7c2f",
)
"""Colours that read on the dark canvas with white initials, apart from each other and
from the blue of the user's own selection (no blues)."""
HOST_KEY = "host"
"""The device id the host's own person has in rosters."""


def colour_for(key: str) -> str:
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return PALETTE[int.from_bytes(digest[:4], "big") % len(PALETTE)]


def initials(name: str) -> str:
    """``"Mira Okafor"`` → ``"MO"``, ``"pia"`` → ``"P"``, ``""`` → ``"?"``."""
    words = [w for w in name.replace("-", " ").replace("_", " ").split() if w[:1].isalnum()]
    if not words:
        return "?"
    if len(words) == 1:
        return words[0][:1].upper()
    return (words[0][:1] + words[-1][:1]).upper()


def avatar(key: str, name: str) -> Avatar:
    return Avatar(key, name, initials(name), colour_for(key))


def icon(face: Avatar, size: int = 18) -> QIcon:
    """The avatar as a small icon (the People panel's rows)."""
    pm = QPixmap(size, size)
    pm.fill(Qt.GlobalColor.transparent)
    p = QPainter(pm)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QColor(face.colour))
    p.drawEllipse(QRectF(0, 0, size, size))
    font = QFont()
    font.setPixelSize(max(7, int(size * 0.45)))
    font.setWeight(QFont.Weight.DemiBold)
    p.setFont(font)
    p.setPen(QColor("#ffffff"))
    p.drawText(QRectF(0, 0, size, size), Qt.AlignmentFlag.AlignCenter, face.initials)
    p.end()
    return QIcon(pm)
