"""Render the README's screenshots: ``python -m studio.ui.screenshots docs/``.

Builds a demo space in a temporary data folder with the offline provider, then saves
PNGs of the main window (offscreen unless a display is set)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path


def main(out_dir: str = "docs") -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from studio.core import commands as c
    from studio.ui.app import build_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        window = build_window(Path(tmp))  # the Welcome space, filled offline
        window.resize(1500, 940)  # type: ignore[attr-defined]
        window.show()  # type: ignore[attr-defined]
        space = window.space  # type: ignore[attr-defined]
        actor = window.actor  # type: ignore[attr-defined]
        extra = [
            ("a knight in silver armour, portrait", "character", 960, 80),
            ("a treasure chest full of gold coins", "item", 1240, 80),
            ("a misty mountain lake at dawn, landscape", "scene", 960, 360),
        ]
        for prompt, type_, x, y in extra:
            space.apply(
                c.RequestGeneration(
                    prompt,
                    c.MediaKindName.IMAGE,
                    type=type_,
                    x=x,
                    y=y,
                    options=c.GenerationOptions(size="512"),
                ),
                actor,
            )
        _settle(app, window)
        window.view.fit_all()  # type: ignore[attr-defined]
        _pump(app, 0.5)
        window.grab().save(str(out / "main-window.png"))  # type: ignore[attr-defined]

        knight = next(cd for cd in window.scene.cards() if cd.asset.name.startswith("a knight"))  # type: ignore[attr-defined]
        window.scene.select([knight.asset.id])  # type: ignore[attr-defined]
        window.find_bar.open_bar()  # type: ignore[attr-defined]
        window.find_bar.text.setText("kind:image")  # type: ignore[attr-defined]
        _pump(app, 0.5)
        window.grab().save(str(out / "find-and-inspect.png"))  # type: ignore[attr-defined]
        window.close()  # type: ignore[attr-defined]
    print(f"saved screenshots in {out}")
    return 0


def _pump(app: object, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()  # type: ignore[attr-defined]
        time.sleep(0.02)


def _settle(app: object, window: object, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _pump(app, 0.1)
        session = window.session  # type: ignore[attr-defined]
        if session is not None and not session.scheduler.has_work():
            break
    _pump(app, 1.0)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
