"""The filter panel's screenshot (docs/filters.png): a space of ~60 assets of mixed
kinds and tags, made offline, with a few facets picked.

Run under a real X server for a real window, e.g.
``Xvfb :92 -screen 0 1600x1000x24 & DISPLAY=:92 python -m studio.ui.filter_panel_shot docs/``
(the whole screen is grabbed with ImageMagick's ``import`` when it is there, else the
window with ``QWidget.grab``).
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

IMAGES = (
    ("a knight in silver armour", "character", ("hero", "castle")),
    ("a dark sorceress in a red cloak", "character", ("villain", "red")),
    ("a mossy forest path at dawn", "scene", ("forest",)),
    ("a castle gate under storm clouds", "scene", ("castle", "storm")),
    ("a golden key on velvet", "prop", ("treasure", "final")),
    ("a rusty iron sword", "prop", ("weapon", "wip")),
    ("a blue potion bottle", "prop", ("blue", "treasure")),
    ("a small dragon hatchling", "creature", ("red", "forest")),
    ("a robot scout with one eye", "character", ("hero", "blue")),
    ("a desert temple entrance", "scene", ("final",)),
    ("a wooden shield with a lion", "prop", ("weapon", "final")),
    ("a ghost in the library", "creature", ("villain", "wip")),
)
SOUNDS = (
    ("a sword clash", "sfx", ("weapon",)),
    ("footsteps on gravel", "sfx", ("forest", "wip")),
    ("a heroic brass theme", "music", ("hero", "final")),
    ("a calm forest ambience", "music", ("forest",)),
    ("a dragon roar", "sfx", ("red", "villain")),
)
CLIPS = (
    ("waves on a rocky shore", "animation", ("blue",)),
    ("torches in a hall", "animation", ("castle",)),
)


def main(out_dir: str = "docs") -> int:
    from PySide6.QtWidgets import QApplication

    from studio.core import commands as c
    from studio.ui.app import build_window
    from studio.ui.screenshots import _pump, _settle

    app = QApplication.instance() or QApplication(sys.argv[:1])
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rnd = random.Random(3)
    small = c.GenerationOptions(size="512")
    with tempfile.TemporaryDirectory() as tmp:
        w: Any = build_window(Path(tmp))
        w.setGeometry(0, 0, 1600, 1000)
        w.show()
        entry = w.studio.create_space("Quest assets")
        w.open_space(entry.id)
        _pump(app, 1.0)
        space, me = w.space, w.actor
        rows = [*((*r, "image") for r in IMAGES * 4), *((*r, "audio") for r in SOUNDS * 2)]
        rows += [(*r, "video") for r in CLIPS]
        for i, (prompt, type_, tags, kind) in enumerate(rows):
            made = space.apply(
                c.RequestGeneration(
                    f"{prompt}, take {i // len(IMAGES) + 1}",
                    c.MediaKindName(kind),
                    type=type_,
                    x=(i % 10) * 280,
                    y=(i // 10) * 280,
                    options=small if kind == "image" else c.GenerationOptions(),
                ),
                me,
            )
            space.apply(c.UpdateAsset(made.created["asset_id"], tags=tags), me)
            if rnd.random() < 0.2:
                space.apply(c.StarVariant(made.created["variant_id"]), me)
        _settle(app, w, timeout=300)
        w.view.fit_all()
        w.menus.toggle_filters()
        _pump(app, 1.5)
        panel = w.filter_panel
        panel.set_picked(("kind", "image"), True)
        panel.set_picked(("kind", "audio"), True)
        panel.set_picked(("tag", "forest"), True)
        _pump(app, 2.0)
        w.view.fit_all()
        _pump(app, 4.0)  # every thumbnail in
        dest = out / "filters.png"
        if os.environ.get("DISPLAY") and shutil.which("import"):
            subprocess.run(["import", "-window", "root", str(dest)], check=True, timeout=60)
        else:
            w.grab().save(str(dest))
        w.close()
    print(f"saved {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
