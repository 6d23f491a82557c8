"""Reading a prompt as a picture: palette, shapes, composition, and refine transforms.

All pure: text (and a seed) in, frozen records out. The image, video and derive
renderers draw what these functions decide, so a recipe's picture can be
explained from its prompt (the choices are returned in provider metadata).
"""

from __future__ import annotations

import colorsys
from dataclasses import dataclass

from workers.local_common import lookup, pick, stable_seed, words

RGB = tuple[int, int, int]


def hex_rgb(code: str) -> RGB:
    code = code.lstrip("#")
    return (int(code[0:2], 16), int(code[2:4], 16), int(code[4:6], 16))


def rgb_hex(color: RGB) -> str:
    return "#{:02x}{:02x}{:02x}".format(*color)


def hsv(h: float, s: float, v: float) -> RGB:
    r, g, b = colorsys.hsv_to_rgb(h % 1.0, min(1.0, max(0.0, s)), min(1.0, max(0.0, v)))
    return (round(r * 255), round(g * 255), round(b * 255))


# Named colours a prompt may use (values picked to read well on screen).
COLOURS: dict[str, str] = {
    "red": "#d7263d", "crimson": "#a4133c", "scarlet": "#ff2400", "orange": "#f77f00",
    "amber": "#ffbf00", "yellow": "#fcd116", "gold": "#d4af37", "golden": "#e6b422",
    "lime": "#a7e22e", "green": "#2e9e44", "emerald": "#1f9e6e", "olive": "#708238",
    "teal": "#128c8c", "turquoise": "#30d5c8", "cyan": "#00c8e8", "aqua": "#4fe3e3",
    "blue": "#1f5fd1", "azure": "#3a8dde", "navy": "#14213d", "indigo": "#3f2a8c",
    "purple": "#7b2cbf", "violet": "#8f5fd7", "lavender": "#b497e7", "magenta": "#e0218a",
    "pink": "#ff7eb6", "rose": "#e75480", "brown": "#7b4b2a", "tan": "#d2b48c",
    "beige": "#e8dcc0", "black": "#111111", "white": "#f4f4f2", "grey": "#8a8d91",
    "gray": "#8a8d91", "silver": "#c0c4cc", "copper": "#b87333", "bronze": "#a97142",
}  # fmt: skip

# Mood palettes: (background top, background bottom, accents...).
MOODS: dict[str, tuple[str, ...]] = {
    "sunset": ("#2b1055", "#ff7e5f", "#feb47b", "#ff5e62", "#ffd26f", "#7a2a6b"),
    "fire": ("#1a0500", "#7a1600", "#ff6a00", "#ffb700", "#ff2d00", "#ffe29a"),
    "forest": ("#0b2a1a", "#2d5a27", "#6aa84f", "#a3d977", "#38761d", "#c9b37e"),
    "ice": ("#cfe8ff", "#6fa8dc", "#ffffff", "#9fc5e8", "#3d85c6", "#e3f2fd"),
    "night": ("#02030f", "#14213d", "#3a5a9c", "#fca311", "#e5e5e5", "#5e60ce"),
    "neon": ("#0b0221", "#24004a", "#ff2a6d", "#05d9e8", "#d1f7ff", "#f5d300"),
    "ocean": ("#023047", "#219ebc", "#8ecae6", "#ffb703", "#126782", "#e0fbfc"),
    "desert": ("#f4d58d", "#bf8b30", "#8d5524", "#e07a5f", "#f2cc8f", "#3d405b"),
    "autumn": ("#3e1f0d", "#a0522d", "#d2691e", "#ffb347", "#8b0000", "#e9c46a"),
    "spring": ("#e0f7e9", "#b8e0d2", "#ff9ecd", "#ffd6a5", "#95d5b2", "#caffbf"),
    "pastel": ("#fdf0ff", "#d8e2ff", "#ffc8dd", "#bde0fe", "#cdb4db", "#fdffb6"),
    "dark": ("#050505", "#1d1d24", "#5c0f1a", "#7a7a85", "#2f3e46", "#c1121f"),
    "royal": ("#10002b", "#3c096c", "#d4af37", "#9d4edd", "#f7e7a1", "#5a189a"),
    "toxic": ("#0d1b0a", "#1b3a12", "#9ef01a", "#ccff33", "#70e000", "#38b000"),
    "space": ("#000005", "#0d0630", "#8b5cf6", "#f0abfc", "#e0e7ff", "#38bdf8"),
    "candy": ("#ffe5ec", "#ffc2d1", "#ff4d6d", "#80ffdb", "#ffd60a", "#a2d2ff"),
    "steampunk": ("#2b1d12", "#5e3b1e", "#b87333", "#d4a373", "#e9c46a", "#6c584c"),
}

