"""The forge tray's state, as plain data (no Qt): what is in the tray, which operation
that means, whether it can run (and why not), and the options the tray remembers per
space (the core command it becomes is in ``command``).

The widgets in this package only collect input into a :class:`TrayState`; every rule
lives here so it is unit-tested without a display.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from studio.core import commands as c
from studio.core.forge import MAX_REFERENCE_SLOTS, ForgeOp, audio_type_for, decide_operation
from workers.base import AudioType, Capabilities, ModelSpec, Operation

MODES = ("image", "video", "speech", "dialogue", "music", "sfx")
MODE_LABELS: Mapping[str, str] = {
    "image": "Image",
    "video": "Video",
    "speech": "Speech",
    "dialogue": "Dialogue",
    "music": "Music",
    "sfx": "Sound effect",
}
MODE_NOUNS: Mapping[str, str] = {**{m: m for m in MODES}, "sfx": "sound effect"}
IMAGE_TYPES = ("character", "item", "prop", "scene", "environment", "icon", "texture")
DEFAULT_IMAGE_TYPE = "character"
MAX_COUNT = 16

STYLE_DEFAULT = "default"  # let the core use the space's default preset
STYLE_NONE = "none"  # no style at all

EXPLORE = c.BatchMode.EXPLORE.value
SET = c.BatchMode.SET.value


# --------------------------------------------------------------------------- modes


def mode_kind(mode: str) -> str:
    """The media kind a mode makes: image, video or audio."""
    return mode if mode in ("image", "video") else "audio"


def mode_audio_type(mode: str) -> AudioType | None:
    return None if mode_kind(mode) != "audio" else AudioType(mode)


def asset_type_for(mode: str, image_type: str) -> str:
    """The asset type a new asset of this mode gets."""
    if mode == "image":
        return image_type.strip() or DEFAULT_IMAGE_TYPE
    return "animation" if mode == "video" else mode


def mode_for_asset(media_kind: str, asset_type: str) -> str:
    """The mode that makes more of an existing asset."""
    if media_kind in ("image", "video"):
        return media_kind
    return audio_type_for(asset_type).value


def models_for(caps: Capabilities, mode: str) -> list[ModelSpec]:
    """The provider's models that can make this mode (audio: that audio type)."""
    kind, audio = mode_kind(mode), mode_audio_type(mode)
    return [
        m for m in caps.models if m.media_kind == kind and (audio is None or audio in m.audio_types)
    ]


# --------------------------------------------------------------------------- tray contents


@dataclass(frozen=True, slots=True)
class SlotRef:
    """One reference slot: an exact variant and what the tray shows of it."""

    variant_id: str
    asset_id: str
    asset_name: str
    media_kind: str
    status: str = "completed"
    thumb: str | None = None  # relative to the space's media dir


@dataclass(frozen=True, slots=True)
class TrayDraft:
    """What the user was writing in one space's tray: the prompt, the references (exact
    variants, in slot order) and the destination asset. Kept per space for the session
    (in memory: switching spaces or saving Preferences must not wipe it)."""

    prompt: str
    references: tuple[str, ...] = ()
    destination: str | None = None


TrayDrafts = dict[str, TrayDraft]
"""Space id -> its draft. One per window, shared by the trays it makes."""


@dataclass(frozen=True, slots=True)
class Destination:
    asset_id: str
    name: str
    media_kind: str
    type: str = ""


def add_slots(
    slots: Sequence[SlotRef], new: Sequence[SlotRef]
) -> tuple[tuple[SlotRef, ...], str | None]:
    """Append ``new`` (skipping ones already in), up to the slot limit. Returns the slots
    and, when some did not fit, the reason."""
    out = list(slots)
    seen = {s.variant_id for s in out}
    refused = 0
    for s in new:
        if s.variant_id in seen:
            continue
        if len(out) >= MAX_REFERENCE_SLOTS:
            refused += 1
            continue
        out.append(s)
        seen.add(s.variant_id)
    reason = None
    if refused:
        reason = (
            f"The tray holds up to {MAX_REFERENCE_SLOTS} references: "
            f"{refused} more did not fit. Remove some first."
        )
    return tuple(out), reason


