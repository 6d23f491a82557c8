"""The dated price table every cloud provider's ``estimate_cost`` reads.

List prices in US dollars for pay-as-you-go API use, gathered from the providers'
public pricing pages (ai.google.dev/gemini-api/docs/pricing, elevenlabs.io/pricing/api)
and dated by :data:`PRICES_AS_OF`. They are estimates shown before a generation runs
and recorded in usage events; the provider's invoice (free tiers, plan credits, taxes)
is what really counts. Update the figures and the date together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from workers.base import CostEstimate

PRICES_AS_OF = "2026-11-21"


@dataclass(frozen=True, slots=True)
class Price:
    """``usd`` per ``unit``; ``by_size`` overrides ``usd`` for some sizes (e.g. 4K images)."""

    usd: float
    unit: str
    by_size: Mapping[str, float] | None = None

    def per_unit(self, size: str | None = None) -> float:
        if size is not None and self.by_size and size in self.by_size:
            return self.by_size[size]
        return self.usd


PRICES: Mapping[tuple[str, str], Price] = {
    # Gemini image output is billed per output token; these are the per-image figures
    # the pricing page gives (1290 tokens at 1K/2K for 2.5 Flash Image; 3 Pro Image
    # 1120 tokens up to 2K, 2000 tokens at 4K). Reference images (input) are not counted.
    ("gemini", "gemini-2.5-flash-image"): Price(0.039, "image"),
    ("gemini", "gemini-3-pro-image-preview"): Price(0.134, "image", {"4K": 0.24}),
    # Veo 3.1 with audio, per second of video (720p and 1080p cost the same).
    ("veo", "veo-3.1-generate-preview"): Price(0.40, "second"),
    ("veo", "veo-3.1-fast-generate-preview"): Price(0.15, "second"),
    # ElevenLabs API: speech per character ($0.10 or $0.05 per 1,000), sound
    # effects per generation, music per second ($0.30 per minute).
    ("elevenlabs", "eleven_text_to_sound_v2"): Price(0.12, "generation"),
    ("elevenlabs", "eleven_multilingual_v2"): Price(0.0001, "character"),
    ("elevenlabs", "eleven_v3"): Price(0.0001, "character"),
    ("elevenlabs", "eleven_flash_v2_5"): Price(0.00005, "character"),
    ("elevenlabs", "music_v1"): Price(0.005, "second"),
    # Lyria 3 through the Gemini API, per generated song.
    ("lyria", "lyria-3-clip-preview"): Price(0.04, "song"),
    ("lyria", "lyria-3-pro-preview"): Price(0.08, "song"),
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
