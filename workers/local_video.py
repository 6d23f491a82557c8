"""Clips for the local provider: an animated prompt scene (camera move plus moving
shapes) or a Ken Burns move over reference images, encoded as H.264 MP4 with an
optional AAC soundtrack (PyAV, imported lazily)."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

from workers.local_audio import SR, Signal
from workers.local_common import Tick, no_tick, stable_seed
from workers.local_draw import Item, draw_item, layout
from workers.local_image import FAR, fit, render_scene
from workers.local_prompt import SceneSpec

FPS = 24
ZOOM = 1.18  # how far the camera moves in; sources are rendered this much larger
SPINNING = frozenset({"star", "spiral", "ring", "diamond"})
GROUNDED = frozenset({"triangle", "rect", "flower", "wave", "ground"})
PARALLAX = 0.35  # near shapes move this much more than the backdrop

Box = tuple[float, float, float, float]
FrameFn = Callable[[int], np.ndarray]


def video_dimensions(aspect_ratio: str, short_side: int) -> tuple[int, int]:
    """Width and height with the given short side, each rounded down to even."""
    w_s, h_s = aspect_ratio.split(":")
    ratio = float(w_s) / float(h_s)
    long_side = short_side * (ratio if ratio >= 1 else 1 / ratio)
    long_even = max(2, int(long_side) // 2 * 2)
    short_even = max(2, short_side // 2 * 2)
    return (long_even, short_even) if ratio >= 1 else (short_even, long_even)


def frame_count(seconds: float) -> int:
    return max(1, round(seconds * FPS))


def ease(t: float) -> float:
    return t * t * (3 - 2 * t)


def camera(t: float, size: tuple[int, int], seed: int, zoom_in: bool = True) -> Box:
    """The source box seen at time ``t`` in [0, 1]: from the whole source to a
    ``ZOOM``× closer view around a point picked by ``seed`` (or the reverse)."""
    w, h = size
    rng = np.random.default_rng(seed)
    fx, fy = float(rng.uniform(0.3, 0.7)), float(rng.uniform(0.35, 0.65))
    e = ease(t if zoom_in else 1 - t)
    z = 1 + (ZOOM - 1) * e
    cw, ch = w / z, h / z
    x0 = (w - cw) * (0.5 + (fx - 0.5) * e * 2)
    y0 = (h - ch) * (0.5 + (fy - 0.5) * e * 2)
    x0 = min(max(0.0, x0), w - cw)
    y0 = min(max(0.0, y0), h - ch)
    return (x0, y0, x0 + cw, y0 + ch)


def _view(src: Image.Image, box: Box, width: int, height: int) -> Image.Image:
    return src.resize((width, height), Image.Resampling.BILINEAR, box=box)


def _moved(
    it: Item, i: int, t: float, box: Box, src: tuple[int, int], out: tuple[int, int]
) -> Item:
    """``it`` (placed on the source) at time ``t`` seconds, mapped into the view:
    sky shapes drift and spin, and every near shape gets a little parallax."""
    sw, sh = src
    w, h = out
    seed = stable_seed(it.kind, i)
    drift = 0.0 if it.kind in GROUNDED else 0.015 + 0.01 * (seed % 3)
    px = (it.x + drift * math.sin(2 * math.pi * (0.2 * t + (seed % 97) / 97))) * sw
    py = (it.y + drift * math.cos(2 * math.pi * (0.15 * t + (seed % 89) / 89))) * sh
    px -= ((box[0] + box[2]) / 2 - sw / 2) * PARALLAX
    py -= ((box[1] + box[3]) / 2 - sh / 2) * PARALLAX
    scale = w / (box[2] - box[0])
    fx, fy = (px - box[0]) * scale / w, (py - box[1]) * scale / h
    radius = it.r * min(sw, sh) * scale / min(w, h)
    spin = 0.6 * t * (1 if seed % 2 else -1) if it.kind in SPINNING else 0.0
    if it.kind == "wave":
        fx = 0.5
    return replace(it, x=fx, y=fy, r=radius, angle=it.angle + spin)


def scene_frames(spec: SceneSpec, width: int, height: int, n: int) -> FrameFn:
    """Frames of the prompt's scene: the far layer as a panned backdrop, the near
    shapes drifting and spinning over it."""
    sw, sh = round(width * ZOOM), round(height * ZOOM)
    backdrop = render_scene(spec, sw, sh, near=False, grain=False)
    near = [it for it in layout(spec, sw / sh) if it.depth < FAR]

    def frame(i: int) -> np.ndarray:
        t = i / max(1, n - 1)
        box = camera(t, (sw, sh), spec.seed)
        img = _view(backdrop, box, width, height)
        draw = ImageDraw.Draw(img, "RGBA")
        for j, it in enumerate(near):
            draw_item(
                draw,
                _moved(it, j, i / FPS, box, (sw, sh), (width, height)),
                width,
                height,
                phase=i / FPS * 2,
            )
        return np.asarray(img)

    return frame


def reference_frames(
    refs: Sequence[Image.Image],
    width: int,
    height: int,
    n: int,
    seed: int,
    overlay: SceneSpec | None,
) -> FrameFn:
    """A Ken Burns move over the first reference; with a second, a cross-fade that
    ends on it (last frame = the whole second reference). ``overlay`` adds the
    prompt's shapes, fading in from nothing so the first frame is the reference."""
    size = (round(width * ZOOM), round(height * ZOOM))
    first = fit(refs[0], *size)
    second = fit(refs[1], *size) if len(refs) > 1 else None
    items = [it for it in layout(overlay, size[0] / size[1]) if it.depth < FAR] if overlay else []

    def frame(i: int) -> np.ndarray:
        t = i / max(1, n - 1)
        box = camera(t, size, seed)
        img = _view(first, box, width, height)
        if second is not None:
            mix = ease(min(1.0, max(0.0, (t - 0.3) / 0.5)))
            if mix > 0:
                other = _view(second, camera(t, size, seed + 1, zoom_in=False), width, height)
                img = Image.blend(img, other, mix)
        if items:
            draw = ImageDraw.Draw(img, "RGBA")
            for j, it in enumerate(items):
                moved = _moved(it, j, i / FPS, box, size, (width, height))
                draw_item(
                    draw,
                    replace(moved, alpha=int(it.alpha * 0.6 * t)),
                    width,
                    height,
                    phase=i / FPS * 2,
                )
        return np.asarray(img)

    return frame