def move_slot(slots: Sequence[SlotRef], src: int, dst: int) -> tuple[SlotRef, ...]:
    """Move slot ``src`` so it lands before the slot now at ``dst`` (``len`` = the end)."""
    out = list(slots)
    if not 0 <= src < len(out):
        return tuple(out)
    item = out.pop(src)
    if dst > src:
        dst -= 1
    out.insert(max(0, min(dst, len(out))), item)
    return tuple(out)


# --------------------------------------------------------------------------- options


@dataclass(frozen=True, slots=True)
class ModeSettings:
    """Provider, model and the model's settings chosen for one mode."""

    provider: str | None = None
    model: str | None = None
    size: str | None = None
    aspect_ratio: str | None = None
    duration_s: float | None = None
    params: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "size": self.size,
            "aspect_ratio": self.aspect_ratio,
            "duration_s": self.duration_s,
            "params": dict(self.params),
        }

    @classmethod
    def from_json(cls, obj: Any) -> ModeSettings:
        if not isinstance(obj, Mapping):
            return cls()

        def text(key: str) -> str | None:
            v = obj.get(key)
            return v if isinstance(v, str) and v else None

        dur = obj.get("duration_s")
        params = obj.get("params")
        return cls(
            provider=text("provider"),
            model=text("model"),
            size=text("size"),
            aspect_ratio=text("aspect_ratio"),
            duration_s=float(dur) if isinstance(dur, int | float) and dur > 0 else None,
            params=dict(params) if isinstance(params, Mapping) else {},
        )


