"""What a file says made it (:class:`GenerationInfo`), and the bounds every value read
from an untrusted file is cut to (what is cut is noted, never raised)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

MAX_CHUNK = 4 * 1024 * 1024
"""A text chunk (or its inflated text) larger than this is dropped with a note."""
MAX_CHUNKS = 10_000
MAX_VALUE_CHARS = 8000
"""A string value longer than this is truncated (with a note)."""
MAX_DEPTH = 8
MAX_NODES = 5000
MAX_RAW_JSON = 256 * 1024
"""Raw tool metadata (a ComfyUI graph…) kept in the provenance up to this size."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORGE_KEY = "forge-studio:recipe"
XMP_KEY = "XML:com.adobe.xmp"
VORBIS_KEY = "FORGE_STUDIO_RECIPE"
"""Our recipe as a Vorbis comment (FLAC, Ogg)."""
AV_KEY = "forge_studio_recipe"
"""Our recipe as a container tag (MP4, WebM; Matroska upper-cases it)."""


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """What a file says about how it was made."""

    source_tool: str = ""
    """``automatic1111``, ``comfyui``, ``invokeai``, ``forge-studio`` or "" (unknown)."""
    prompt: str = ""
    negative_prompt: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    """Raw metadata worth keeping (a tool's graph, our exported recipe and lineage)."""
    notes: tuple[str, ...] = ()
    c2pa: bool = False
    c2pa_detail: str = ""
    """What the C2PA manifest says (``present, issuer …``; see ``metadata_c2pa``)."""

    def recipe_fields(self) -> dict[str, Any]:
        """The fields an import recipe takes from this (see ``ImportRecipe``)."""
        out: dict[str, Any] = {}
        if self.source_tool:
            out["source_tool"] = self.source_tool
        if self.prompt:
            out["prompt"] = self.prompt
        if self.negative_prompt:
            out["negative_prompt"] = self.negative_prompt
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def provenance_json(self) -> dict[str, Any]:
        out = dict(self.provenance)
        if self.c2pa:
            out["c2pa"] = self.c2pa_detail or "present"
        return out


# --------------------------------------------------------------------------- bounding


class Notes:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < 20:
            self.items.append(text)


def cut_text(value: str, what: str, notes: Notes, limit: int = MAX_VALUE_CHARS) -> str:
    if len(value) > limit:
        notes.add(f"{what} was {len(value)} characters long; kept the first {limit}")
        return value[:limit]
    return value


def bounded(
    value: Any, notes: Notes, what: str, depth: int = 0, budget: list[int] | None = None
) -> Any:
    """A JSON value cut down to :data:`MAX_DEPTH` levels, :data:`MAX_NODES` nodes and
    strings of :data:`MAX_VALUE_CHARS` (what is cut is noted)."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        notes.add(f"{what} had too many values; the rest were dropped")
        return None
    if isinstance(value, str):
        return cut_text(value, what, notes)
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            return str(value)
        if isinstance(value, float) and value != value:  # NaN: not JSON
            return None
        return value
    if depth >= MAX_DEPTH:
        notes.add(f"{what} was nested too deep; the deepest levels were dropped")
        return None
    if isinstance(value, Mapping):
        return {
            cut_text(str(k), what, notes, 200): bounded(v, notes, what, depth + 1, budget)
            for k, v in value.items()
            if budget[0] > 0
        }
    if isinstance(value, list | tuple):
        return [bounded(v, notes, what, depth + 1, budget) for v in value if budget[0] > 0]
    return cut_text(str(value), what, notes)


def read_json(text: str, what: str, notes: Notes) -> Any:
    """Parsed JSON, or None (noted) when it is not JSON or nested beyond reason."""
    if len(text) > MAX_CHUNK:
        notes.add(f"{what} was too large to read; dropped")
        return None
    try:
        return json.loads(text)
    except RecursionError:
        notes.add(f"{what} was nested too deep to read; dropped")
    except ValueError:
        notes.add(f"{what} was not valid JSON; dropped")
    return None


def kept_raw(value: Any, what: str, notes: Notes) -> Any:
    """Raw metadata for the provenance, if it is small enough once bounded."""
    kept = bounded(value, notes, what)
    if len(json.dumps(kept, ensure_ascii=False)) > MAX_RAW_JSON:
        notes.add(f"{what} was larger than {MAX_RAW_JSON // 1024} KiB; not kept")
        return None
    return kept
