"""Fixtures that generate real media files (no binary fixtures in the repo).

Everything is generated once per test session into a temporary directory (the
session fixtures ``images``, ``audio``, ``video`` and ``samples`` live in the top
``tests/conftest.py``, so the import tests under ``tests/core`` share the same files):
images with Pillow, WAV with the stdlib ``wave`` module, compressed audio and
video with PyAV (which bundles FFmpeg's encoders).
"""

from __future__ import annotations

import math
import wave
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

AUDIO_SECONDS = 2.0
VIDEO_SECONDS = 2.0
VIDEO_FPS = 25


@dataclass(frozen=True, slots=True)
class Sample:
    """One generated file and what probing it must report."""

    path: Path
    kind: str
    mime: str
    ext: str
    width: int | None
    height: int | None
    duration_ms: int | None


def has_encoder(name: str) -> bool:
    try:
        av.codec.Codec(name, "w")
    except Exception:
        return False
    return True


def first_encoder(*names: str) -> str | None:
    return next((n for n in names if has_encoder(n)), None)


# --------------------------------------------------------------------------- images


def photo_like(width: int, height: int, *, alpha: bool = False, seed: int = 1) -> Image.Image:
    """Gradients plus a little noise: compresses like a photo, not like a flat fill."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    r = 255 * x / max(1, width - 1)
    g = 255 * y / max(1, height - 1)
    b = 127 + 127 * np.sin((x + y) / 17.0)
    rgb = np.stack([r, g, b], axis=-1) + rng.normal(0, 12, (height, width, 3))
    if alpha:
        a = np.broadcast_to((255 * x / max(1, width - 1))[..., None], (height, width, 1))
        rgb = np.concatenate([rgb, a], axis=-1)
    arr = np.clip(rgb, 0, 255).astype(np.uint8)
    return Image.fromarray(arr, "RGBA" if alpha else "RGB")


def make_images(root: Path) -> dict[str, Sample]:
    out: dict[str, Sample] = {}

    def add(name: str, path: Path, mime: str, ext: str, size: tuple[int, int], dur=None) -> None:
        out[name] = Sample(path, "image", mime, ext, size[0], size[1], dur)

    p = root / "rgba.png"
    photo_like(640, 480, alpha=True).save(p)
    add("png", p, "image/png", "png", (640, 480))

    p = root / "big.png"
    photo_like(1600, 900).save(p, compress_level=1)
    add("png_big", p, "image/png", "png", (1600, 900))

    p = root / "photo.jpg"
    photo_like(1200, 800).save(p, quality=90)
    add("jpeg", p, "image/jpeg", "jpg", (1200, 800))

    p = root / "progressive.jpg"
    photo_like(700, 500).save(p, quality=85, progressive=True)
    add("jpeg_progressive", p, "image/jpeg", "jpg", (700, 500))

    p = root / "cmyk.jpg"
    photo_like(300, 200).convert("CMYK").save(p, quality=90)
    add("jpeg_cmyk", p, "image/jpeg", "jpg", (300, 200))

    # EXIF orientation 6 (rotate 90° clockwise to display): stored 400x300, shown 300x400.
    p = root / "rotated.jpg"
    im = photo_like(400, 300)
    exif = im.getexif()
    exif[0x0112] = 6
    im.save(p, quality=90, exif=exif)
    add("jpeg_exif_rotated", p, "image/jpeg", "jpg", (300, 400))

    p = root / "alpha.webp"
    photo_like(300, 200, alpha=True).save(p, "WEBP", quality=80)
    add("webp", p, "image/webp", "webp", (300, 200))

    p = root / "lossless.webp"
    photo_like(256, 256).save(p, "WEBP", lossless=True)
    add("webp_lossless", p, "image/webp", "webp", (256, 256))

    frames = [photo_like(200, 150, seed=i) for i in range(4)]
    p = root / "anim.webp"
    frames[0].save(p, "WEBP", save_all=True, append_images=frames[1:], duration=120, loop=0)
    add("webp_animated", p, "image/webp", "webp", (200, 150), 480)

    p = root / "still.gif"
    photo_like(320, 240).convert("P", palette=Image.Palette.ADAPTIVE).save(p)
    add("gif", p, "image/gif", "gif", (320, 240))

    pal = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    p = root / "anim.gif"
    pal[0].save(p, save_all=True, append_images=pal[1:], duration=100, loop=0)
    add("gif_animated", p, "image/gif", "gif", (200, 150), 400)

    # A transparent palette GIF: the thumbnail must keep the transparency.
    p = root / "transparent.gif"
    tim = Image.new("P", (64, 48), 0)
    tim.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    tim.paste(1, (16, 12, 48, 36))
    tim.save(p, transparency=0)
    add("gif_transparent", p, "image/gif", "gif", (64, 48))

    p = root / "photo.bmp"
    photo_like(257, 131).save(p)
    add("bmp", p, "image/bmp", "bmp", (257, 131))

    p = root / "photo.tiff"
    photo_like(500, 400).save(p, compression="tiff_lzw")
    add("tiff", p, "image/tiff", "tiff", (500, 400))

    p = root / "deep.tiff"
    arr16 = (np.linspace(0, 65535, 300 * 200).reshape(200, 300)).astype(np.uint16)
    Image.fromarray(arr16).save(p)
    add("tiff_16bit", p, "image/tiff", "tiff", (300, 200))

    p = root / "tiny.png"
    Image.new("L", (40, 20), 200).save(p)
    add("png_tiny", p, "image/png", "png", (40, 20))

    p = root / "apng.png"
    frames[0].save(p, "PNG", save_all=True, append_images=frames[1:3], duration=200, loop=0)
    add("apng", p, "image/png", "png", (200, 150), 600)
    return out


# --------------------------------------------------------------------------- audio


def tone(seconds: float, rate: int, channels: int) -> np.ndarray:
    """A 440 Hz tone with a slow swell, shape (channels, samples), float32 in [-1, 1]."""
    t = np.arange(round(seconds * rate), dtype=np.float64) / rate
    env = 0.2 + 0.7 * np.abs(np.sin(math.pi * t / seconds))
    mono = env * np.sin(2 * math.pi * 440 * t)
    return np.stack([mono * (1 - 0.3 * c) for c in range(channels)]).astype(np.float32)


def write_wav(path: Path, seconds: float, rate: int = 44100, channels: int = 2) -> None:
    data = (tone(seconds, rate, channels).T * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(data.tobytes())


def encode_audio(
    path: Path, fmt: str, codec: str, seconds: float, rate: int = 48000, **opts: str
) -> None:
    pcm = tone(seconds, rate, 2)
    with av.open(str(path), "w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout="stereo")
        if opts:
            stream.codec_context.options = dict(opts)
        _mux_audio(out, stream, pcm, rate)


def _mux_audio(out: av.container.OutputContainer, stream, pcm: np.ndarray, rate: int) -> None:
    frame_size = stream.codec_context.frame_size or 1024
    resampler = av.AudioResampler(
        format=stream.codec_context.format, layout="stereo", rate=stream.codec_context.rate
    )
    for start in range(0, pcm.shape[1], frame_size):
        chunk = np.ascontiguousarray(pcm[:, start : start + frame_size])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="stereo")
        frame.sample_rate = rate
        frame.pts = start
        frame.time_base = Fraction(1, rate)
        for rf in resampler.resample(frame):
            out.mux(stream.encode(rf))
    for rf in resampler.resample(None):
        out.mux(stream.encode(rf))
    out.mux(stream.encode(None))


def make_audio(root: Path) -> dict[str, Sample]:
    out: dict[str, Sample] = {}
    ms = int(AUDIO_SECONDS * 1000)

    p = root / "tone.wav"
    write_wav(p, AUDIO_SECONDS)
    out["wav"] = Sample(p, "audio", "audio/wav", "wav", None, None, ms)

    p = root / "mono8k.wav"
    write_wav(p, 0.75, rate=8000, channels=1)
    out["wav_mono"] = Sample(p, "audio", "audio/wav", "wav", None, None, 750)

    mp3 = first_encoder("libmp3lame", "mp3")
    if mp3:
        p = root / "tone.mp3"
        encode_audio(p, "mp3", mp3, AUDIO_SECONDS, rate=44100)
        out["mp3"] = Sample(p, "audio", "audio/mpeg", "mp3", None, None, ms)

    p = root / "tone.flac"
    encode_audio(p, "flac", "flac", AUDIO_SECONDS, rate=44100)
    out["flac"] = Sample(p, "audio", "audio/flac", "flac", None, None, ms)

    vorbis = first_encoder("libvorbis", "vorbis")
    if vorbis:
        p = root / "tone.ogg"
        encode_audio(p, "ogg", vorbis, AUDIO_SECONDS, rate=44100, strict="experimental")
        out["ogg_vorbis"] = Sample(p, "audio", "audio/ogg", "ogg", None, None, ms)

    opus = first_encoder("libopus", "opus")
    if opus:
        p = root / "tone.opus"
        encode_audio(p, "ogg", opus, AUDIO_SECONDS, rate=48000, strict="experimental")
        out["ogg_opus"] = Sample(p, "audio", "audio/ogg", "ogg", None, None, ms)

    p = root / "tone.m4a"
    encode_audio(p, "ipod", "aac", AUDIO_SECONDS, rate=44100)
    out["m4a"] = Sample(p, "audio", "audio/mp4", "m4a", None, None, ms)

    # AAC in a plain MP4 (brand isom, no video): must probe as audio m4a.
    p = root / "audio_only.mp4"
    encode_audio(p, "mp4", "aac", AUDIO_SECONDS, rate=44100)
    out["mp4_audio_only"] = Sample(p, "audio", "audio/mp4", "m4a", None, None, ms)
    return out


# --------------------------------------------------------------------------- video


def encode_video(
    path: Path,
    fmt: str,
    vcodec: str,
    acodec: str | None,
    size: tuple[int, int] = (320, 240),
    seconds: float = VIDEO_SECONDS,
    pix_fmt: str = "yuv420p",
    rotation: int = 0,
    **vopts: str,
) -> None:
    width, height = size
    n = int(seconds * VIDEO_FPS)
    with av.open(str(path), "w", format=fmt) as out:
        vs = out.add_stream(vcodec, rate=VIDEO_FPS)
        vs.width, vs.height, vs.pix_fmt = width, height, pix_fmt
        if vopts:
            vs.codec_context.options = dict(vopts)
        if rotation:
            vs.set_display_rotation(rotation)  # counterclockwise, like a phone held sideways
        astream = None
        if acodec:
            astream = out.add_stream(acodec, rate=48000, layout="stereo")
            if acodec in ("opus", "vorbis"):
                astream.codec_context.options = {"strict": "experimental"}
        y, x = np.mgrid[0:height, 0:width]
        for i in range(n):
            # A bright block moving across a gradient: frames differ visibly.
            img = np.zeros((height, width, 3), np.uint8)
            img[..., 0] = (x * 255 // max(1, width - 1)).astype(np.uint8)
            img[..., 1] = (y * 255 // max(1, height - 1)).astype(np.uint8)
            img[..., 2] = (i * 255 // max(1, n - 1)) & 0xFF
            bx = (i * (width - 40)) // max(1, n - 1)
            img[height // 3 : height // 3 + 40, bx : bx + 40] = 255
            frame = av.VideoFrame.from_ndarray(img, format="rgb24")
            frame.pts = i
            frame.time_base = Fraction(1, VIDEO_FPS)
            out.mux(vs.encode(frame))
        out.mux(vs.encode(None))
        if astream is not None:
            _mux_audio(out, astream, tone(seconds, 48000, 2), 48000)


def make_video(root: Path) -> dict[str, Sample]:
    out: dict[str, Sample] = {}
    ms = int(VIDEO_SECONDS * 1000)
    h264 = first_encoder("libx264", "h264")
    if h264:
        p = root / "clip.mp4"
        encode_video(p, "mp4", h264, "aac", preset="ultrafast")
        out["mp4"] = Sample(p, "video", "video/mp4", "mp4", 320, 240, ms)

        p = root / "clip.mov"
        encode_video(p, "mov", h264, "aac", size=(352, 198), preset="ultrafast")
        out["mov"] = Sample(p, "video", "video/quicktime", "mov", 352, 198, ms)

        p = root / "big.mp4"
        encode_video(p, "mp4", h264, None, size=(2560, 1440), seconds=0.4, preset="ultrafast")
        out["mp4_big"] = Sample(p, "video", "video/mp4", "mp4", 2560, 1440, 400)

        p = root / "portrait.mp4"
        encode_video(p, "mp4", h264, None, size=(320, 180), seconds=0.6, rotation=90)
        out["mp4_rotated"] = Sample(p, "video", "video/mp4", "mp4", 180, 320, 600)

    vp9 = first_encoder("libvpx-vp9")
    if vp9:
        p = root / "clip_vp9.webm"
        encode_video(p, "webm", vp9, "opus", deadline="realtime", **{"cpu-used": "8"})
        out["webm_vp9"] = Sample(p, "video", "video/webm", "webm", 320, 240, ms)

    vp8 = first_encoder("libvpx")
    if vp8:
        p = root / "clip_vp8.webm"
        encode_video(p, "webm", vp8, "vorbis", size=(256, 144), deadline="realtime")
        out["webm_vp8"] = Sample(p, "video", "video/webm", "webm", 256, 144, ms)
    return out


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def copy_as(tmp_path: Path) -> Callable[[Path, str], Path]:
    """Copy a sample under a new name (to lie about its extension, or to damage it)."""

    def _copy(src: Path, name: str) -> Path:
        dest = tmp_path / name
        dest.write_bytes(src.read_bytes())
        return dest

    return _copy
