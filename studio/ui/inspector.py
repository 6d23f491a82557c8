"""The right-hand inspector: what the selected asset is (full details come later)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QFormLayout, QLabel, QVBoxLayout, QWidget

from studio.core.errors import StudioError
from studio.core.space import Space


class InspectorWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("inspector")
        self.title = QLabel("Nothing selected")
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.preview = QLabel()
        self.preview.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.preview.setMinimumHeight(180)
        self.form = QFormLayout()
        self.fields: dict[str, QLabel] = {}
        for key in ("Kind", "Type", "Tags", "Variants", "Status", "Prompt", "Size"):
            label = QLabel("-")
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.fields[key] = label
            self.form.addRow(key, label)
        layout = QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addWidget(self.preview)
        layout.addLayout(self.form)
        layout.addStretch(1)
        self._space: Space | None = None
        self._asset_id: str | None = None

    def show_asset(self, space: Space | None, asset_id: str | None, count: int = 1) -> None:
        self._space, self._asset_id = space, asset_id
        self.refresh(count)

    def refresh(self, count: int = 1) -> None:
        space, aid = self._space, self._asset_id
        if space is None or aid is None:
            self.title.setText(f"{count} assets selected" if count > 1 else "Nothing selected")
            self.preview.clear()
            for label in self.fields.values():
                label.setText("-")
            return
        try:
            asset = space.asset(aid)
            variants = space.variants_of(aid)
        except StudioError:
            self.show_asset(None, None)
            return
        active = next((v for v in variants if v.id == asset.active_variant_id), None)
        self.title.setText(asset.name)
        f = self.fields
        f["Kind"].setText(asset.media_kind)
        f["Type"].setText(asset.type or "-")
        f["Tags"].setText(", ".join(asset.tags) or "-")
        f["Variants"].setText(str(len(variants)))
        if active is None:
            f["Status"].setText("no variant yet")
            self.preview.clear()
            return
        status = active.status
        if active.status == "failed" and active.error_message:
            status += f": {active.error_message}"
        f["Status"].setText(status)
        try:
            recipe = space.variant_detail(active.id).recipe
        except StudioError:
            recipe = {}
        f["Prompt"].setText(str(recipe.get("prompt") or recipe.get("original_name") or "-"))
        dims = []
        if active.width and active.height:
            dims.append(f"{active.width}×{active.height}")
        if active.duration_ms:
            dims.append(f"{active.duration_ms / 1000:.1f} s")
        f["Size"].setText(" · ".join(dims) or "-")
        thumb = active.poster_path or active.thumb_path
        if thumb:
            pix = QPixmap(str(space.media_dir / thumb))
            if not pix.isNull():
                self.preview.setPixmap(
                    pix.scaled(
                        260,
                        260,
                        Qt.AspectRatioMode.KeepAspectRatio,
                        Qt.TransformationMode.SmoothTransformation,
                    )
                )
                return
        self.preview.clear()
