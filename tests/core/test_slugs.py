"""Slugs of new assets: unique, and found in O(log n) lookups however many share a name."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from studio.clock import unique_slug
from studio.core import commands as c
from studio.core.space import Space
from tests.conftest import OWNER


class Taken:
    def __init__(self, slugs: set[str]) -> None:
        self.slugs = slugs
        self.calls = 0

    def __call__(self, slug: str) -> bool:
        self.calls += 1
        return slug in self.slugs


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 8, 100, 5000, 100_000])
def test_the_next_suffix_is_found_in_logarithmic_lookups(n: int) -> None:
    taken = Taken({"hero"} | {f"hero-{i}" for i in range(2, n + 2)} if n else set())
    expected = f"hero-{n + 2}" if n else "hero"
    assert unique_slug("hero", taken) == expected  # the smallest free one, as before
    assert taken.calls <= 2 * math.log2(n + 2) + 3


def test_gaps_and_hand_made_suffixes_still_give_a_free_slug() -> None:
    for slugs in (
        {"hero", "hero-2", "hero-3", "hero-5", "hero-6", "hero-7", "hero-8"},
        {"hero", "hero-4", "hero-8", "hero-16"},
        {"hero", *{f"hero-{i}" for i in range(2, 1000) if i % 97}},
    ):
        slug = unique_slug("hero", Taken(slugs))
        assert slug not in slugs and slug.startswith("hero-")


def test_many_assets_of_one_name_get_distinct_slugs_with_few_lookups(
    space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.handlers.common as common

    for _ in range(300):
        space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), OWNER)
    # an asset whose own name ends in a number takes a slug inside the run
    space.apply(c.CreateAsset(name="Hero 400", media_kind=c.MediaKindName.IMAGE), OWNER)
    lookups: list[str] = []

    def counting(base: str, taken: Callable[[str], bool]) -> str:
        return unique_slug(base, lambda s: lookups.append(s) or taken(s))

    monkeypatch.setattr(common, "unique_slug", counting)
    space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), OWNER)
    slugs = [a.slug for a in space.snapshot().assets]
    assert len(slugs) == len(set(slugs)) == 302
    assert slugs[-1] == "hero-301" and "hero-400" in slugs
    assert 1 <= len(lookups) <= 2 * math.log2(302) + 3
