"""The forge's pure rules: which operation inputs mean, style injection, recipes.

No I/O here: the handlers and the UI tray both call these.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from workers.base import AudioType

MAX_REFERENCE_SLOTS = 14


class ForgeOp(StrEnum):
    GENERATE = "generate"
    FORK = "fork"
    DERIVE = "derive"
    REFINE = "refine"


def decide_operation(references: int, has_prompt: bool, into_existing: bool) -> ForgeOp:
    """DESIGN.md's matrix. Raises ValueError with the reason for an impossible mix."""
    if references < 0 or references > MAX_REFERENCE_SLOTS:
        raise ValueError(f"use 0 to {MAX_REFERENCE_SLOTS} references")
    if into_existing:
        if not has_prompt:
            raise ValueError("refining an asset needs a prompt saying what to change")
        if references == 0:
            raise ValueError("refining needs at least one reference (the asset's active variant)")
        return ForgeOp.REFINE
    if references == 0:
        if not has_prompt:
            raise ValueError("write a prompt, or add a reference to fork")
        return ForgeOp.GENERATE
    if not has_prompt:
        if references == 1:
            return ForgeOp.FORK
        raise ValueError("several references need a prompt saying how to combine them")
    return ForgeOp.DERIVE


_AUDIO_TYPES = {
    "sfx": AudioType.SFX,
    "sound": AudioType.SFX,
    "sound effect": AudioType.SFX,
    "effect": AudioType.SFX,
    "music": AudioType.MUSIC,
    "song": AudioType.MUSIC,
    "track": AudioType.MUSIC,
    "speech": AudioType.SPEECH,
    "voice": AudioType.SPEECH,
    "voice line": AudioType.SPEECH,
    "narration": AudioType.SPEECH,
    "dialogue": AudioType.DIALOGUE,
    "dialog": AudioType.DIALOGUE,
    "conversation": AudioType.DIALOGUE,
}


def audio_type_for(asset_type: str) -> AudioType:
    """What kind of audio an asset of this type is (sound effect when unsure)."""
    return _AUDIO_TYPES.get(" ".join(asset_type.lower().split()), AudioType.SFX)


@dataclass(frozen=True, slots=True)
class StyleChoice:
    id: str
    name: str
    prompt: str
    reference_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Injected:
    prompt_sent: str
    references_sent: tuple[str, ...]
    style_references_sent: tuple[str, ...]


def inject_style(
    prompt: str,
    references: Sequence[str],
    style: StyleChoice | None,
    max_references: int,
) -> Injected:
    """Prepend the style prompt; put style references first while the model's reference
    budget allows, never pushing out the user's own references."""
    if style is None:
        return Injected(prompt, tuple(references), ())
    text = f"{style.prompt.strip()}. {prompt}" if style.prompt.strip() else prompt
    room = max(0, max_references - len(references))
    style_refs = tuple(r for r in style.reference_ids if r not in references)[:room]
    return Injected(text, (*style_refs, *references), style_refs)


@dataclass(frozen=True, slots=True)
class Recipe:
    """All a retry needs; stored as JSON on the variant."""

    operation: str
    prompt: str
    prompt_sent: str
    provider: str
    model: str
    media_kind: str
    audio_type: str | None
    size: str | None
    aspect_ratio: str | None
    duration_s: float | None
    seed: int
    params: Mapping[str, Any]
    source_variant_ids: tuple[str, ...]
    references_sent: tuple[str, ...]
    style: Mapping[str, Any] | None
    batch: Mapping[str, Any] | None = None
    prompt_before: str | None = None
    """The person's own prompt, when the assistant's prompt enhancement rewrote it."""

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "operation": self.operation,
            "prompt": self.prompt,
            "prompt_sent": self.prompt_sent,
            "provider": self.provider,
            "model": self.model,
            "media_kind": self.media_kind,
            "audio_type": self.audio_type,
            "size": self.size,
            "aspect_ratio": self.aspect_ratio,
            "duration_s": self.duration_s,
            "seed": self.seed,
            "params": dict(self.params),
            "source_variant_ids": list(self.source_variant_ids),
            "references_sent": list(self.references_sent),
            "style": None if self.style is None else dict(self.style),
            "batch": None if self.batch is None else dict(self.batch),
        }
        if self.prompt_before is not None:
            out["prompt_before"] = self.prompt_before
        return out

    @classmethod
    def from_json(cls, obj: Mapping[str, Any]) -> Recipe:
        return cls(
            operation=str(obj["operation"]),
            prompt=str(obj.get("prompt", "")),
            prompt_sent=str(obj.get("prompt_sent", obj.get("prompt", ""))),
            provider=str(obj["provider"]),
            model=str(obj["model"]),
            media_kind=str(obj["media_kind"]),
            audio_type=obj.get("audio_type"),
            size=obj.get("size"),
            aspect_ratio=obj.get("aspect_ratio"),
            duration_s=obj.get("duration_s"),
            seed=int(obj.get("seed", 0)),
            params=dict(obj.get("params") or {}),
            source_variant_ids=tuple(obj.get("source_variant_ids") or ()),
            references_sent=tuple(obj.get("references_sent") or ()),
            style=obj.get("style"),
            batch=obj.get("batch"),
            prompt_before=obj.get("prompt_before"),
        )
