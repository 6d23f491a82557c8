"""The dated price table every cloud provider's ``estimate_cost`` reads.

List prices in US dollars for pay-as-you-go API use, gathered from the providers'
public pricing pages (ai.google.dev/gemini-api/docs/pricing, elevenlabs.io/pricing/api)
and dated by :data:`PRICES_AS_OF` (each entry notes its own source and date). They are
estimates shown before a generation runs and recorded in usage events; the provider's
invoice (free tiers, plan credits, taxes) is what really counts. Update the figures and
the dates together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workers.base import CostEstimate

PRICES_AS_OF = "2026-11-30"


@dataclass(frozen=True, slots=True)
class Price:
    """``usd`` per ``unit``; ``by_size`` overrides ``usd`` for some sizes (e.g. 4K images)."""

    usd: float
    unit: str
    by_size: Mapping[str, float] | None = None
    source: str = ""  # where the figure was read ("unconfirmed: …" when no page gives it)
    as_of: str = ""  # when (YYYY-MM-DD)

    def per_unit(self, size: str | None = None) -> float:
        if size is not None and self.by_size and size in self.by_size:
            return self.by_size[size]
        return self.usd


# Each entry: the figure, where it was read, and when (YYYY-MM-DD). "unconfirmed" marks a
# figure no stored copy of the provider's own page gives: the nearest documented one.
PRICES: Mapping[tuple[str, str], Price] = {
    # Gemini image output is billed per output token; these are per-image figures.
    # 3 Pro Image: 1120 tokens up to 2K, 2000 at 4K (ai.google.dev/gemini-api/docs/pricing,
    # read 2026-11-21 for the preview id; the GA id is billed alike per the same page).
    ("gemini", "gemini-3-pro-image"): Price(
        0.134,
        "image",
        {"4K": 0.24},
        source="ai.google.dev/gemini-api/docs/pricing",
        as_of="2026-11-21",
    ),
    # 3.1 Flash Image: $0.067 per 1K image — secondary (HeyPuter/puter PR #2562 cost
    # map, for the -preview id), read 2026-11-30; unconfirmed on Google's page.
    ("gemini", "gemini-3.1-flash-image"): Price(
        0.067, "image", source="secondary: HeyPuter/puter PR #2562 cost map", as_of="2026-11-30"
    ),
    # 3.1 Flash Lite Image: no figure in the stored sources; 2.5 Flash Image's (an upper
    # bound: Lite is the cheaper tier), 2026-11-30, unconfirmed.
    ("gemini", "gemini-3.1-flash-lite-image"): Price(
        0.039, "image", source="unconfirmed: 2.5 Flash Image's figure", as_of="2026-11-30"
    ),
    # 2.5 Flash Image: 1290 tokens per image (pricing page, read 2026-11-21).
    ("gemini", "gemini-2.5-flash-image"): Price(
        0.039, "image", source="ai.google.dev/gemini-api/docs/pricing", as_of="2026-11-21"
    ),
    # Veo 3.1 with audio, per second of video (pricing page, read 2026-11-21).
    ("veo", "veo-3.1-generate-preview"): Price(
        0.40, "second", source="ai.google.dev/gemini-api/docs/pricing", as_of="2026-11-21"
    ),
    ("veo", "veo-3.1-fast-generate-preview"): Price(
        0.15, "second", source="ai.google.dev/gemini-api/docs/pricing", as_of="2026-11-21"
    ),
    # Gemini Omni Flash 1.1, per second by resolution: secondary (muapi.ai
    # gemini-omni-text-to-video, read 2026-11-30; Google's pricing page not in the stored
    # copies): 360p $0.039, 720p $0.13, 1080p $0.195, 4K $0.39.
    ("veo", "gemini-omni-1.1-flash"): Price(
        0.13,
        "second",
        {"360p": 0.039, "1080p": 0.195, "4k": 0.39},
        source="secondary: muapi.ai gemini-omni-text-to-video",
        as_of="2026-11-30",
    ),
    # ElevenLabs API (elevenlabs.io/pricing/api, read 2026-11-21): speech per character
    # ($0.10 or $0.05 per 1,000), sound effects per generation, music per second.
    ("elevenlabs", "eleven_text_to_sound_v2"): Price(
        0.12, "generation", source="elevenlabs.io/pricing/api", as_of="2026-11-21"
    ),
    ("elevenlabs", "eleven_multilingual_v2"): Price(
        0.0001, "character", source="elevenlabs.io/pricing/api", as_of="2026-11-21"
    ),
    ("elevenlabs", "eleven_v3"): Price(
        0.0001, "character", source="elevenlabs.io/pricing/api", as_of="2026-11-21"
    ),
    ("elevenlabs", "eleven_flash_v2_5"): Price(
        0.00005, "character", source="elevenlabs.io/pricing/api", as_of="2026-11-21"
    ),
    ("elevenlabs", "music_v1"): Price(
        0.005, "second", source="elevenlabs.io/pricing/api", as_of="2026-11-21"
    ),
    # Newer ElevenLabs models (SDK enums, 2026-11-30). v4: $0.08 per 1,000 characters per
    # a reseller quoting the official price (muapi.ai elevenlabs-v4, 2026-11-30,
    # secondary); the others have no figure in the stored sources and carry their
    # predecessor's (unconfirmed).
    ("elevenlabs", "eleven_v4"): Price(
        0.00008, "character", source="secondary: muapi.ai elevenlabs-v4", as_of="2026-11-30"
    ),
    ("elevenlabs", "eleven_v4_turbo"): Price(
        0.0001, "character", source="unconfirmed: eleven_v3's figure", as_of="2026-11-30"
    ),
    ("elevenlabs", "eleven_text_to_sound_v3"): Price(
        0.12, "generation", source="unconfirmed: sound effects v2's figure", as_of="2026-11-30"
    ),
    ("elevenlabs", "music_v2_5"): Price(
        0.005, "second", source="unconfirmed: music_v1's figure", as_of="2026-11-30"
    ),
    # Lyria through the Gemini API, per generated song (pricing page, read 2026-11-21).
    ("lyria", "lyria-3-clip-preview"): Price(
        0.04, "song", source="ai.google.dev/gemini-api/docs/pricing", as_of="2026-11-21"
    ),
    # lyria-3.5: no figure in the stored sources; Lyria 3 Pro's (the model it
    # supersedes), 2026-11-30, unconfirmed.
    ("lyria", "lyria-3.5"): Price(
        0.08, "song", source="unconfirmed: Lyria 3 Pro's figure", as_of="2026-11-30"
    ),
    ("lyria", "lyria-3-pro-preview"): Price(
        0.08, "song", source="ai.google.dev/gemini-api/docs/pricing", as_of="2026-11-21"
    ),
}


def price(provider: str, model: str) -> Price:
    try:
        return PRICES[(provider, model)]
    except KeyError:
        raise KeyError(f"no price for {provider}/{model} in workers/prices.py") from None


def estimate(provider: str, model: str, units: float, size: str | None = None) -> CostEstimate:
    """The cost of ``units`` of ``model``'s unit, noted with the model and the table's date."""
    p = price(provider, model)
    usd = round(p.per_unit(size) * units, 6)
    return CostEstimate(usd, units, p.unit, f"{model}, prices as of {PRICES_AS_OF}")
