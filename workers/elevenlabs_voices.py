"""ElevenLabs voices: the account's list (``GET /v2/voices``), the premade voices a
dialogue falls back on, and reading ``Name: words`` dialogue lines."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from workers.base import check

DEFAULT_VOICE = "JBFqnCBsd6RMkjVDRZzb"  # "George", a premade voice
DIALOGUE_VOICES = (
    "JBFqnCBsd6RMkjVDRZzb",
    "21m00Tcm4TlvDq8ikWAM",
    "EXAVITQu4vr4xnSDxMaL",
    "TX3LPaxmHKxFdv7VOQHJ",
    "pNInz6obpgDQGcFmaJgB",
    "AZnzlk1XvdvUeBnXmlld",
    "MF3mGyEYCl7XYWbV9V6O",
    "ErXwobaYiN019PkySvjV",
    "VR6AewLTigWG4xSOukaG",
    "yoZ06aMxZJJ28mfd3POQ",
)
MAX_SPEAKERS = len(DIALOGUE_VOICES)  # "the maximum number of unique voice IDs is 10"
# "keep the total character count across all inputs[].text values at or below 2,000
# characters per request" (elevenlabs 2.78.0 text_to_dialogue/client.py, convert()).
DIALOGUE_MAX_CHARS = 2_000
VOICES_PAGE_SIZE = 100  # "can not exceed 100" (voices/client.py, search())
MAX_VOICE_PAGES = 20
LIST_TIMEOUT_S = 10  # a list is small: give up soon rather than hold up the app

_NAME = r"[^\W\d_][\w'’\-]*\.?"
_SPEAKER = re.compile(rf"(?:^\s*|(?<=[.!?…])\s+)({_NAME}(?: {_NAME}){{0,2}})\s*:\s+", re.MULTILINE)
VOICE_ID = re.compile(r"[A-Za-z0-9]{20}")


def dialogue_lines(text: str) -> list[tuple[str, str]]:
    """(speaker, text) pairs from ``Name: words`` labels. The door keeps prompts on one
    line, so a label counts at the start, after a line break, or after a sentence's end
    (``…that? Bo: Hear what?``); words before the first label are "Speaker 1"'s."""
    out: list[tuple[str, str]] = []
    labels = list(_SPEAKER.finditer(text))
    head = text[: labels[0].start() if labels else len(text)]
    if " ".join(head.split()):
        out.append(("Speaker 1", " ".join(head.split())))
    for i, m in enumerate(labels):
        end = labels[i + 1].start() if i + 1 < len(labels) else len(text)
        words = " ".join(text[m.end() : end].split())
        if words:
            out.append((m.group(1).strip(), words))
    return out


def parse_voices(spec: str) -> dict[str, str]:
    """``"Ada=abc, Bo=def"`` → {"Ada": "abc", "Bo": "def"}."""
    voices: dict[str, str] = {}
    for item in re.split(r"[,;\n]", spec):
        if not item.strip():
            continue
        name, sep, voice = item.partition("=")
        check(
            bool(sep and name.strip() and voice.strip()),
            f"voices: {item.strip()!r} is not Name=voiceId",
        )
        voices[name.strip()] = voice.strip()
    return voices


def cast_voices(lines: list[tuple[str, str]], spec: str) -> dict[str, str]:
    """Each speaker's voice: the ones asked for, then premade voices not yet used."""
    chosen = parse_voices(spec)
    spare = [v for v in DIALOGUE_VOICES if v not in chosen.values()]
    cast: dict[str, str] = {}
    for speaker, _ in lines:
        if speaker not in cast:
            cast[speaker] = chosen.get(speaker) or (spare.pop(0) if spare else DEFAULT_VOICE)
    return cast


@dataclass(frozen=True, slots=True)
class Voice:
    """One voice of the account (``GET /v2/voices``)."""

    voice_id: str
    name: str
    category: str = ""


def list_voices(client: Any) -> list[Voice]:
    """Every voice the account can use, page by page (bounded), through the SDK's
    ``voices.search`` (``GET /v2/voices``)."""
    voices: list[Voice] = []
    token: str | None = None
    for _ in range(MAX_VOICE_PAGES):
        page = client.voices.search(
            page_size=VOICES_PAGE_SIZE,
            next_page_token=token,
            request_options={"max_retries": 0, "timeout_in_seconds": LIST_TIMEOUT_S},
        )
        voices.extend(
            Voice(v.voice_id, v.name or v.voice_id, str(v.category or "")) for v in page.voices
        )
        token = page.next_page_token
        if not page.has_more or not token:
            break
    return voices
