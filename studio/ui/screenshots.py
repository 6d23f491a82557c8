"""Render the README's screenshots: ``python -m studio.ui.screenshots docs/``.

Builds a demo space in a temporary data folder with the offline provider, then saves
PNGs of the main window (offscreen unless a display is set)."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any


def main(out_dir: str = "docs") -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtGui import QAction
    from PySide6.QtWidgets import QApplication

    from studio.core import commands as c
    from studio.ui.app import build_window

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    small = c.GenerationOptions(size="512")
    with tempfile.TemporaryDirectory() as tmp:
        w: Any = build_window(Path(tmp))  # the Welcome space, filled offline
        w.resize(1500, 960)
        w.show()
        space, me = w.space, w.actor
        for prompt, type_, x, y in (
            ("a knight in silver armour, portrait", "character", 960, 80),
            ("a treasure chest full of gold coins", "item", 1240, 80),
        ):
            space.apply(
                c.RequestGeneration(
                    prompt, c.MediaKindName.IMAGE, type=type_, x=x, y=y, options=small
                ),
                me,
            )
        _settle(app, w)
        by_name = {card.asset.name: card for card in w.scene.cards()}
        robot, key = by_name["Robot"], by_name["Golden key"]
        refined = space.apply(
            c.RequestRefine(robot.asset.id, "make it glow, neon", options=small), me
        )
        derived = space.apply(
            c.RequestGeneration(
                "a robot holding a golden key",
                c.MediaKindName.IMAGE,
                type="character",
                name="Robot with key",
                x=1240,
                y=360,
                references=(robot.asset.active_variant_id, key.asset.active_variant_id),
                options=small,
            ),
            me,
        )
        _settle(app, w)
        space.apply(c.ForkVariant(derived.created["variant_id"], x=1520, y=360), me)
        _settle(app, w)
        w.view.fit_all()
        _pump(app, 0.6)
        w.grab().save(str(out / "main-window.png"))

        w.show_asset(derived.created["asset_id"])
        _pump(app, 0.8)
        w.grab().save(str(out / "details.png"))
        full = w.inspector.open_full_view()
        if full is not None:
            full.resize(1100, 700)
            full.tabs.setCurrentIndex(2)  # Lineage
            _pump(app, 0.8)
            full.grab().save(str(out / "details-lineage.png"))
            full.tabs.setCurrentIndex(0)
            _pump(app, 0.5)
            full.grab().save(str(out / "details-full-view.png"))
            full.close()

        w.add_to_tray([robot.asset.active_variant_id, refined.created["variant_id"]])
        w.tray.prompt.setPlainText("the robot and its glowing twin, side by side, studio light")
        w.tray.show_options(True)
        _pump(app, 0.8)
        w.grab().save(str(out / "forge-tray.png"))

        space.apply(c.PauseQueue(), me)
        jobs = [
            space.apply(
                c.RequestGeneration(p, c.MediaKindName.IMAGE, x=40 + 280 * i, y=700, options=small),
                me,
            ).created["job_id"]
            for i, p in enumerate(["a fox in the snow", "a desert temple", "a rainy street"])
        ]
        space.apply(c.CancelJob(jobs[1]), me)
        w.jobs_dock.show()
        w.jobs_dock.raise_()
        _pump(app, 0.8)
        w.grab().save(str(out / "jobs-panel.png"))

        w.find_bar.open_bar()
        w.find_bar.text.setText("kind:image robot")
        _pump(app, 0.6)
        w.grab().save(str(out / "find.png"))

        w.find_bar.close_bar()
        space.apply(c.ResumeQueue(), me)
        _settle(app, w)
        fork = next(card for card in w.scene.cards() if card.asset.name.endswith("(fork)"))
        w.run([c.ReparentAsset(fork.asset.id, derived.created["asset_id"])], "Put inside")
        w.scene.select([])
        w.findChild(QAction, "arrangeByKind").trigger()  # View ▸ Arrange ▸ By kind
        w.view.fit_all()
        w.inspector_dock.raise_()
        _pump(app, 0.8)
        w.grab().save(str(out / "arrange.png"))
        w.close()
    print(f"saved screenshots in {out}")
    return 0


def _pump(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.02)


def _settle(app: Any, window: Any, timeout: float = 120) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        _pump(app, 0.1)
        session = window.session
        if (
            session is not None
            and session.scheduler is not None
            and not session.scheduler.has_work()
        ):
            break
    _pump(app, 0.8)


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
