"""The local provider's pure pieces: prompt reading, layout math, seeds."""

from __future__ import annotations

import pytest

from workers.local_audio import parse_sfx
from workers.local_audio_edit import parse_audio_ops, parse_mix_mode
from workers.local_common import lookup, stable_seed, stems, words
from workers.local_draw import layout
from workers.local_image import grid_shape, nearest_aspect
from workers.local_music import chord_notes, melody, parse_music
from workers.local_prompt import (
    COLOURS,
    SHAPE_KINDS,
    ImageOp,
    hex_rgb,
    parse_composition,
    parse_derive_layout,
    parse_image_ops,
    parse_palette,
    parse_scene,
    parse_shapes,
)
from workers.local_video import camera, frame_count, video_dimensions
from workers.local_voice import dialogue_lines, natural_seconds, segments, syllables


def warmth(rgb: tuple[int, int, int]) -> int:
    return rgb[0] - rgb[2]


# ---- words -------------------------------------------------------------------------


def test_stable_seed_is_stable_and_sensitive() -> None:
    assert stable_seed("a", 1) == stable_seed("a", 1)
    assert stable_seed("a", 1) != stable_seed("a", 2)
    assert stable_seed("ab", "c") != stable_seed("a", "bc")
    assert 0 <= stable_seed("x") < 2**63


def test_words_and_stems() -> None:
    assert words("A Neon-lit 8-bit CITY!") == ["a", "neon-lit", "8-bit", "city"]
    assert "star" in stems("stars")
    assert "berry" in stems("berries")
    assert "sun" in stems("sun-lit") and "lit" in stems("sun-lit")
    assert lookup({"neon": "neon"}, "a neon-lit street") == ["neon"]


def test_lookup_keeps_prompt_order_and_phrases() -> None:
    table = {"sun": "circle", "tree": "triangle", "black and white": "grayscale"}
    assert lookup(table, "trees under the sun") == ["triangle", "circle"]
    assert lookup(table, "a black and white photo of trees") == ["grayscale", "triangle"]
    assert lookup(table, "nothing here") == []


# ---- palette, shapes, composition ------------------------------------------------


def test_mood_words_choose_palettes() -> None:
    sunset = parse_palette("a sunset over the hills")
    forest = parse_palette("deep forest")
    ice = parse_palette("ice cave")
    assert sunset.sources[0] == "sunset"
    assert sum(warmth(c) for c in sunset.accents) > 0  # warm oranges
    assert all(c[1] >= max(c[0], c[2]) - 40 for c in forest.accents[:3])  # greens
    assert sum(warmth(c) for c in ice.accents) < 0  # blues


def test_named_colours_come_first() -> None:
    pal = parse_palette("a red ball and a blue box")
    assert pal.accents[:2] == (hex_rgb(COLOURS["red"]), hex_rgb(COLOURS["blue"]))
    assert "red" in pal.sources and "blue" in pal.sources
    assert sum(pal.top) < sum(pal.accents[0])  # dark background so the colour reads


def test_unknown_prompts_hash_to_different_palettes() -> None:
    a, b = parse_palette("a cozy cat"), parse_palette("an old violin")
    assert a.sources[0].startswith("hash:")
    assert a != b
    assert parse_palette("a cozy cat") == a
    assert len(a.hex()) == 2 + len(a.accents)


def test_shapes_follow_nouns() -> None:
    assert parse_shapes("the sun over mountains") == ("circle", "triangle")
    assert parse_shapes("city skyline by the river") == ("rect", "wave")
    assert parse_shapes("stars and a moon") == ("star", "circle")
    hashed = parse_shapes("zyxwv")
    assert len(hashed) == 2 and set(hashed) <= set(SHAPE_KINDS)


def test_composition_words() -> None:
    assert parse_composition("portrait of a knight") == "centered"
    assert parse_composition("wide landscape") == "thirds"
    assert parse_composition("seamless pattern") == "scattered"
    assert parse_composition("mountains") == "thirds"
    assert parse_composition("qwerty") in ("centered", "thirds", "scattered")


def test_scene_seed_changes_layout_not_palette() -> None:
    a, b = parse_scene("sun", 1), parse_scene("sun", 2)
    assert a.palette == b.palette and a.seed != b.seed
    assert parse_scene("sun", 1, "scattered").composition == "scattered"


@pytest.mark.parametrize("composition", ["centered", "thirds", "scattered"])
@pytest.mark.parametrize("aspect", [1.0, 16 / 9, 9 / 16])
def test_layout_is_deterministic_far_first_and_on_canvas(composition: str, aspect: float) -> None:
    spec = parse_scene("sun mountain city sea stars flower", 3, composition)
    items = layout(spec, aspect)
    assert items == layout(spec, aspect)
    assert len(items) >= 3
    depths = [it.depth for it in items]
    assert depths == sorted(depths, reverse=True)
    assert all(-0.3 <= it.x <= 1.3 and -0.3 <= it.y <= 1.3 for it in items)


# ---- refine / derive words ---------------------------------------------------------


