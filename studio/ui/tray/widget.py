"""The forge tray: a compact bar at the bottom of the window where references, a prompt,
a mode and a destination become one generate / fork / derive / refine request."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from studio.core import settings
from studio.core.commands import Command
from studio.core.errors import StudioError
from studio.core.protocol import Deleted, StyleData, TypedEvent
from studio.core.space import Space
from studio.core.studio import Studio
from studio.ui.host import StudioHost
from studio.ui.tray import lookup
from studio.ui.tray.bar import STYLE, TrayBar, retone
from studio.ui.tray.command import build_command, undo_text
from studio.ui.tray.estimator import TrayEstimator
from studio.ui.tray.options import OptionsPanel
from studio.ui.tray.state import (
    Destination,
    SlotRef,
    TrayDraft,
    TrayDrafts,
    TrayMemory,
    TrayState,
    Verdict,
    add_slots,
    judge,
    mode_for_asset,
    move_slot,
)

log = logging.getLogger(__name__)

SETTING_KEY = "ui.tray.{space_id}"
DEFAULT_PROVIDER_KEY = "providers.default.{mode}"


class ForgeTray(QWidget):
    """See the package docstring. ``generated(command)`` fires after the host accepted
    a request; ``edit_styles`` when "Edit presets…" is chosen."""

    generated = Signal(object)
    edit_styles = Signal()  # "Edit presets…": the window opens the style preset editor

    def __init__(
        self,
        host: StudioHost,
        studio: Studio,
        parent: QWidget | None = None,
        *,
        drafts: TrayDrafts | None = None,
    ) -> None:
        super().__init__(parent)
        self.drafts: TrayDrafts = {} if drafts is None else drafts  # shared with a successor
        self.setObjectName("forgeTray")
        self.setStyleSheet(STYLE)
        self._host = host
        self._studio = studio
        self._space: Space | None = None
        self._slots: tuple[SlotRef, ...] = ()
        self._dest: Destination | None = None
        self._memory = TrayMemory()
        self._saved: str | None = None
        self._quiet = 0
        self.placement: Callable[[], tuple[float, float]] | None = None
        self.estimator = TrayEstimator(self)
        self._build()
        self.set_space(None)

    # ------------------------------------------------------------------ building
    def _build(self) -> None:
        self.bar = bar = TrayBar()
        self.strip, self.prompt, self.destination = bar.strip, bar.prompt, bar.destination
        self.mode, self.image_type = bar.mode, bar.image_type
        self.operation, self.estimate = bar.operation, bar.estimate
        self.generate_button, self.options_button = bar.generate, bar.options_button
        self.summary = bar.summary
        self.strip.removed.connect(self.remove_reference)
        self.strip.moved.connect(self.move_reference)
        self.strip.dropped.connect(self.add_references)
        self.prompt.textChanged.connect(self._changed)
        self.destination.chosen.connect(self.set_destination)
        self.destination.dropped.connect(self._destination_dropped)
        self.mode.currentIndexChanged.connect(self._mode_changed)
        self.image_type.currentTextChanged.connect(self._changed)
        self.options_button.toggled.connect(self.show_options)
        self.generate_button.clicked.connect(self.generate)
        self.options = OptionsPanel(self._studio.providers)
        self.options.changed.connect(self._changed)
        self.options.add_key.connect(partial(self._host.open_preferences, "keys"))
        self.options.edit_styles.connect(self.edit_styles.emit)
        self.options.setVisible(False)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        outer.addWidget(bar)
        outer.addWidget(self.options)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.prompt.submitted.connect(self.generate)  # Ctrl+Return (see PromptEdit)

    def show_options(self, on: bool) -> None:
        self.options.setVisible(on)
        self.options_button.setText("Options \u25b4" if on else "Options \u25be")
        if self.options_button.isChecked() != on:
            self.options_button.setChecked(on)

    # ------------------------------------------------------------------ the space
    def set_space(self, space: Space | None) -> None:
        """Show ``space``: its remembered options and its draft (prompt, references,
        destination) as the user left it in this session, else an empty tray."""
        self.estimator.timer.stop()
        if self._space is not None:  # keep what the user was writing there
            self.drafts[self._space.id] = TrayDraft(
                self.prompt.toPlainText(), tuple(self.references()), self.destination_id()
            )
        self._space = space
        self._slots, self._dest = (), None
        sid = space.id if space is not None else ""
        self.strip.space_id = self.destination.space_id = sid
        self._quiet += 1
        try:
            self.prompt.clear()
            if space is None:
                self._memory, self._saved = TrayMemory(), None
            else:
                self._saved = settings.get_or(
                    self._studio.library, SETTING_KEY.format(space_id=sid), None
                )
                self._memory = TrayMemory.from_json(self._saved)
            self._restore(self._memory)
            if space is not None and (draft := self.drafts.get(sid)) is not None:
                self.prompt.setPlainText(draft.prompt)
                self._slots, self._dest = lookup.from_draft(space, draft)
        finally:
            self._quiet -= 1
        self.setEnabled(space is not None)
        self._changed()

    def _restore(self, memory: TrayMemory) -> None:
        """Put ``memory`` into the widgets (quietly: the caller refreshes)."""
        self.mode.setCurrentIndex(max(0, self.mode.findData(memory.mode)))
        self.image_type.setCurrentText(memory.image_type)
        self.image_type.setVisible(memory.mode == "image")
        self.options.set_styles(lookup.style_presets(self._space), memory.style)
        self.options.set_batch(memory.count, memory.batch_mode)
        self.options.set_mode(
            memory.mode, memory.settings(memory.mode), self._preferred(memory.mode)
        )

    def _preferred(self, mode: str) -> str | None:
        return settings.default_provider(self._studio.library, mode)

    @property
    def space(self) -> Space | None:
        return self._space

    # ------------------------------------------------------------------ contents
    def add_references(self, variant_ids: Sequence[str], at: int | None = None) -> None:
        """Append (or insert ``at``) these exact variants, skipping ones already in."""
        if self._space is None:
            return
        new: list[SlotRef] = []
        missing = 0
        for vid in variant_ids:
            slot = lookup.slot_for(self._space, vid)
            if slot is None:
                missing += 1
            else:
                new.append(slot)
        was_empty = not self._slots
        slots, reason = add_slots(self._slots, new)
        if at is not None and len(slots) > len(self._slots):
            added = slots[len(self._slots) :]
            base = list(self._slots)
            base[at:at] = added
            slots = tuple(base)
        self._slots = slots
        if missing:
            self._host.show_error("A reference no longer exists, so it was left out.")
        if reason:
            self._host.show_error(reason)
        if was_empty and self._slots and self._dest is None:
            self._follow_references()
        self._changed()

    def _follow_references(self) -> None:
        """First references the current model can't take: switch to their mode."""
        mode = lookup.mode_to_follow(self._space, self.options.model_spec(), self._slots)
        if mode is not None:
            self._set_mode(mode)

    def remove_reference(self, index: int) -> None:
        if 0 <= index < len(self._slots):
            self._slots = self._slots[:index] + self._slots[index + 1 :]
            self._changed()

    def move_reference(self, src: int, dst: int) -> None:
        self._slots = move_slot(self._slots, src, dst)
        self._changed()

    def references(self) -> list[str]:
        return [s.variant_id for s in self._slots]

    def set_destination(self, asset_id: str | None) -> None:
        """``None``: a new asset. An existing asset switches the mode to its kind and,
        when the tray has no references yet, takes its active variant as one."""
        if asset_id is None or self._space is None:
            self._dest = None
            self._changed()
            return
        try:
            asset = self._space.asset(asset_id)
        except StudioError as exc:
            self._host.show_error(exc.message)
            return
        self._dest = Destination(asset.id, asset.name, asset.media_kind, asset.type)
        want = mode_for_asset(asset.media_kind, asset.type)
        if want != self.current_mode():
            self._set_mode(want)
        if not self._slots and asset.active_variant_id:
            slot = lookup.slot_for(self._space, asset.active_variant_id)
            if slot is not None and slot.status == "completed":
                self._slots = (slot,)
        self._changed()

    def _destination_dropped(self, variant_ids: list[str]) -> None:
        if self._space is None:
            return
        slot = lookup.slot_for(self._space, variant_ids[0])
        if slot is None:
            self._host.show_error("That card no longer exists.")
            return
        self.set_destination(slot.asset_id)

    def destination_id(self) -> str | None:
        return None if self._dest is None else self._dest.asset_id

    # ------------------------------------------------------------------ mode and state
    def current_mode(self) -> str:
        return str(self.mode.currentData() or "image")

    def _set_mode(self, mode: str) -> None:
        self.mode.setCurrentIndex(max(0, self.mode.findData(mode)))

    def _mode_changed(self) -> None:
        mode = self.current_mode()
        self.image_type.setVisible(mode == "image")
        if self._quiet:
            return
        self._quiet += 1
        try:
            self.options.set_mode(mode, self._memory.settings(mode), self._preferred(mode))
        finally:
            self._quiet -= 1
        self._changed()

    def state(self) -> TrayState:
        return TrayState(
            mode=self.current_mode(),
            image_type=self.image_type.currentText(),
            prompt=self.prompt.toPlainText(),
            slots=self._slots,
            destination=self._dest,
            settings=self.options.settings(),
            style=self.options.style_choice(),
            count=self.options.count.value(),
            batch_mode=self.options.batch_mode(),
        )

    def verdict(self) -> Verdict:
        return judge(self.state(), self.options.model_spec())

    def _changed(self) -> None:
        if self._quiet:
            return
        space = self._space
        media = space.media_dir if space is not None else None
        self.strip.set_slots(self._slots, media)
        self.destination.set_destination(self._dest)
        seen: dict[str, str] = {}
        for s in self._slots:
            seen.setdefault(s.asset_id, s.asset_name)
        self.destination.set_choices(list(seen.items()))
        self.summary.setText(self.options.summary())
        self.estimator.error = None
        self.estimate.clear()
        retone(self.estimate, "")
        verdict = self.show_verdict()
        self._remember()
        if verdict.ok:
            self.estimator.timer.start()
        else:
            self.estimator.timer.stop()

    def show_verdict(self) -> Verdict:
        if self._space is None:
            self.operation.setText("Open a space to forge")
            retone(self.operation, "hint")
            self.generate_button.setEnabled(False)
            return Verdict(None, "no space", hint=True)
        v = self.verdict()
        self.operation.setText(v.message)
        retone(self.operation, "" if v.ok else "hint" if v.hint else "warn")
        self.generate_button.setEnabled(v.ok and self.estimator.error is None)
        return v

    def _remember(self) -> None:
        mode = self.current_mode()
        self._memory = replace(
            self._memory.with_settings(mode, self.options.remembered()),
            mode=mode,
            image_type=self.image_type.currentText().strip() or "character",
            style=self.options.style_choice(),
            count=self.options.count.value(),
            batch_mode=self.options.batch_mode(),
        )
        if self._space is None:
            return
        text = self._memory.to_json()
        if text != self._saved:
            settings.remember(
                self._studio.library, SETTING_KEY.format(space_id=self._space.id), text
            )
            self._saved = text

    # ------------------------------------------------------------------ running
    def generate(self) -> bool:
        """Send the request as one undoable step. True when the host accepted it."""
        if self._space is None:
            return False
        state, model = self.state(), self.options.model_spec()
        verdict = judge(state, model)
        if verdict.op is None:
            self._host.show_error(verdict.message)
            return False
        at = self.placement() if self.placement is not None else (0.0, 0.0)
        cmd: Command = build_command(state, model, at)
        if not self._host.run([cmd], undo_text(verdict.op, state)):
            return False
        self.generated.emit(cmd)
        return True

    def fill_from_recipe(self, variant_id: str) -> None:
        """Load a variant's recipe (prompt, mode, settings, style, live sources as references);
        destination: the refined asset for a refine (the same operation again), else new."""
        if self._space is None:
            return
        try:
            filled = lookup.from_recipe(self._space, variant_id)
        except StudioError as exc:
            self._host.show_error(exc.message)
            return
        settings = filled.settings if filled.settings.provider else None
        memory = replace(
            self._memory.with_settings(filled.mode, settings or self._memory.settings(filled.mode)),
            mode=filled.mode,
            image_type=filled.image_type or self._memory.image_type,
            style=filled.style,  # a preset deleted since: the default (see StyleCombo)
        )
        self._quiet += 1
        try:
            self._memory = memory
            self._restore(memory)
            self.prompt.setPlainText(filled.prompt)
            self._slots, self._dest = filled.slots, filled.destination
        finally:
            self._quiet -= 1
        got = self.options.settings()
        if filled.settings.provider and got.provider != filled.settings.provider:
            self._host.show_error(
                f"The provider {filled.settings.provider!r} is not available here: "
                f"using {self.options.provider.currentText() or 'none'} instead."
            )
        self._changed()

    def apply_event(self, event: TypedEvent) -> None:
        """Keep the tray true to the space (references, destination, style presets)."""
        if self._space is None:
            return
        match event:
            case TypedEvent(data=StyleData()) | TypedEvent(kind="style:deleted", data=Deleted()):
                self.options.set_styles(lookup.style_presets(self._space))
                self._changed()
                return
        slots, dest = lookup.follow_event(event, self._slots, self._dest)
        if slots != self._slots or dest != self._dest:
            self._slots, self._dest = slots, dest
            self._changed()