MOOD_WORDS: dict[str, str] = {
    "sunset": "sunset", "sunrise": "sunset", "dusk": "sunset", "dawn": "sunset",
    "evening": "sunset", "warm": "sunset", "fire": "fire", "flame": "fire", "lava": "fire",
    "volcano": "fire", "inferno": "fire", "burning": "fire", "forest": "forest",
    "jungle": "forest", "tree": "forest", "grass": "forest", "nature": "forest",
    "ice": "ice", "snow": "ice", "winter": "ice", "frozen": "ice", "frost": "ice",
    "cold": "ice", "arctic": "ice", "night": "night", "midnight": "night",
    "moon": "night", "neon": "neon", "cyberpunk": "neon", "cyber": "neon",
    "synthwave": "neon", "ocean": "ocean", "sea": "ocean", "beach": "ocean",
    "underwater": "ocean", "lake": "ocean", "river": "ocean", "desert": "desert",
    "sand": "desert", "dune": "desert", "autumn": "autumn", "fall": "autumn",
    "harvest": "autumn", "spring": "spring", "bloom": "spring", "meadow": "spring",
    "pastel": "pastel", "soft": "pastel", "dreamy": "pastel", "dark": "dark",
    "horror": "dark", "gloomy": "dark", "grim": "dark", "haunted": "dark",
    "royal": "royal", "king": "royal", "queen": "royal", "treasure": "royal",
    "toxic": "toxic", "poison": "toxic", "slime": "toxic", "radioactive": "toxic",
    "space": "space", "galaxy": "space", "cosmic": "space", "nebula": "space",
    "candy": "candy", "sweet": "candy", "cute": "candy", "steampunk": "steampunk",
    "brass": "steampunk", "clockwork": "steampunk",
}  # fmt: skip

SHAPE_KINDS: tuple[str, ...] = (
    "circle", "triangle", "rect", "wave", "star", "diamond", "cloud", "flower", "ring",
    "spiral", "lines",
)  # fmt: skip

SHAPE_WORDS: dict[str, str] = {
    "circle": "circle", "sun": "circle", "sunset": "circle", "sunrise": "circle",
    "moon": "circle", "planet": "circle", "ball": "circle", "orb": "circle",
    "bubble": "circle", "eye": "circle", "coin": "circle", "apple": "circle",
    "dot": "circle", "sphere": "circle", "wheel": "circle", "mountain": "triangle",
    "tree": "triangle", "pine": "triangle", "pyramid": "triangle", "peak": "triangle",
    "tent": "triangle", "volcano": "triangle", "hill": "triangle", "spike": "triangle",
    "triangle": "triangle", "city": "rect", "building": "rect", "tower": "rect",
    "skyscraper": "rect", "house": "rect", "box": "rect", "crate": "rect",
    "wall": "rect", "castle": "rect", "block": "rect", "robot": "rect", "square": "rect",
    "skyline": "rect", "wave": "wave", "sea": "wave", "ocean": "wave", "river": "wave",
    "water": "wave", "lake": "wave", "beach": "wave", "wind": "wave", "dune": "wave",
    "star": "star", "sparkle": "star", "galaxy": "star", "night": "star",
    "magic": "star", "crystal": "diamond", "gem": "diamond", "diamond": "diamond",
    "jewel": "diamond", "ice": "diamond", "shard": "diamond", "cloud": "cloud",
    "sky": "cloud", "storm": "cloud", "smoke": "cloud", "fog": "cloud", "flower": "flower",
    "rose": "flower", "blossom": "flower", "garden": "flower", "petal": "flower",
    "ring": "ring", "portal": "ring", "halo": "ring", "donut": "ring", "target": "ring",
    "spiral": "spiral", "vortex": "spiral", "swirl": "spiral", "whirlpool": "spiral",
    "shell": "spiral", "rain": "lines", "line": "lines", "stripe": "lines",
    "laser": "lines", "grass": "lines", "speed": "lines", "lightning": "lines",
}  # fmt: skip