def test_image_ops_in_prompt_order_with_tints() -> None:
    ops = parse_image_ops("make it darker, then mirror it, with a blue tint")
    assert [op.name for op in ops] == ["darker", "mirror", "tint"]
    assert ops[2].color == hex_rgb(COLOURS["blue"])
    assert parse_image_ops("black and white sketch") == (ImageOp("grayscale"), ImageOp("sketch"))
    assert [op.name for op in parse_image_ops("something else")] == ["tint", "contrast"]


def test_derive_layout_words() -> None:
    assert parse_derive_layout("a collage of these", 3) == "grid"
    assert parse_derive_layout("blend them", 3) == "blend"
    assert parse_derive_layout("side by side", 2) == "strip"
    assert parse_derive_layout("anything", 1) == "blend"


def test_grid_shape_fits_all_tiles() -> None:
    for n in range(1, 15):
        for aspect in (1.0, 16 / 9, 9 / 16):
            cols, rows = grid_shape(n, aspect, 1.0)
            assert cols * rows >= n  # every tile has a cell
            assert (rows - 1) * cols < n  # and no row is empty
    assert grid_shape(4, 1.0, 1.0) == (2, 2)
    assert grid_shape(3, 3.0, 1.0) == (3, 1)


def test_nearest_aspect() -> None:
    offered = ("1:1", "16:9", "9:16", "4:3")
    assert nearest_aspect(800, 600, offered) == "4:3"
    assert nearest_aspect(1920, 1000, offered) == "16:9"
    assert nearest_aspect(500, 1000, offered) == "9:16"


# ---- audio words ---------------------------------------------------------------------


def test_sfx_words() -> None:
    assert parse_sfx("a big explosion then a laser") == ("explosion", "laser")
    assert parse_sfx("coin pickup") == ("coin",)
    assert len(parse_sfx("qwerty")) == 1


def test_music_words() -> None:
    sad = parse_music("a slow sad piano song")
    fast = parse_music("fast upbeat happy chiptune")
    assert sad.minor and sad.tempo < 90 and sad.lead == "pluck"
    assert not fast.minor and fast.tempo >= 132 and fast.lead == "square"
    assert not parse_music("ambient drone").drums
    assert parse_music("x", 1) == parse_music("x", 1)
    assert sad.key.endswith("minor")


def test_chords_and_melody_stay_in_key() -> None:
    spec = parse_music("happy tune", 4)
    scale = (
        {(spec.root + s) % 12 for s in (0, 2, 4, 5, 7, 9, 11)}
        if not spec.minor
        else {(spec.root + s) % 12 for s in (0, 2, 3, 5, 7, 8, 10)}
    )
    notes = melody(spec, 8)
    assert notes and all(m % 12 in scale for _, _, m in notes)
    assert all(0 <= s < 32 for s, _, _ in notes)
    assert notes[: len(notes) // 2][:4] == notes[:4]  # phrase A opens
    assert all(n % 12 in scale for n in chord_notes(spec, 4))


def test_audio_ops_and_mix_words() -> None:
    assert parse_audio_ops("reverse it with echo, slower") == ("reverse", "echo", "slower")
    assert parse_audio_ops("lo-fi radio") == ("lofi",)
    assert parse_audio_ops("hmm") == ("echo", "muffle")
    assert parse_mix_mode("first this then that") == "chain"
    assert parse_mix_mode("layer them") == "mix"


def test_syllables_and_segments_follow_text() -> None:
    assert [v for _, v, _ in syllables("banana")] == ["a", "a", "a"]
    assert syllables("strength") == [("str", "e", "ngth")]
    assert len(syllables("日本")) == 2
    short, long = natural_seconds("Hi."), natural_seconds("Hello there, how are you doing today?")
    assert long > short * 3
    marks = [s.mark for s in segments("One. Two?") if s.mark]
    assert marks == [".", "?"]


def test_dialogue_lines() -> None:
    assert dialogue_lines("A: hello\nB: hi there") == [("A", "hello"), ("B", "hi there")]
    assert dialogue_lines("Knight: Halt!\nThief: Never.\nKnight: Then fight.") == [
        ("Knight", "Halt!"), ("Thief", "Never."), ("Knight", "Then fight."),
    ]  # fmt: skip
    assert [w for w, _ in dialogue_lines("Hello there. General Kenobi.")] == ["A", "B"]


# ---- video math ----------------------------------------------------------------------


def test_video_dimensions() -> None:
    assert video_dimensions("16:9", 360) == (640, 360)
    assert video_dimensions("9:16", 480) == (480, 852)
    assert video_dimensions("1:1", 720) == (720, 720)
    assert video_dimensions("4:3", 360) == (480, 360)
    assert frame_count(4) == 96 and frame_count(2.5) == 60


def test_camera_starts_on_the_whole_source_and_stays_inside() -> None:
    size = (755, 425)
    assert camera(0.0, size, 1) == (0.0, 0.0, 755.0, 425.0)
    for t in (0.25, 0.5, 1.0):
        x0, y0, x1, y1 = camera(t, size, 1)
        assert 0 <= x0 < x1 <= 755 and 0 <= y0 < y1 <= 425
    assert camera(1.0, size, 1, zoom_in=False) == (0.0, 0.0, 755.0, 425.0)
