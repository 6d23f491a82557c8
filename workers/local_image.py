"""Pictures for the local provider: prompt-shaped scenes, refines and derives.

Everything is deterministic: numpy generators are seeded from the request, and
Pillow's drawing and PNG encoding are exact, so the same request gives the same
PNG bytes.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageEnhance, ImageFilter, ImageOps

from workers.base import ErrorKind, ProviderError
from workers.local_common import Tick, no_tick, stable_seed
from workers.local_draw import Item, draw_item, layout, mix
from workers.local_prompt import RGB, ImageOp, Palette, SceneSpec, parse_derive_layout

REFERENCE_FORMATS = ["PNG", "JPEG", "WEBP", "GIF", "BMP", "TIFF"]
MAX_REFERENCE_PIXELS = 64_000_000  # decompression-bomb guard (8000 × 8000)
FAR = 0.5  # items at least this deep are drawn behind the depth-of-field blur


# ---- reading and writing -------------------------------------------------------


def open_reference(path: Path, max_side: int | None = None) -> Image.Image:
    """A reference image as RGB, refusing formats we don't accept and bombs.
    Transparent pixels are laid on mid grey; EXIF rotation is applied. With
    ``max_side``, bigger images are scaled down to it (JPEGs decode at a lower
    resolution directly), which keeps many large references cheap."""
    try:
        with Image.open(path, formats=REFERENCE_FORMATS) as im:
            w, h = im.size
            if w * h > MAX_REFERENCE_PIXELS:
                raise ProviderError(
                    ErrorKind.INVALID_REQUEST,
                    f"reference image {path.name} is {w}×{h}, over the "
                    f"{MAX_REFERENCE_PIXELS // 1_000_000} MP limit",
                )
            im.seek(0)
            if max_side is not None and max(w, h) > max_side:
                im.draft("RGB", (max_side, max_side))
            out = ImageOps.exif_transpose(im)
            if max_side is not None and max(out.size) > max_side:
                out = out.copy()
                out.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            if out.mode in ("RGBA", "LA", "PA") or "transparency" in out.info:
                rgba = out.convert("RGBA")
                flat = Image.new("RGBA", rgba.size, (128, 128, 128, 255))
                flat.alpha_composite(rgba)
                return flat.convert("RGB")
            return out.convert("RGB")
    except ProviderError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError) as exc:
        raise ProviderError(
            ErrorKind.INVALID_REQUEST, f"reference image {path.name} can't be read ({exc})"
        ) from exc


PNG_LEVEL = 1
"""zlib level of the local provider's PNGs. Measured on its 1024² pictures (2 cores,
2026-12-01): level 1 encodes in ~0.75x the time of level 4 for files within 1 % of the
size (the shapes and gradients compress at once); 6 (Pillow's default) takes 2.5x."""


def encode_png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", compress_level=PNG_LEVEL)
    return buf.getvalue()


def nearest_aspect(width: int, height: int, offered: Sequence[str]) -> str:
    """The offered ``"w:h"`` ratio closest (in log scale) to ``width``/``height``."""
    target = math.log(width / height)

    def distance(ratio: str) -> float:
        w, h = ratio.split(":")
        return abs(math.log(float(w) / float(h)) - target)

    return min(offered, key=distance)


def fit(img: Image.Image, width: int, height: int) -> Image.Image:
    """Cover ``width`` × ``height``: scale and crop around the centre."""
    if img.size == (width, height):
        return img.copy()
    return ImageOps.fit(img, (width, height), Image.Resampling.LANCZOS)


# ---- scenes ----------------------------------------------------------------------


def _glow_point(items: Sequence[Item]) -> tuple[float, float]:
    near = [it for it in items if it.kind not in ("ground", "wave")]
    big = max(near, key=lambda it: it.r, default=None)
    return (big.x, big.y) if big else (0.5, 0.4)


def background(
    palette: Palette, width: int, height: int, seed: int, glow: tuple[float, float]
) -> np.ndarray:
    """A float32 (h, w, 3) gradient with a soft glow, low-frequency noise and a vignette."""
    rng = np.random.default_rng(seed)
    ys = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(0.0, 1.0, width, dtype=np.float32)[None, :]
    tilt = float(rng.uniform(-0.25, 0.25))
    t = np.clip(ys + tilt * (xs - 0.5), 0.0, 1.0)[..., None]
    top = np.array(palette.top, np.float32)
    bottom = np.array(palette.bottom, np.float32)
    img = top + (bottom - top) * t
    aspect = width / height
    d2 = ((xs - glow[0]) * aspect) ** 2 + (ys - glow[1]) ** 2
    glow_rgb = np.array(mix(palette.accents[0], (255, 255, 255), 0.3), np.float32)
    g = (0.45 * np.exp(-d2 / 0.08))[..., None]
    img += (glow_rgb - img) * g
    small = rng.integers(0, 256, size=(5, max(2, round(5 * aspect))), dtype=np.uint8)
    noise = np.asarray(
        Image.fromarray(small, "L").resize((width, height), Image.Resampling.BICUBIC), np.float32
    )
    img += ((noise - 128.0) * 0.12)[..., None]
    vignette = 1.0 - 0.35 * (((xs - 0.5) * 2) ** 2 + ((ys - 0.5) * 2) ** 2) / 2
    img *= vignette[..., None]
    return img


def _to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr + 0.5, 0, 255).astype(np.uint8), "RGB")