@dataclass(frozen=True, slots=True)
class TrayMemory:
    """What the tray remembers per space (JSON in the library setting ``ui.tray.<id>``)."""

    mode: str = "image"
    image_type: str = DEFAULT_IMAGE_TYPE
    per_mode: Mapping[str, ModeSettings] = field(default_factory=dict)
    style: str = STYLE_DEFAULT
    count: int = 1
    batch_mode: str = EXPLORE

    def settings(self, mode: str) -> ModeSettings:
        return self.per_mode.get(mode, ModeSettings())

    def with_settings(self, mode: str, settings: ModeSettings) -> TrayMemory:
        return replace(self, per_mode={**self.per_mode, mode: settings})

    def to_json(self) -> str:
        return json.dumps(
            {
                "mode": self.mode,
                "image_type": self.image_type,
                "per_mode": {m: s.to_json() for m, s in sorted(self.per_mode.items())},
                "style": self.style,
                "count": self.count,
                "batch_mode": self.batch_mode,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str | None) -> TrayMemory:
        """Tolerant: anything unreadable falls back to the defaults."""
        try:
            obj = json.loads(text) if text else {}
        except ValueError:
            obj = {}
        if not isinstance(obj, Mapping):
            obj = {}
        mode = obj.get("mode")
        image_type = obj.get("image_type")
        per_mode = obj.get("per_mode")
        style = obj.get("style")
        count = obj.get("count")
        batch = obj.get("batch_mode")
        return cls(
            mode=mode if mode in MODES else "image",
            image_type=image_type if isinstance(image_type, str) and image_type else "character",
            per_mode={
                m: ModeSettings.from_json(s)
                for m, s in (per_mode.items() if isinstance(per_mode, Mapping) else ())
                if m in MODES
            },
            style=style if isinstance(style, str) and style else STYLE_DEFAULT,
            count=min(MAX_COUNT, max(1, count)) if isinstance(count, int) else 1,
            batch_mode=batch if batch in (EXPLORE, SET) else EXPLORE,
        )


# --------------------------------------------------------------------------- the verdict


@dataclass(frozen=True, slots=True)
class TrayState:
    mode: str = "image"
    image_type: str = DEFAULT_IMAGE_TYPE
    prompt: str = ""
    slots: tuple[SlotRef, ...] = ()
    destination: Destination | None = None
    settings: ModeSettings = field(default_factory=ModeSettings)
    style: str = STYLE_DEFAULT
    count: int = 1
    batch_mode: str = EXPLORE


@dataclass(frozen=True, slots=True)
class Verdict:
    """The operation the tray will run and its label, or why it can't (``op`` None)."""

    op: ForgeOp | None
    message: str
    hint: bool = False  # nothing to do yet (an empty tray), not a mistake

    @property
    def ok(self) -> bool:
        return self.op is not None


def quote(name: str) -> str:
    return f"\u201c{name}\u201d"


def _refs(n: int) -> str:
    return "the reference" if n == 1 else f"{n} references"


def operation_label(op: ForgeOp, state: TrayState) -> str:
    n, count = len(state.slots), state.count
    noun = MODE_NOUNS.get(state.mode, state.mode)
    if op is ForgeOp.FORK:
        return "Will fork the reference into a new asset"
    if op is ForgeOp.REFINE:
        assert state.destination is not None
        what = "new variant" if count == 1 else f"{count} new variants"
        return f"Will refine {quote(state.destination.name)} ({what})"
    if count == 1:
        target = f"a new {noun} asset"
    elif state.batch_mode == SET:
        target = f"{count} new {noun} assets"
    else:
        target = f"{count} variants in a new {noun} asset"
    if op is ForgeOp.GENERATE:
        return f"Will generate {target}"
    return f"Will derive {target} from {_refs(n)}"


def judge(state: TrayState, model: ModelSpec | None) -> Verdict:
    """The operation the tray's inputs mean (DESIGN.md's matrix) and every reason the
    chosen model or destination refuses it, checked before anything is sent."""
    n = len(state.slots)
    has_prompt = bool(state.prompt.strip())
    try:
        op = decide_operation(n, has_prompt, state.destination is not None)
    except ValueError as exc:
        text = str(exc)
        return Verdict(None, text[:1].upper() + text[1:], hint=n == 0 and not has_prompt)
    for s in state.slots:
        if s.status != "completed":
            return Verdict(None, f"{quote(s.asset_name)} is not finished yet: wait or remove it")
    if op is ForgeOp.FORK:
        return Verdict(op, operation_label(op, state))
    noun = MODE_NOUNS.get(state.mode, state.mode)
    dest = state.destination
    if dest is not None:
        want = mode_for_asset(dest.media_kind, dest.type)
        if want != state.mode:
            what = MODE_NOUNS.get(want, want)
            article = "an" if what[:1] in "aeiou" else "a"
            return Verdict(
                None,
                f"{quote(dest.name)} is {article} {what} asset: switch the mode to "
                f"{MODE_LABELS.get(want, want)}",
            )
        if state.count > 1 and state.batch_mode == SET:
            return Verdict(
                None,
                f"A set batch makes new assets: use Explore to add variants to {quote(dest.name)}",
            )
    if model is None:
        return Verdict(None, f"No provider here can make {noun}: add a key in Preferences")
    if Operation(op.value) not in model.operations:
        can = ", ".join(o.value for o in model.operations)
        return Verdict(None, f"{model.label} can't {op.value} (it can {can})")
    if n > model.max_references:
        if model.max_references == 0:
            return Verdict(None, f"{model.label} can't take references")
        m = model.max_references
        return Verdict(None, f"{model.label} takes up to {m} reference{'s' if m != 1 else ''}")
    for s in state.slots:
        if not model.accepts_reference(s.media_kind):
            return Verdict(
                None, f"{model.label} can't take {s.media_kind} references ({quote(s.asset_name)})"
            )
    return Verdict(op, operation_label(op, state))
