"""Render the app icon (studio/resources/forge-studio.svg) to the PNG sizes desktops look
for, into an XDG ``hicolor`` tree: ``<out>/hicolor/<n>x<n>/apps/forge-studio.png`` for
each size in :data:`SIZES`, plus ``scalable/apps/forge-studio.svg``.

    python packaging/render_icons.py OUT_DIR
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICON_NAME = "forge-studio"


def render(out: Path) -> list[Path]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from studio.resources import app_icon_path

    app = QGuiApplication.instance() or QGuiApplication([])
    svg = app_icon_path()
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"render_icons: {svg} is not a valid SVG")
    written = []
    for n in SIZES:
        image = QImage(n, n, QImage.Format.Format_ARGB32)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        dest = out / "hicolor" / f"{n}x{n}" / "apps" / f"{ICON_NAME}.png"
        dest.parent.mkdir(parents=True, exist_ok=True)
        if not image.save(str(dest), "PNG"):
            raise SystemExit(f"render_icons: could not write {dest}")
        written.append(dest)
    scalable = out / "hicolor" / "scalable" / "apps" / f"{ICON_NAME}.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(svg, scalable)
    written.append(scalable)
    del app
    return written


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: render_icons.py OUT_DIR")
    for path in render(Path(sys.argv[1])):
        print(path)