def encode_mp4(
    path: Path,
    width: int,
    height: int,
    n_frames: int,
    make_frame: FrameFn,
    audio: Signal | None,
    tick: Tick = no_tick,
) -> None:
    """Write an H.264 (yuv420p) MP4 at :data:`FPS`, with AAC stereo from ``audio``
    (2, n) interleaved as it goes. A partial file is removed on any failure."""
    import av

    container = av.open(str(path), "w", format="mp4")
    try:
        video = container.add_stream(
            "libx264", rate=FPS, options={"preset": "veryfast", "crf": "22"}
        )
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        sound = None
        if audio is not None:
            sound = container.add_stream("aac", rate=SR, layout="stereo")
            sound.bit_rate = 128_000
        sent = 0
        for i in range(n_frames):
            tick(i / n_frames, f"Frame {i + 1} of {n_frames}")
            frame = av.VideoFrame.from_ndarray(make_frame(i), format="rgb24")
            frame.pts = i
            container.mux(video.encode(frame))
            if sound is not None and audio is not None:
                until = min(audio.shape[1], round((i + 1) / FPS * SR))
                sent = _send_audio(container, sound, audio, sent, until)
        container.mux(video.encode(None))
        if sound is not None and audio is not None:
            _send_audio(container, sound, audio, sent, audio.shape[1])
            container.mux(sound.encode(None))
        container.close()
    except BaseException:
        container.close()
        path.unlink(missing_ok=True)
        raise
    tick(1.0, "Encoded")


def _send_audio(container: Any, stream: Any, audio: Signal, start: int, until: int) -> int:
    import av

    step = 1024
    while start < until:
        chunk = np.ascontiguousarray(audio[:, start : min(start + step, until)], np.float32)
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = SR
        frame.pts = start
        container.mux(stream.encode(frame))
        start += chunk.shape[1]
    return start
