"""local-video: real H.264 MP4s, decoded back with PyAV."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest
from PIL import Image

from workers.base import (
    BasicContext,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    ProviderError,
    SourceMedia,
)
from workers.local import LocalProvider

FPS = 24


def run(
    tmp_path: Path,
    prompt: str,
    op: Operation = Operation.GENERATE,
    ctx: BasicContext | None = None,
    **kw: Any,
) -> GenerationOutput:
    request = GenerationRequest(
        operation=op, media_kind="video", prompt=prompt, model="local-video", **kw
    )
    return LocalProvider().run(request, ctx or BasicContext(tmp_path / "ctx"))


def probe(out: GenerationOutput) -> dict[str, Any]:
    assert out.mime == "video/mp4" and out.ext == "mp4" and out.data is None
    assert out.path is not None and out.path.is_file()
    with av.open(str(out.path)) as container:
        assert "mp4" in container.format.name
        v = container.streams.video[0]
        info: dict[str, Any] = {
            "codec": v.codec_context.name,
            "pix_fmt": v.codec_context.pix_fmt,
            "size": (v.width, v.height),
            "seconds": float(v.duration * v.time_base),
            "audio": [
                (a.codec_context.name, a.codec_context.sample_rate, a.codec_context.channels)
                for a in container.streams.audio
            ],
        }
        info["frames"] = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
    return info


def image_ref(
    tmp_path: Path, name: str, size: tuple[int, int], color: tuple[int, int, int]
) -> SourceMedia:
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w]
    arr = np.zeros((h, w, 3), np.float64)
    arr[...] = color
    arr[..., 0] += 80 * np.sin(xs / 23.0)
    arr[..., 1] += 80 * np.cos(ys / 17.0)
    arr[(xs // 40 + ys // 40) % 2 == 0] *= 0.5
    path = tmp_path / name
    Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8)).save(path)
    return SourceMedia(name, path, "image/png", "image", width=w, height=h)


def close_to(frame: np.ndarray, ref: SourceMedia) -> float:
    """Mean absolute difference between a frame and the reference fitted to it."""
    from PIL import ImageOps

    h, w = frame.shape[:2]
    img = ImageOps.fit(Image.open(ref.path).convert("RGB"), (w, h), Image.Resampling.LANCZOS)
    return float(np.abs(frame.astype(float) - np.asarray(img, float)).mean())


def test_generate_h264_with_aac(tmp_path: Path) -> None:
    out = run(tmp_path, "neon city at night with stars, laser zaps", duration_s=1.0)
    info = probe(out)
    assert info["codec"] == "h264" and info["pix_fmt"] == "yuv420p"
    assert info["size"] == (640, 360)
    assert len(info["frames"]) == 24
    assert abs(info["seconds"] - 1.0) <= 1 / FPS
    assert info["audio"] == [("aac", 44_100, 2)]
    assert out.path is not None and out.path.parent == tmp_path / "ctx"
    meta = out.provider_metadata
    assert meta["frames"] == 24 and meta["soundtrack"]["effects"] == ["laser"]
    assert (out.units, out.unit) == (1.0, "second")
    # It moves.
    assert np.abs(info["frames"][0].astype(int) - info["frames"][-1].astype(int)).mean() > 2


@pytest.mark.parametrize(
    ("size", "aspect", "dims"),
    [("480p", "9:16", (480, 852)), ("360p", "1:1", (360, 360)), ("360p", "4:3", (480, 360))],
)
def test_sizes_and_no_audio(tmp_path: Path, size: str, aspect: str, dims: tuple[int, int]) -> None:
    info = probe(
        run(
            tmp_path,
            "a forest",
            size=size,
            aspect_ratio=aspect,
            duration_s=1.0,
            params={"audio": False},
        )
    )
    assert info["size"] == dims
    assert info["audio"] == []


def test_duration_within_a_frame(tmp_path: Path) -> None:
    info = probe(run(tmp_path, "ocean waves", duration_s=2.5, params={"audio": False}))
    assert len(info["frames"]) == 60
    assert abs(info["seconds"] - 2.5) <= 1 / FPS


def test_same_request_same_frames(tmp_path: Path) -> None:
    a = probe(run(tmp_path, "spinning stars", duration_s=1.0, seed=3))
    b = probe(run(tmp_path, "spinning stars", duration_s=1.0, seed=3))
    assert len(a["frames"]) == len(b["frames"])
    assert all(np.array_equal(x, y) for x, y in zip(a["frames"], b["frames"], strict=True))


def test_derive_starts_on_the_reference_and_ends_on_the_second(tmp_path: Path) -> None:
    first = image_ref(tmp_path, "first.png", (640, 360), (60, 120, 200))
    last = image_ref(tmp_path, "last.png", (640, 360), (220, 90, 40))
    info = probe(
        run(
            tmp_path,
            "stars",
            Operation.DERIVE,
            references=(first, last),
            duration_s=1.0,
            params={"audio": False},
        )
    )
    frames = info["frames"]
    assert info["size"] == (640, 360)
    assert close_to(frames[0], first) < 8
    assert close_to(frames[0], last) > 30
    assert close_to(frames[-1], last) < close_to(frames[-1], first)


def test_derive_takes_its_aspect_from_the_reference(tmp_path: Path) -> None:
    tall = image_ref(tmp_path, "tall.png", (300, 520), (100, 160, 90))
    info = probe(
        run(
            tmp_path,
            "",
            Operation.DERIVE,
            references=(tall,),
            duration_s=1.0,
            params={"audio": False},
        )
    )
    assert info["size"] == (360, 640)
    assert close_to(info["frames"][0], tall) < 10


def test_refine_applies_the_prompt_to_the_reference(tmp_path: Path) -> None:
    ref = image_ref(tmp_path, "src.png", (480, 360), (60, 120, 200))
    out = run(tmp_path, "black and white", Operation.REFINE, references=(ref,), duration_s=1.0)
    info = probe(out)
    frame = info["frames"][0].astype(int)
    assert info["size"] == (480, 360)
    assert np.abs(frame[..., 0] - frame[..., 2]).mean() < 6  # grey
    assert out.provider_metadata["transforms"] == ["grayscale"]


def test_cancel_mid_encode_leaves_no_file(tmp_path: Path) -> None:
    def on_progress(fraction: float, message: str) -> None:
        if fraction > 0.5:
            ctx.cancel()

    ctx = BasicContext(tmp_path / "ctx", on_progress=on_progress)
    with pytest.raises(ProviderError) as err:
        run(tmp_path, "city", ctx=ctx, duration_s=2.0)
    assert err.value.kind is ErrorKind.CANCELLED
    assert list((tmp_path / "ctx").glob("*.mp4")) == []
