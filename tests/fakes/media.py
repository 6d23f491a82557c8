"""Small real media for the fake servers: PNG pictures, MP3 sound and MP4 clips that
decode and probe like a provider's would (cached: each shape is encoded once)."""

from __future__ import annotations

import functools
import io
import math

import numpy as np
from PIL import Image


@functools.lru_cache(maxsize=64)
def png(width: int, height: int, seed: int = 0) -> bytes:
    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    buf = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buf, "PNG")
    return buf.getvalue()


def dims(aspect_ratio: str, long_side: int) -> tuple[int, int]:
    w, h = (float(x) for x in aspect_ratio.split(":"))
    if w >= h:
        return long_side, max(2, round(long_side * h / w / 2) * 2)
    return max(2, round(long_side * w / h / 2) * 2), long_side


def _tone(seconds: float, rate: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.2 * np.sin(2 * math.pi * freq * t)).astype(np.float32)


@functools.lru_cache(maxsize=32)
def mp3(seconds: float, rate: int = 22050) -> bytes:
    import av

    buf = io.BytesIO()
    with av.open(buf, "w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        samples = _tone(seconds, rate)
        chunk = 1152
        for start in range(0, len(samples), chunk):
            part = samples[start : start + chunk]
            frame = av.AudioFrame.from_ndarray(part.reshape(1, -1), format="fltp", layout="mono")
            frame.sample_rate = rate
            frame.pts = start
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


@functools.lru_cache(maxsize=32)
def mp4(seconds: float, width: int, height: int, fps: int = 4) -> bytes:
    """H.264 video with an AAC soundtrack (Veo clips always have one)."""
    import av

    buf = io.BytesIO()
    rate = 16000
    with av.open(buf, "w", format="mp4") as out:
        video = out.add_stream("libx264", rate=fps)
        video.width, video.height, video.pix_fmt = width, height, "yuv420p"
        audio = out.add_stream("aac", rate=rate)
        audio.layout = "mono"
        for i in range(max(1, round(seconds * fps))):
            shade = int(255 * i / max(1, seconds * fps))
            pixels = np.full((height, width, 3), (shade, 80, 255 - shade), dtype=np.uint8)
            frame = av.VideoFrame.from_ndarray(pixels, format="rgb24")
            for packet in video.encode(frame):
                out.mux(packet)
        for packet in video.encode(None):
            out.mux(packet)
        samples = _tone(seconds, rate, 220.0)
        chunk = 1024
        for start in range(0, len(samples) - chunk + 1, chunk):
            frame = av.AudioFrame.from_ndarray(
                samples[start : start + chunk].reshape(1, -1), format="fltp", layout="mono"
            )
            frame.sample_rate = rate
            frame.pts = start
            for packet in audio.encode(frame):
                out.mux(packet)
        for packet in audio.encode(None):
            out.mux(packet)
    return buf.getvalue()
