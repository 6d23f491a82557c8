"""The recipe of a variant: operation, prompt, provider, model, every setting and
parameter, the references (links to their assets), the style, what the provider
reported (usage and cost when it said), and the file. "Use this recipe" fills the
forge tray from it."""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.space import Space
from studio.store.records import VariantDetail
from studio.ui.host import StudioHost

GENERATED = ("generate", "derive", "refine")
LINK_COLOUR = "#6fb3ff"
USAGE_KEYS = ("usage", "cost", "cost_usd", "usd", "units", "billed", "tokens", "characters")
OPERATION_TEXT = {
    "generate": "Generated from a prompt",
    "derive": "Derived from references",
    "refine": "Refined from references",
    "fork": "Forked (a copy, no generation)",
    "import": "Imported from a file",
}


def human_size(n: int | None) -> str:
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


def short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def usage_of(*sources: Mapping[str, Any]) -> dict[str, Any]:
    """Usage and cost a provider reported, wherever it put them (top level or nested)."""
    out: dict[str, Any] = {}
    for src in sources:
        for key, value in src.items():
            k = key.lower()
            if any(u in k for u in USAGE_KEYS):
                out[key] = value
    return out


class RecipePanel(QWidget):
    """``reference_clicked(asset_id)`` is emitted (and ``host.show_asset`` called) when a
    reference link is clicked."""

    reference_clicked = Signal(str)

    def __init__(self, host: StudioHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.variant_id: str | None = None
        self.fields: dict[str, QLabel] = {}
        self.reference_assets: list[str] = []
        self.sheet = QWidget()
        self.form = self._new_form(self.sheet)
        self.use_button = QPushButton("Use this recipe")
        self.use_button.setToolTip("Fill the forge tray with this recipe's prompt and settings")
        self.use_button.clicked.connect(self._use)
        buttons = QHBoxLayout()
        buttons.addWidget(self.use_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._layout = layout
        layout.addWidget(self.sheet)
        layout.addLayout(buttons)

    # ------------------------------------------------------------------ content
    def show_variant(self, space: Space | None, variant_id: str | None) -> None:
        self._clear()
        self.variant_id = variant_id
        if space is None or variant_id is None:
            self.use_button.setVisible(False)
            self._row("", "No variant")
            return
        try:
            detail = space.variant_detail(variant_id)
        except StudioError as exc:
            self.use_button.setVisible(False)
            self._row("", exc.message)
            return
        recipe = detail.recipe
        op = str(recipe.get("operation", ""))
        self.use_button.setVisible(op in GENERATED)
        self._fill(space, detail, recipe, op)

    def _fill(self, space: Space, d: VariantDetail, recipe: Mapping[str, Any], op: str) -> None:
        self._row("Operation", OPERATION_TEXT.get(op, op or "unknown"))
        if recipe.get("prompt"):
            self._row("Prompt", str(recipe["prompt"]))
        sent = recipe.get("prompt_sent")
        if sent and sent != recipe.get("prompt"):
            self._row("Prompt sent", str(sent))
        for key, label in (
            ("provider", "Provider"),
            ("model", "Model"),
            ("audio_type", "Audio type"),
            ("size", "Size"),
            ("aspect_ratio", "Aspect"),
            ("duration_s", "Duration"),
            ("seed", "Seed"),
        ):
            value = recipe.get(key)
            if value is not None and value != "":
                self._row(label, f"{value} s" if key == "duration_s" else str(value))
        params = recipe.get("params") or {}
        if isinstance(params, Mapping):
            for key, value in params.items():
                self._row(f"{key}", short(value), key=f"param:{key}")
        self._imported(recipe, d)
        refs = [str(v) for v in recipe.get("source_variant_ids") or []]
        if refs:
            self._links("References", space, refs)
        style = recipe.get("style")
        if isinstance(style, Mapping):
            text = str(style.get("name", ""))
            if style.get("prompt"):
                text += f" — {style['prompt']}"
            self._row("Style", text)
            style_refs = [str(v) for v in style.get("references") or []]
            if style_refs:
                self._links("Style refs", space, style_refs)
        batch = recipe.get("batch")
        if isinstance(batch, Mapping) and batch.get("count"):
            self._row(
                "Batch", f"{batch.get('mode')} {int(batch.get('index', 0)) + 1} of {batch['count']}"
            )
        if d.original_name:
            self._row("Original", d.original_name)
        usage = usage_of(d.provider_metadata, d.generation_provenance)
        if usage:
            self._row("Usage", ", ".join(f"{k}: {short(v, 60)}" for k, v in usage.items()))
        meta = {k: v for k, v in d.provider_metadata.items() if k not in usage}
        if meta:
            self._row("Provider said", self._pairs(meta), key="provider_metadata")
        prov = {k: v for k, v in d.generation_provenance.items() if k not in usage and k != "c2pa"}
        if prov:
            self._row("Provenance", self._pairs(prov), key="provenance")
        self._row("File", self._file_text(d))
        if d.row.status == "failed":
            self._row("Error", f"{d.row.error_code}: {d.row.error_message}", colour="#e06c6c")

    def _imported(self, recipe: Mapping[str, Any], d: VariantDetail) -> None:
        """What an imported file said made it (another tool's generation metadata)."""
        if recipe.get("source_tool"):
            self._row("Made with", str(recipe["source_tool"]), key="source_tool")
        if recipe.get("negative_prompt"):
            self._row("Negative", str(recipe["negative_prompt"]), key="negative_prompt")
        found = recipe.get("parameters")
        if isinstance(found, Mapping):
            for key, value in found.items():
                self._row(f"{key}", short(value), key=f"param:{key}")
        notes = recipe.get("notes")
        if isinstance(notes, list) and notes:
            self._row("Notes", "\n".join(str(n) for n in notes), key="notes")
        if d.generation_provenance.get("c2pa"):
            self._row("C2PA", str(d.generation_provenance["c2pa"]), key="c2pa")

    @staticmethod
    def _pairs(values: Mapping[str, Any]) -> str:
        return "\n".join(f"{k}: {short(v, 80)}" for k, v in values.items())

    @staticmethod
    def _file_text(d: VariantDetail) -> str:
        r = d.row
        bits = [r.mime or ""]
        if r.width and r.height:
            bits.append(f"{r.width}×{r.height}")
        if r.duration_ms:
            bits.append(f"{r.duration_ms / 1000:.2f} s")
        bits.append(human_size(d.size_bytes))
        if d.sha256:
            bits.append(f"sha256 {d.sha256[:12]}…")
        return " · ".join(b for b in bits if b) or r.status

    def _links(self, label: str, space: Space, variant_ids: Sequence[str]) -> None:
        names = self._reference_names(space, variant_ids)
        parts = []
        for vid in variant_ids:
            found = names.get(vid)
            if found is None or found[2]:
                parts.append(f"<i>{html.escape(vid)} (deleted)</i>")
                continue
            asset_id, name, _ = found
            self.reference_assets.append(asset_id)
            parts.append(
                f'<a href="asset:{html.escape(asset_id)}" style="color: {LINK_COLOUR};">'
                f"{html.escape(name)}</a>"
            )
        text = QLabel("<br>".join(parts))
        text.setTextFormat(Qt.TextFormat.RichText)
        text.setWordWrap(True)
        text.setOpenExternalLinks(False)
        text.setTextInteractionFlags(Qt.TextInteractionFlag.LinksAccessibleByMouse)
        text.linkActivated.connect(self._follow)
        text.setToolTip("Click to show the reference's asset")
        self.form.addRow(self._caption(label), text)
        self.fields[label] = text

    @staticmethod
    def _reference_names(
        space: Space, variant_ids: Iterable[str]
    ) -> dict[str, tuple[str, str, bool]]:
        labels = space.read.variant_labels(list(variant_ids))
        return {vid: (lb.asset_id, lb.asset_name, lb.gone) for vid, lb in labels.items()}

    def _follow(self, link: str) -> None:
        if link.startswith("asset:"):
            asset_id = link.removeprefix("asset:")
            self.reference_clicked.emit(asset_id)
            self.host.show_asset(asset_id)

    def _use(self) -> None:
        if self.variant_id is not None:
            self.host.use_recipe(self.variant_id)

    # ------------------------------------------------------------------ rows
    def _caption(self, text: str) -> QLabel:
        cap = QLabel(text)
        cap.setStyleSheet("color: #9aa3b2;")
        return cap

    def _row(self, label: str, value: str, *, key: str | None = None, colour: str = "") -> None:
        val = QLabel(value)
        val.setWordWrap(True)
        val.setTextFormat(Qt.TextFormat.PlainText)
        val.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if colour:
            val.setStyleSheet(f"color: {colour};")
        self.form.addRow(self._caption(label), val)
        self.fields[key or label] = val

    @staticmethod
    def _new_form(sheet: QWidget) -> QFormLayout:
        form = QFormLayout(sheet)
        form.setContentsMargins(0, 0, 0, 0)
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapLongRows)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
        form.setHorizontalSpacing(8)
        form.setVerticalSpacing(3)
        return form

    def _clear(self) -> None:
        """A fresh sheet each time: a form whose rows were removed and re-added keeps
        stale heights for word-wrapped rows (they end up clipped)."""
        old = self.sheet
        self.sheet = QWidget()
        self.form = self._new_form(self.sheet)
        self._layout.replaceWidget(old, self.sheet)
        old.hide()
        old.deleteLater()
        self.fields.clear()
        self.reference_assets.clear()

    def text_of(self, key: str) -> str:
        label = self.fields.get(key)
        return "" if label is None else label.text()
