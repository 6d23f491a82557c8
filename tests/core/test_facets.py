"""Facet counts for combined filters (studio.core.facets), kept current by the change log."""

from __future__ import annotations

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.facets import DAY_MS, FacetIndex, FilterSpec, Pick, local_day
from studio.core.space import Space
from studio.core.studio import Studio
from tests.conftest import OWNER, FakeClock, add_asset, add_variant
from tests.sql import write, write_many


def spec(*picks: Pick, words: tuple[str, ...] = ()) -> FilterSpec:
    return FilterSpec(words, frozenset(picks))


def names(space: Space, ids: tuple[str, ...]) -> list[str]:
    return [space.asset(a).name for a in ids]


def fill(space: Space) -> dict[str, str]:
    """Six assets: kinds, types, tags, a star, ratings, a failed and a queued job."""
    ids = {
        "knight": add_asset(space, "Knight", type="character", tags=("hero", "blue"), x=0, y=0),
        "witch": add_asset(space, "Witch", type="character", tags=("villain",), x=300, y=0),
        "sword": add_asset(space, "Sword", type="item", tags=("hero",), x=600, y=0),
        "boom": add_asset(space, "Boom", "audio", type="sfx", tags=("blue",), x=0, y=400),
        "theme": add_asset(space, "Theme", "audio", type="music", x=300, y=400),
        "clip": add_asset(space, "Clip", "video", x=600, y=400),
    }
    star = add_variant(space, ids["knight"], name="knight-pose")
    space.apply(c.StarVariant(star.variant_id), OWNER)
    good = add_variant(space, ids["sword"], name="blade")
    space.apply(c.RateVariant(good.variant_id, c.Rating.APPROVED), OWNER)
    bad = add_variant(space, ids["boom"], name="bang", kind="audio")
    space.apply(c.RateVariant(bad.variant_id, c.Rating.REJECTED), OWNER)
    return ids


def test_counts_for_combined_filters(space: Space) -> None:
    fill(space)
    index = FacetIndex(space.read)
    everything = index.answer(FilterSpec())
    assert everything.total == everything.live == 6
    assert everything.counts["kind"] == {"image": 3, "audio": 2, "video": 1}
    assert everything.counts["tag"] == {"hero": 2, "blue": 2, "villain": 1}
    assert everything.counts["starred"] == {"yes": 1, "no": 5}
    assert everything.counts["rating"] == {"approved": 1, "rejected": 1, "unrated": 4}

    # kind=image AND tag=hero: two assets
    got = index.answer(spec(("kind", "image"), ("tag", "hero")))
    assert names(space, got.ids) == ["Knight", "Sword"]  # reading order
    # kind's counts ignore kind's own pick (what picking another kind would give)...
    assert got.counts["kind"] == {"image": 2, "audio": 0, "video": 0}
    # ...tags are all-of: their counts are within the result
    assert got.counts["tag"] == {"hero": 2, "blue": 1, "villain": 0}
    assert got.counts["type"] == {"character": 1, "item": 1, "sfx": 0, "music": 0, "": 0}

    # two kinds are either-or; with tag=blue: Knight and Boom
    got = index.answer(spec(("kind", "image"), ("kind", "audio"), ("tag", "blue")))
    assert sorted(names(space, got.ids)) == ["Boom", "Knight"]
    assert got.counts["kind"] == {"image": 1, "audio": 1, "video": 0}

    # two tags are both-of
    got = index.answer(spec(("tag", "hero"), ("tag", "blue")))
    assert names(space, got.ids) == ["Knight"]

    # the text and facets together
    got = index.answer(spec(("starred", "no"), words=("s",)))  # Sword, and Boom's sfx
    assert sorted(names(space, got.ids)) == ["Boom", "Sword"]
    got = index.answer(spec(("starred", "yes"), words=("kni",)))
    assert names(space, got.ids) == ["Knight"]
    assert index.answer(spec(("starred", "yes"), words=("sw",))).ids == ()
    got = index.answer(spec(("rating", "approved"), ("rating", "rejected")))
    assert sorted(names(space, got.ids)) == ["Boom", "Sword"]
    assert got.counts["rating"] == {"approved": 1, "rejected": 1, "unrated": 4}
    # a picked value nobody has stays listed with 0
    assert index.answer(spec(("tag", "gone"))).counts["tag"]["gone"] == 0


def test_provider_model_and_job_status(space: Space) -> None:
    queued = space.apply(
        c.RequestGeneration("a red kite", c.MediaKindName.IMAGE, name="Kite"), OWNER
    )
    add_asset(space, "Plain")
    index = FacetIndex(space.read)
    got = index.answer(spec(("status", "queued")))
    assert names(space, got.ids) == ["Kite"]
    assert got.counts["provider"] == {"scripted": 1}
    assert set(got.counts["model"]) == {got_model(space, queued.created["variant_id"])}
    # the job fails: the facet follows (another writer, found through the change log)
    space.apply(
        c.FailVariant(queued.created["variant_id"], "PROVIDER_DOWN", "down"), Actor.system()
    )
    got = index.answer(spec(("status", "failed")))
    assert names(space, got.ids) == ["Kite"]
    assert got.counts["status"] == {"failed": 1}