COMPOSITION_WORDS: dict[str, str] = {
    "portrait": "centered", "character": "centered", "face": "centered",
    "hero": "centered", "icon": "centered", "logo": "centered", "item": "centered",
    "emblem": "centered", "badge": "centered", "avatar": "centered", "closeup": "centered",
    "centered": "centered", "sprite": "centered", "landscape": "thirds",
    "scene": "thirds", "vista": "thirds", "horizon": "thirds", "panorama": "thirds",
    "scenery": "thirds", "view": "thirds", "environment": "thirds", "pattern": "scattered",
    "texture": "scattered", "tile": "scattered", "seamless": "scattered",
    "wallpaper": "scattered", "scattered": "scattered", "confetti": "scattered",
    "swarm": "scattered", "many": "scattered", "field": "scattered",
}  # fmt: skip

COMPOSITIONS: tuple[str, ...] = ("centered", "thirds", "scattered")


@dataclass(frozen=True, slots=True)
class Palette:
    """Colours of a picture: a vertical background gradient and shape accents."""

    top: RGB
    bottom: RGB
    accents: tuple[RGB, ...]
    sources: tuple[str, ...]  # the words (or "hash") the colours came from

    def hex(self) -> list[str]:
        return [rgb_hex(c) for c in (self.top, self.bottom, *self.accents)]


@dataclass(frozen=True, slots=True)
class SceneSpec:
    """What to draw for a prompt: colours, shape kinds (most important first), layout."""

    palette: Palette
    shapes: tuple[str, ...]
    composition: str
    seed: int


def _hashed_palette(seed: int) -> Palette:
    h = (seed % 360) / 360.0
    scheme = pick(seed, ("analogous", "complementary", "triadic", "split"), "scheme")
    offsets = {
        "analogous": (0.0, 0.08, -0.08, 0.16),
        "complementary": (0.0, 0.5, 0.04, 0.54),
        "triadic": (0.0, 1 / 3, 2 / 3, 0.05),
        "split": (0.0, 0.42, 0.58, 0.1),
    }[scheme]
    light = stable_seed(seed, "light") % 3 == 0
    top = hsv(h + 0.55, 0.35, 0.92) if light else hsv(h + 0.6, 0.55, 0.16)
    bottom = hsv(h + 0.5, 0.3, 0.75) if light else hsv(h + 0.52, 0.6, 0.42)
    accents = tuple(
        hsv(h + o, 0.65 + 0.1 * (i % 2), 0.95 - 0.12 * (i % 3)) for i, o in enumerate(offsets)
    )
    return Palette(top, bottom, accents, ("hash:" + scheme,))


def _shade(color: RGB, factor: float) -> RGB:
    r, g, b = (c / 255 for c in color)
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    return hsv(h, s * (0.9 if factor < 1 else 0.7), v * factor if factor < 1 else min(1, v + 0.3))


def parse_palette(prompt: str, seed: int = 0) -> Palette:
    """Colours from mood words ("sunset", "forest", "neon"…) and colour names; a
    hashed harmonious palette when the prompt names neither."""
    moods = lookup(MOOD_WORDS, prompt)
    named = [hex_rgb(COLOURS[c]) for c in lookup({k: k for k in COLOURS}, prompt)]
    if moods:
        base = MOODS[moods[0]]
        top, bottom = hex_rgb(base[0]), hex_rgb(base[1])
        accents = [hex_rgb(c) for m in moods for c in MOODS[m][2:]]
    elif named:
        # Background: the first named colour, deep and dark, so it still reads.
        top, bottom = _shade(named[0], 0.22), _shade(named[0], 0.5)
        accents = [_shade(c, 1.3) for c in named]
        accents += _hashed_palette(stable_seed(prompt, seed)).accents[: max(0, 3 - len(named))]
    else:
        return _hashed_palette(stable_seed(prompt))
    accents = named + [a for a in accents if a not in named]
    sources = tuple(moods) + tuple(c for c in lookup({k: k for k in COLOURS}, prompt))
    return Palette(top, bottom, tuple(dict.fromkeys(accents))[:8], sources)


def parse_shapes(prompt: str) -> tuple[str, ...]:
    """Shape kinds hinted by nouns, most important (first mentioned) first; two
    hashed kinds when nothing is hinted."""
    found = lookup(SHAPE_WORDS, prompt)
    if found:
        return tuple(found[:4])
    seed = stable_seed(prompt, "shapes")
    first = SHAPE_KINDS[seed % len(SHAPE_KINDS)]
    rest = [k for k in SHAPE_KINDS if k != first]
    return (first, rest[(seed >> 8) % len(rest)])


def parse_composition(prompt: str) -> str:
    """ "centered", "thirds" (rule of thirds) or "scattered", from words or the hash."""
    found = lookup(COMPOSITION_WORDS, prompt)
    if found:
        return found[0]
    if lookup(SHAPE_WORDS, prompt)[:1] in (["wave"], ["triangle"], ["rect"]):
        return "thirds"
    return COMPOSITIONS[stable_seed(prompt, "composition") % 3]