def add_grain(img: Image.Image, seed: int, amount: float = 3.0) -> Image.Image:
    rng = np.random.default_rng(seed)
    arr = np.asarray(img, np.float32)
    arr = arr + rng.normal(0.0, amount, size=arr.shape[:2]).astype(np.float32)[..., None]
    return _to_image(arr)


def render_scene(
    spec: SceneSpec,
    width: int,
    height: int,
    *,
    near: bool = True,
    grain: bool = True,
    tick: Tick = no_tick,
) -> Image.Image:
    """The picture for ``spec`` at exactly ``width`` × ``height``. Far shapes sit
    behind a slight blur for depth; ``near=False`` leaves the near shapes out (the
    video animates them itself)."""
    items = layout(spec, width / height)
    # The background is smooth: paint it at most 512 px long, then scale it up.
    k = min(1.0, 512 / max(width, height))
    bw, bh = max(2, round(width * k)), max(2, round(height * k))
    bg = _to_image(background(spec.palette, bw, bh, spec.seed, _glow_point(items)))
    if (bw, bh) != (width, height):
        bg = bg.resize((width, height), Image.Resampling.BICUBIC)
    tick(0.3, "Painting the background")
    draw = ImageDraw.Draw(bg, "RGBA")
    for it in items:
        if it.depth >= FAR:
            draw_item(draw, it, width, height)
    canvas = bg.filter(ImageFilter.GaussianBlur(max(1.0, min(width, height) / 300)))
    tick(0.6, "Drawing shapes")
    if near:
        # Near shapes are drawn at twice the size and reduced (anti-aliasing), up to 1K.
        ss = 2 if max(width, height) <= 1024 else 1
        if ss > 1:
            canvas = canvas.resize((width * ss, height * ss), Image.Resampling.BILINEAR)
        draw = ImageDraw.Draw(canvas, "RGBA")
        for it in items:
            if it.depth < FAR:
                draw_item(draw, it, width * ss, height * ss)
        if ss > 1:
            canvas = canvas.reduce(ss)
    tick(0.85, "Finishing")
    return add_grain(canvas, spec.seed + 7) if grain else canvas


def palette_from_images(images: Sequence[Image.Image], palette: Palette) -> Palette:
    """``palette`` with the dominant colours of style-reference images first."""
    found: list[RGB] = []
    for img in images:
        small = img.copy()
        small.thumbnail((64, 64))
        quant = small.quantize(colors=4, method=Image.Quantize.MEDIANCUT)
        flat = quant.getpalette() or []
        for i in range(4):
            rgb = (
                (flat[3 * i], flat[3 * i + 1], flat[3 * i + 2]) if len(flat) >= 3 * i + 3 else None
            )
            if rgb is not None and rgb not in found:
                found.append(rgb)
    accents = tuple(dict.fromkeys([*found[:6], *palette.accents]))[:8]
    return Palette(palette.top, palette.bottom, accents, (*palette.sources, "references"))


# ---- refine ----------------------------------------------------------------------


def _numpy_op(
    img: Image.Image, scale: tuple[float, float, float], add: tuple[float, float, float]
) -> Image.Image:
    arr = np.asarray(img, np.float32) * np.array(scale, np.float32) + np.array(add, np.float32)
    return _to_image(arr)


def _tint(img: Image.Image, color: RGB, strength: float = 0.35) -> Image.Image:
    arr = np.asarray(img, np.float32)
    lum = (arr @ np.array([0.299, 0.587, 0.114], np.float32))[..., None] / 255.0
    tinted = lum * np.array(color, np.float32) * 1.2
    return _to_image(arr * (1 - strength) + tinted * strength)


