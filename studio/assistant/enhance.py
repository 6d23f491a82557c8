"""Prompt enhancement: Claude rewrites a generation prompt; the person accepts or edits
the result, and the recipe keeps both (``GenerationOptions.prompt_before``)."""

from __future__ import annotations

from studio.assistant.client import ClaudeClient
from studio.assistant.errors import AssistantRequestError
from studio.assistant.models import FAST_MODEL
from studio.core.limits import MAX_PROMPT
from workers.redaction import redact

ENHANCE = """\
Rewrite the user's prompt for a {kind} generation model: keep its subject and intent, \
add concrete visual or sonic detail (composition, lighting, material, mood, style; for \
audio: timbre, tempo, space), no more than 80 words. Answer with the prompt only."""


def enhance_prompt(
    client: ClaudeClient, prompt: str, *, media_kind: str = "image", style: str = ""
) -> str:
    """The rewritten prompt (one paragraph, within the prompt limit)."""
    text = prompt.strip()
    if not text:
        raise AssistantRequestError("there is no prompt to enhance")
    ask = text if not style else f"{text}\n\n(The space's style: {style})"
    result = client.turn(
        system=[{"type": "text", "text": ENHANCE.format(kind=media_kind)}],
        tools=(),
        messages=[{"role": "user", "content": ask}],
        model=FAST_MODEL,
        max_tokens=400,
    )
    better = " ".join(redact(result.text).split())
    if not better:
        raise AssistantRequestError("Claude gave no prompt back; keep your own")
    return better[:MAX_PROMPT]