def parse_scene(prompt: str, seed: int = 0, composition: str | None = None) -> SceneSpec:
    """Everything the renderer needs from a prompt; ``composition`` overrides the words."""
    return SceneSpec(
        palette=parse_palette(prompt, seed),
        shapes=parse_shapes(prompt),
        composition=composition or parse_composition(prompt),
        seed=stable_seed(prompt, seed, "scene"),
    )


# ---- refine transforms -------------------------------------------------------

IMAGE_OP_WORDS: dict[str, str] = {
    "darker": "darker", "darken": "darker", "dim": "darker", "dimmer": "darker",
    "shadowy": "darker", "brighter": "brighter", "brighten": "brighter",
    "lighter": "brighter", "lighten": "brighter", "warmer": "warmer", "warm": "warmer",
    "cooler": "cooler", "cool": "cooler", "colder": "cooler", "cold": "cooler",
    "blur": "blur", "blurry": "blur", "blurred": "blur", "soft": "blur", "softer": "blur",
    "dreamy": "blur", "sharpen": "sharpen", "sharper": "sharpen", "crisp": "sharpen",
    "sharp": "sharpen", "invert": "invert", "inverted": "invert", "negative": "invert",
    "mirror": "mirror", "mirrored": "mirror", "flip": "mirror", "upside down": "flip",
    "vertical flip": "flip", "pixelate": "pixelate", "pixelated": "pixelate",
    "pixel": "pixelate", "8-bit": "pixelate", "sketch": "sketch", "edges": "sketch",
    "edge": "sketch", "outline": "sketch", "line art": "sketch", "drawing": "sketch",
    "vintage": "sepia", "sepia": "sepia", "old": "sepia", "retro": "sepia",
    "grayscale": "grayscale", "greyscale": "grayscale", "monochrome": "grayscale",
    "black and white": "grayscale", "contrast": "contrast", "punchy": "contrast",
    "dramatic": "contrast", "saturated": "saturate", "vivid": "saturate",
    "vibrant": "saturate", "colorful": "saturate", "desaturate": "desaturate",
    "muted": "desaturate", "faded": "desaturate", "washed": "desaturate",
    "posterize": "posterize", "comic": "posterize", "cartoon": "posterize",
    "poster": "posterize",
}  # fmt: skip

IMAGE_OPS: tuple[str, ...] = (*dict.fromkeys(IMAGE_OP_WORDS.values()), "tint")


@dataclass(frozen=True, slots=True)
class ImageOp:
    """One refine step; ``color`` is set for ``tint``."""

    name: str
    color: RGB | None = None

    def label(self) -> str:
        return f"tint {rgb_hex(self.color)}" if self.color else self.name


def parse_image_ops(prompt: str) -> tuple[ImageOp, ...]:
    """Refine steps in the order the prompt names them; colour names become tints.
    With nothing recognised: a gentle hashed tint plus contrast, so the result is
    still visibly a variant of its source."""
    names = lookup(IMAGE_OP_WORDS, prompt)
    rest = " ".join(words(prompt))
    for phrase in (k for k in IMAGE_OP_WORDS if " " in k):
        rest = rest.replace(phrase, " ")  # "black and white" is not two tints
    tints = [hex_rgb(COLOURS[c]) for c in lookup({k: k for k in COLOURS}, rest)]
    ops = [ImageOp(n) for n in names] + [ImageOp("tint", c) for c in tints]
    if ops:
        return tuple(ops)
    seed = stable_seed(prompt, "refine")
    return (ImageOp("tint", hsv((seed % 360) / 360, 0.6, 0.9)), ImageOp("contrast"))


DERIVE_WORDS: dict[str, str] = {
    "blend": "blend", "merge": "blend", "mix": "blend", "fuse": "blend", "combine": "blend",
    "double exposure": "blend", "overlay": "blend", "grid": "grid", "collage": "grid",
    "tiles": "grid", "tile": "grid", "sheet": "grid", "board": "grid", "mosaic": "grid",
    "strip": "strip", "row": "strip", "side by side": "strip", "lineup": "strip",
    "sequence": "strip",
}  # fmt: skip


def parse_derive_layout(prompt: str, n_refs: int) -> str:
    """How derive composes its references: "blend", "grid" or "strip"."""
    found = lookup(DERIVE_WORDS, prompt)
    if found:
        return found[0]
    if n_refs == 1:
        return "blend"
    return ("grid", "blend")[stable_seed(prompt, "derive") % 2]