def got_model(space: Space, variant_id: str) -> str:
    return str(space.variant_detail(variant_id).recipe.get("model") or "")


def test_date_windows(studio: Studio, clock: FakeClock) -> None:
    entry = studio.create_space("Dates")
    with studio.open_space(entry.slug) as space:
        old = add_asset(space, "Old")
        clock.advance(40 * DAY_MS)
        recent = add_asset(space, "Recent")
        clock.advance(3 * DAY_MS)
        new = add_asset(space, "New")
        index = FacetIndex(space.read, clock_ms=lambda: clock.now, utc_offset_s=lambda: 0)
        got = index.answer(FilterSpec())
        assert got.counts["date"] == {"today": 1, "week": 2, "month": 2, "older": 1}
        assert set(index.answer(spec(("date", "week"))).ids) == {recent, new}
        assert index.answer(spec(("date", "older"))).ids == (old,)
        assert local_day(clock.now, 0) == clock.now // DAY_MS


def test_the_index_follows_every_change(space: Space) -> None:
    ids = fill(space)
    index = FacetIndex(space.read)
    index.answer(FilterSpec())
    assert index.refresh() is False  # nothing new
    space.apply(c.UpdateAsset(ids["witch"], tags=("hero",)), OWNER)
    space.apply(c.DeleteAsset(ids["clip"]), OWNER)
    created = add_asset(space, "Hero statue", tags=("hero",), x=900, y=0)
    got = index.answer(spec(("tag", "hero")))
    assert sorted(names(space, got.ids)) == ["Hero statue", "Knight", "Sword", "Witch"]
    assert got.live == 6 and "video" not in got.counts["kind"]  # the only one is gone
    # the text index too: a rename shows at once
    assert index.answer(spec(words=("statue",))).ids == (created,)
    space.apply(c.UpdateAsset(created, name="Hero bust"), OWNER)
    assert index.answer(spec(words=("statue",))).ids == ()
    assert index.answer(spec(words=("bust",))).ids == (created,)
    space.undo(OWNER)
    assert index.answer(spec(words=("statue",))).ids == (created,)
    # a write behind the change log's back (another version, a damaged log) is never
    # seen by a diff: once the log no longer covers the span, everything is read again
    write(space, "UPDATE assets SET type = 'relic' WHERE id = ?", (created,))
    write(
        space,
        "INSERT INTO sync_state (key, value) VALUES ('rows_logged_after', '999999') "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    assert index.answer(spec(("type", "relic"))).ids == (created,)


def _seed_images(space: Space, n: int) -> None:
    """``n`` image assets in a row, written behind the door (fast)."""
    write_many(
        space,
        "INSERT INTO assets (id, slug, name, media_kind, x, y, created_at, updated_at) "
        "VALUES (?, ?, ?, 'image', ?, 0, 1, 1)",
        [(f"a{i}", f"a-{i}", f"A{i}", float(i) * 300) for i in range(n)],
    )


def test_building_the_index_hands_the_gil_over_as_it_goes(
    space: Space, gil_pauses: list[float]
) -> None:
    """A big space's index is seconds of Python on the filter thread: it lets go of the
    CPU every couple of milliseconds while it reads and takes in rows, so the window's
    thread waiting for the GIL gets it back at once (opening a space while another's
    index was being built stalled the window 0.3-0.5 s)."""
    from studio.core import reads

    n = 1200
    _seed_images(space, n)
    index = FacetIndex(space.read)
    assert index.refresh()
    # the taking in looks every YIELD_EVERY rows, the read every slice it fetches
    assert len(gil_pauses) >= n // reads.YIELD_EVERY + 2, len(gil_pauses)
    assert index.answer(FilterSpec()).total == n


def test_a_build_nobody_wants_any_more_stops_and_starts_over_next_time(
    space: Space, gil_pauses: list[float]
) -> None:
    """The filter thread builds a left space's index for seconds at 50,000 assets; its
    ``stop`` ends the build at the next pause, and the index reads every row again at
    its next refresh (nothing half taken in is kept)."""
    from studio.core import reads

    n = 600
    _seed_images(space, n)
    asked: list[bool] = []  # the build looks at ``stop`` at each pause
    left_at = {"ask": 12}  # the space is left while rows are taken in

    def stop() -> bool:
        asked.append(True)
        return len(asked) == left_at["ask"]

    index = FacetIndex(space.read, stop=stop)
    with pytest.raises(reads.Stopped):
        index.refresh()
    assert len(asked) == 12 and index.seq is None
    left_at["ask"] = -1  # wanted again
    assert index.refresh()
    assert index.answer(FilterSpec()).total == n
