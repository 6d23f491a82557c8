"""What Claude is told: a stable prefix (instructions and tool definitions, cached with
``cache_control``, nothing in it that changes from turn to turn) and, after it, a
compact summary of the space now (counts first; details through the read tools)."""

from __future__ import annotations

import json
from typing import Any

from studio.assistant import tools
from studio.core.space import Space

CACHE = {"type": "ephemeral"}

INSTRUCTIONS = """\
You are the assistant of Forge Studio, a local studio of AI-generated assets (images, \
audio, video). A space holds assets; each asset has variants (media versions) made by \
generation with a recipe (prompt, provider, model, references) and linked by lineage. \
Collections group assets or variants; frames group assets on the canvas; style presets \
add a style prompt and reference images to generation.

Answer from the space's data: the summary below first, then the read tools for details \
(list, search, get an asset or a variant with its recipe and lineage, look at media). \
Never invent ids: look them up. Be brief and concrete."""

ADVISOR = """\
Mode: advisor. You can read the space but not change it; when the person wants a \
change, say which action would do it."""

ACTOR = """\
Mode: actor. Action tools (rename, tag, collections, frames, stars, ratings, generate, \
derive, refine, style presets) do not act: each call becomes a proposal the person \
approves or rejects. After proposing, say what you proposed and wait; a generation \
proposal shows its estimated cost."""


def tool_list(actor: bool) -> list[dict[str, Any]]:
    """The tools, the last one marked for caching (tools come first in the prefix)."""
    defs = [dict(t) for t in (*tools.READ_TOOLS, *(tools.ACTION_TOOLS if actor else ()))]
    defs[-1] = {**defs[-1], "cache_control": CACHE}
    return defs


def system_blocks(space: Space, space_name: str, actor: bool) -> list[dict[str, Any]]:
    stable = f"{INSTRUCTIONS}\n\n{ACTOR if actor else ADVISOR}"
    now = json.dumps(tools.summary_text(space), ensure_ascii=False, sort_keys=True)
    return [
        {"type": "text", "text": stable, "cache_control": CACHE},
        {"type": "text", "text": f"The space {space_name!r} now:\n{now}"},
    ]
