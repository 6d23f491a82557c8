"""The forge tray's options row: provider, model and the model's own settings (built from
its capabilities), the style preset, and the batch count and mode."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from studio.core.providers import ProviderCatalog
from studio.store.records import StylePresetRow
from studio.ui.tray.fields import ADD_KEY, Field, add_keyless, fit_combo, param_label
from studio.ui.tray.state import (
    EXPLORE,
    MAX_COUNT,
    SET,
    ModeSettings,
    models_for,
)
from studio.ui.tray.style_combo import StyleCombo
from workers.base import ModelSpec, ParamSpec

DURATION_STEP = 0.5
INT_LIMIT = 2_000_000_000


class OptionsPanel(QWidget):
    """Everything below the tray's main row. ``changed`` fires on any user change (not
    while the panel rebuilds itself)."""

    changed = Signal()
    add_key = Signal()  # "Add … key…" was chosen: offer to add one
    edit_styles = Signal()  # "Edit presets…" was chosen in the style combo

    def __init__(self, providers: ProviderCatalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trayOptions")
        self._providers = providers
        self._mode = "image"
        self._quiet = 0
        self._chosen = False  # did the user (or a recipe) pick the provider and model?
        self._wanted = ModeSettings()
        self._param_editors: dict[str, QWidget] = {}
        self._last_provider = -1

        self.provider = fit_combo("trayProvider")
        self.model = fit_combo("trayModel")
        self.size_combo = fit_combo("traySize")
        self.aspect_combo = fit_combo("trayAspect")
        self.duration = QDoubleSpinBox()
        self.duration.setDecimals(1)
        self.duration.setSingleStep(DURATION_STEP)
        self.duration.setSuffix(" s")
        self.duration.setSpecialValueText("Auto")
        self.duration.setToolTip("Length in seconds (Auto: the model decides)")
        self.style_combo = StyleCombo()
        self.style_combo.edit_requested.connect(self.edit_styles.emit)
        self.count = QSpinBox()
        self.count.setRange(1, MAX_COUNT)
        self.count.setPrefix("\u00d7 ")
        self.count.setToolTip("How many results to make")
        self.batch = QComboBox()
        self.batch.addItem("Explore", EXPLORE)
        self.batch.addItem("Set", SET)
        self.batch.setItemData(0, "One asset with N variants", Qt.ItemDataRole.ToolTipRole)
        self.batch.setItemData(1, "N new assets, one variant each", Qt.ItemDataRole.ToolTipRole)
        self.batch.setToolTip("Explore: one asset with N variants · Set: N new assets")

        self.f_size = Field("Size", self.size_combo)
        self.f_aspect = Field("Aspect", self.aspect_combo)
        self.f_duration = Field("Duration", self.duration)
        self.params = QWidget()
        self._params_lay = QHBoxLayout(self.params)
        self._params_lay.setContentsMargins(0, 0, 0, 0)
        self._params_lay.setSpacing(10)

        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 4, 8, 6)
        lay.setSpacing(12)
        for w in (
            Field("Provider", self.provider),
            Field("Model", self.model),
            self.f_size,
            self.f_aspect,
            self.f_duration,
            self.params,
            Field("Style", self.style_combo),
            Field("Batch", self.count),
            self.batch,
        ):
            lay.addWidget(w)
        lay.addStretch(1)

        self.provider.currentIndexChanged.connect(self._provider_changed)
        self.model.currentIndexChanged.connect(self._model_changed)
        for combo in (self.size_combo, self.aspect_combo, self.batch):
            combo.currentIndexChanged.connect(self._emit)
        self.style_combo.chosen.connect(self._emit)
        self.duration.valueChanged.connect(self._emit)
        self.count.valueChanged.connect(self._count_changed)
        self.set_styles([])
        self._count_changed()

    # ------------------------------------------------------------------ setting up
    def set_mode(self, mode: str, settings: ModeSettings, preferred: str | None) -> None:
        """Offer the providers that can make ``mode``, choosing ``settings.provider`` (or
        ``preferred``, or ``local``) and restoring the rest of ``settings``."""
        self._quiet += 1
        try:
            self._mode = mode
            self._wanted = settings
            self.provider.clear()
            for name in self._providers.names():
                caps = self._providers.get(name).capabilities()
                if models_for(caps, mode):
                    self.provider.addItem(caps.label, name)
            add_keyless(self.provider, self._providers.names(), mode)
            for choice in (settings.provider, preferred, "local"):
                i = self.provider.findData(choice) if choice else -1
                if i >= 0:
                    break
            self.provider.setCurrentIndex(max(0, i) if self.provider.count() else -1)
            self._chosen = (
                bool(settings.provider) and self.provider.currentData() == settings.provider
            )
            self._fill_models()
            self._last_provider = self.provider.currentIndex()
        finally:
            self._quiet -= 1

    def _provider_changed(self) -> None:
        if self._quiet:
            return
        data = self.provider.currentData()
        if isinstance(data, str) and data.startswith(ADD_KEY):
            self._quiet += 1
            try:
                self.provider.setCurrentIndex(self._last_provider)
            finally:
                self._quiet -= 1
            self.add_key.emit()
            return
        self._last_provider = self.provider.currentIndex()
        self._chosen = True
        self._quiet += 1
        try:
            self._wanted = ModeSettings(params=self.settings().params)
            self._fill_models()
        finally:
            self._quiet -= 1
        self.changed.emit()

    def _fill_models(self) -> None:
        self.model.clear()
        name = self.provider.currentData()
        if name is not None:
            for m in models_for(self._providers.get(name).capabilities(), self._mode):
                self.model.addItem(m.label, m.id)
        i = self.model.findData(self._wanted.model) if self._wanted.model else -1
        self.model.setCurrentIndex(max(0, i) if self.model.count() else -1)
        self._fill_model_settings()

    def _model_changed(self) -> None:
        if self._quiet:
            return
        self._chosen = True
        self._quiet += 1
        try:
            s = self.settings()
            self._wanted = ModeSettings(
                size=s.size, aspect_ratio=s.aspect_ratio, duration_s=s.duration_s, params=s.params
            )
            self._fill_model_settings()
        finally:
            self._quiet -= 1
        self.changed.emit()

    def _fill_model_settings(self) -> None:
        spec = self.model_spec()
        want = self._wanted
        self._choices(
            self.size_combo,
            self.f_size,
            spec.sizes if spec else (),
            want.size,
            spec and spec.default_size,
        )
        self._choices(
            self.aspect_combo,
            self.f_aspect,
            spec.aspect_ratios if spec else (),
            want.aspect_ratio,
            spec and spec.default_aspect_ratio,
        )
        lo = spec.min_duration_s if spec else None
        hi = spec.max_duration_s if spec else None
        self.f_duration.setVisible(lo is not None and hi is not None)
        if lo is not None and hi is not None:
            self.duration.setRange(max(0.0, lo - DURATION_STEP), hi)
            ok = want.duration_s is not None and lo <= want.duration_s <= hi
            self.duration.setValue(
                want.duration_s if ok and want.duration_s else self.duration.minimum()
            )
        self._build_params(spec.params if spec else (), want.params)

    @staticmethod
    def _choices(
        combo: QComboBox, holder: QWidget, items: Sequence[str], want: str | None, default: Any
    ) -> None:
        combo.clear()
        combo.addItems(list(items))
        holder.setVisible(bool(items))
        for choice in (want, default):
            i = combo.findText(choice) if choice else -1
            if i >= 0:
                combo.setCurrentIndex(i)
                return

    def _build_params(self, specs: Sequence[ParamSpec], values: Any) -> None:
        while self._params_lay.count():
            item = self._params_lay.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.hide()
                w.setParent(None)  # gone from findChild and the screen now, freed later
                w.deleteLater()
        self._param_editors.clear()
        for spec in specs:
            value = values.get(spec.name, spec.default) if values else spec.default
            editor = self._param_editor(spec, value)
            editor.setObjectName(f"trayParam_{spec.name}")
            editor.setToolTip(spec.help or param_label(spec.name))
            self._param_editors[spec.name] = editor
            caption = "" if spec.kind == "bool" else param_label(spec.name)
            self._params_lay.addWidget(Field(caption, editor))
        self.params.setVisible(bool(specs))

    def _param_editor(self, spec: ParamSpec, value: Any) -> QWidget:
        if spec.kind == "choice":
            combo = fit_combo()
            combo.addItems(list(spec.choices))
            combo.setCurrentIndex(max(0, combo.findText(str(value))))
            combo.currentIndexChanged.connect(self._emit)
            return combo
        if spec.kind == "bool":
            box = QCheckBox(param_label(spec.name))
            box.setChecked(bool(value))
            box.toggled.connect(self._emit)
            return box
        if spec.kind == "int":
            spin = QSpinBox()
            spin.setRange(
                int(spec.minimum) if spec.minimum is not None else -INT_LIMIT,
                int(spec.maximum) if spec.maximum is not None else INT_LIMIT,
            )
            spin.setValue(int(value) if isinstance(value, int | float) else spin.minimum())
            spin.valueChanged.connect(self._emit)
            return spin
        if spec.kind == "float":
            dspin = QDoubleSpinBox()
            dspin.setDecimals(2)
            dspin.setSingleStep(0.1)
            dspin.setRange(
                spec.minimum if spec.minimum is not None else -1e9,
                spec.maximum if spec.maximum is not None else 1e9,
            )
            dspin.setValue(float(value) if isinstance(value, int | float) else dspin.minimum())
            dspin.valueChanged.connect(self._emit)
            return dspin
        if spec.suggestions:  # e.g. the account's voice names: pick one, or type an id
            offer = fit_combo()
            offer.setEditable(True)
            offer.addItems(list(spec.suggestions))
            offer.setCurrentText(str(value) if value else "")
            offer.currentTextChanged.connect(self._emit)
            return offer
        line = QLineEdit(str(value) if value else "")
        line.setPlaceholderText(spec.help or param_label(spec.name))
        line.setMinimumWidth(120)
        line.textChanged.connect(self._emit)
        return line

    def set_styles(self, styles: Sequence[StylePresetRow], current: str | None = None) -> None:
        """Refill the style combo (keeping the choice when it still exists)."""
        self.style_combo.set_styles(styles, current)

    def set_batch(self, count: int, mode: str) -> None:
        self._quiet += 1
        try:
            self.count.setValue(count)
            self.batch.setCurrentIndex(max(0, self.batch.findData(mode)))
            self._count_changed()
        finally:
            self._quiet -= 1

    # ------------------------------------------------------------------ reading
    def model_spec(self) -> ModelSpec | None:
        name, model = self.provider.currentData(), self.model.currentData()
        if name is None or model is None:
            return None
        for m in self._providers.get(name).capabilities().models:
            if m.id == model:
                return m
        return None

    def settings(self) -> ModeSettings:
        spec = self.model_spec()
        params: dict[str, Any] = {}
        for name, editor in self._param_editors.items():
            if isinstance(editor, QComboBox):
                params[name] = editor.currentText()
            elif isinstance(editor, QCheckBox):
                params[name] = editor.isChecked()
            elif isinstance(editor, QSpinBox | QDoubleSpinBox):
                params[name] = editor.value()
            elif isinstance(editor, QLineEdit) and editor.text().strip():
                params[name] = editor.text().strip()
        duration = None
        if spec is not None and spec.min_duration_s is not None:
            value = self.duration.value()
            duration = None if value < spec.min_duration_s else round(value, 3)
        return ModeSettings(
            provider=self.provider.currentData(),
            model=self.model.currentData(),
            size=(self.size_combo.currentText() or None) if spec and spec.sizes else None,
            aspect_ratio=(self.aspect_combo.currentText() or None)
            if spec and spec.aspect_ratios
            else None,
            duration_s=duration,
            params=params,
        )

    def remembered(self) -> ModeSettings:
        """The settings to remember: the provider and model only when they were picked
        (otherwise the default provider, which may change, decides next time)."""
        s = self.settings()
        return s if self._chosen else replace(s, provider=None, model=None)

    def style_choice(self) -> str:
        return self.style_combo.choice()

    def batch_mode(self) -> str:
        return str(self.batch.currentData() or EXPLORE)

    def summary(self) -> str:
        """A one-line digest for the collapsed tray."""
        s = self.settings()
        spec = self.model_spec()
        bits = [spec.label if spec else "no model"]
        bits += [v for v in (s.size, s.aspect_ratio) if v]
        if s.duration_s is not None:
            bits.append(f"{s.duration_s:g} s")
        if self.count.value() > 1:
            bits.append(f"\u00d7{self.count.value()} {self.batch.currentText().lower()}")
        if style := self.style_combo.label():
            bits.append(style)
        return " \u00b7 ".join(bits)

    # ------------------------------------------------------------------ changes
    def _count_changed(self) -> None:
        self.batch.setEnabled(self.count.value() > 1)
        self._emit()

    def _emit(self) -> None:
        if not self._quiet:
            self.changed.emit()