def apply_op(img: Image.Image, op: ImageOp) -> Image.Image:
    """One refine step on an RGB image of the output size."""
    short = min(img.size)
    name = op.name
    if name == "darker":
        return ImageEnhance.Brightness(img).enhance(0.6)
    if name == "brighter":
        return ImageEnhance.Brightness(img).enhance(1.4)
    if name == "warmer":
        return _numpy_op(img, (1.1, 1.02, 0.82), (12, 4, 0))
    if name == "cooler":
        return _numpy_op(img, (0.82, 0.98, 1.12), (0, 4, 14))
    if name == "blur":
        return img.filter(ImageFilter.GaussianBlur(max(1.5, short / 120)))
    if name == "sharpen":
        return img.filter(ImageFilter.UnsharpMask(radius=2, percent=180, threshold=2))
    if name == "invert":
        return ImageOps.invert(img)
    if name == "mirror":
        return ImageOps.mirror(img)
    if name == "flip":
        return ImageOps.flip(img)
    if name == "pixelate":
        block = max(2, short // 48)
        w, h = img.size
        small = img.resize((max(1, w // block), max(1, h // block)), Image.Resampling.BOX)
        return small.resize((w, h), Image.Resampling.NEAREST)
    if name == "sketch":
        gray = img.convert("L")
        edges = np.asarray(gray.filter(ImageFilter.FIND_EDGES).filter(ImageFilter.MaxFilter(3)))
        shade = 0.72 + 0.28 * np.asarray(gray, np.float32) / 255  # pencil shading
        paper = (255.0 - np.minimum(255.0, edges.astype(np.float32) * 4)) * shade
        return Image.fromarray(np.clip(paper + 0.5, 0, 255).astype(np.uint8), "L").convert("RGB")
    if name == "sepia":
        return ImageOps.colorize(img.convert("L"), "#2e1f0f", "#f5e6c8")
    if name == "grayscale":
        return img.convert("L").convert("RGB")
    if name == "contrast":
        return ImageEnhance.Contrast(img).enhance(1.35)
    if name == "saturate":
        return ImageEnhance.Color(img).enhance(1.6)
    if name == "desaturate":
        return ImageEnhance.Color(img).enhance(0.45)
    if name == "posterize":
        return ImageOps.posterize(img, 3)
    if name == "tint" and op.color is not None:
        return _tint(img, op.color)
    return img


def refine_image(
    source: Image.Image, ops: Sequence[ImageOp], width: int, height: int, tick: Tick = no_tick
) -> Image.Image:
    """``source`` fitted to the output size, then each step in order."""
    img = fit(source, width, height)
    for i, op in enumerate(ops):
        tick(0.2 + 0.7 * i / max(1, len(ops)), f"Applying {op.label()}")
        img = apply_op(img, op)
    return img


# ---- derive ----------------------------------------------------------------------


def grid_shape(n: int, aspect: float, ref_aspect: float) -> tuple[int, int]:
    """Columns and rows for ``n`` tiles on a canvas of ``aspect`` whose cells best
    match the references' average aspect ``ref_aspect``."""

    def cost(cols: int) -> float:
        rows = math.ceil(n / cols)
        cell = aspect * rows / cols
        return abs(math.log(cell / ref_aspect)) + 0.35 * (cols * rows - n)

    cols = min(range(1, n + 1), key=cost)
    return cols, math.ceil(n / cols)


def _overlay(canvas: Image.Image, spec: SceneSpec, alpha_scale: float, keep: float) -> None:
    w, h = canvas.size
    rng = np.random.default_rng(spec.seed + 3)
    draw = ImageDraw.Draw(canvas, "RGBA")
    for it in layout(spec, w / h):
        if it.kind in ("ground", "wave") or rng.random() > keep:
            continue
        shrunk = Item(
            it.kind, it.x, it.y, it.r * 0.7, it.color, int(it.alpha * alpha_scale), 0.0, it.angle
        )
        draw_item(draw, shrunk, w, h)


def derive_image(
    refs: Sequence[Image.Image],
    spec: SceneSpec,
    prompt: str,
    width: int,
    height: int,
    tick: Tick = no_tick,
) -> tuple[Image.Image, str]:
    """A composition of all ``refs`` (blend, grid or strip, chosen by the prompt)
    over the prompt's background, with prompt shapes laid over it."""
    mode = parse_derive_layout(prompt, len(refs))
    bg_spec = SceneSpec(spec.palette, spec.shapes, "scattered", spec.seed)
    base = render_scene(bg_spec, width, height, near=False, grain=False)
    tick(0.3, "Laying out references")
    if mode == "blend":
        stack = np.mean([np.asarray(fit(r, width, height), np.float32) for r in refs], axis=0)
        out = _to_image(0.78 * stack + 0.22 * np.asarray(base, np.float32))
    else:
        n = len(refs)
        mean_aspect = math.exp(sum(math.log(r.width / r.height) for r in refs) / n)
        if mode == "strip":
            cols, rows = (n, 1) if width >= height else (1, n)
        else:
            cols, rows = grid_shape(n, width / height, mean_aspect)
        gap = max(2, round(min(width, height) * 0.02))
        cw = (width - gap * (cols + 1)) // cols
        ch = (height - gap * (rows + 1)) // rows
        out = base.copy()
        for i, ref in enumerate(refs):
            row, col = divmod(i, cols)
            out.paste(
                fit(ref, max(1, cw), max(1, ch)), (gap + col * (cw + gap), gap + row * (ch + gap))
            )
            tick(0.3 + 0.5 * (i + 1) / n, f"Placed reference {i + 1} of {n}")
    _overlay(out, spec, 0.55, 0.35)
    return add_grain(out, stable_seed(spec.seed, "derive"), 2.0), mode
