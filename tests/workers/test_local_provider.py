"""LocalProvider as the scheduler sees it: capabilities, validation, cost,
progress, latency and cancellation."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from workers.base import (
    ASPECT_RATIOS,
    AudioType,
    BasicContext,
    ErrorKind,
    GenerationRequest,
    Operation,
    Provider,
    ProviderError,
    SourceMedia,
)
from workers.local import LocalProvider

ROOT = Path(__file__).resolve().parents[2]


def request(
    kind: str = "image", op: Operation = Operation.GENERATE, **kw: Any
) -> GenerationRequest:
    fields: dict[str, Any] = {
        "operation": op,
        "media_kind": kind,
        "prompt": "a red planet",
        "model": f"local-{kind}",
    }
    fields.update(kw)
    return GenerationRequest(**fields)


def ref(kind: str = "image", n: int = 1) -> tuple[SourceMedia, ...]:
    return tuple(SourceMedia(f"v{i}", Path(f"/nowhere/{i}"), "x/y", kind) for i in range(n))


def test_is_a_provider_with_three_models() -> None:
    provider: Provider = LocalProvider()
    caps = provider.capabilities()
    assert provider.name == "local" and caps.provider == "local" and caps.needs_key is False
    assert [m.id for m in caps.models] == ["local-image", "local-audio", "local-video"]
    image, audio, video = caps.models
    assert image.sizes == ("512", "1K", "2K") and image.default_size == "1K"
    assert image.aspect_ratios == ASPECT_RATIOS and image.default_aspect_ratio == "1:1"
    assert image.max_references == 14
    assert set(audio.audio_types) == set(AudioType) and audio.max_references == 4
    assert (audio.min_duration_s, audio.max_duration_s, audio.default_duration_s) == (
        0.5,
        120.0,
        4.0,
    )
    assert [p.name for p in audio.params] == ["voice"] and audio.params[0].default == "mid"
    assert video.sizes == ("360p", "480p", "720p") and video.default_size == "360p"
    assert video.aspect_ratios == ("16:9", "9:16", "1:1", "4:3") and video.max_references == 2
    assert (video.min_duration_s, video.max_duration_s, video.default_duration_s) == (
        1.0,
        10.0,
        4.0,
    )
    assert video.params[0].name == "audio" and video.params[0].default is True
    for m in caps.models:
        assert set(m.operations) == set(Operation)
    assert caps.default_model("audio", AudioType.DIALOGUE) is audio


@pytest.mark.parametrize(
    ("req", "words"),
    [
        (request(model="local-imagine"), "no model"),
        (request(media_kind="audio"), "makes image"),
        (request(prompt="   "), "prompt"),
        (request(op=Operation.REFINE), "reference"),
        (request(op=Operation.DERIVE), "reference"),
        (request(references=ref(n=15)), "at most 14"),
        (request("video", references=ref(n=3)), "at most 2"),
        (request("audio", references=ref("audio", 5)), "at most 4"),
        (request("video", references=ref("audio")), "can't take audio"),
        (request("audio", op=Operation.REFINE, references=ref("image")), "can't take image"),
        (request(size="4K"), "size"),
        (request("video", size="1080p"), "size"),
        (request(aspect_ratio="5:4"), "aspect ratio"),
        (request("video", aspect_ratio="21:9"), "aspect ratio"),
        (request("audio", duration_s=0.2), "0.5–120"),
        (request("audio", duration_s=121.0), "0.5–120"),
        (request("video", duration_s=11.0), "1–10"),
        (request(duration_s=3.0), "no duration"),
        (request(params={"steps": 30}), "no parameter 'steps'"),
        (request("audio", params={"voice": "robot"}), "voice must be one of"),
        (request("video", params={"audio": "yes"}), "audio must be a bool"),
        (request(prompt="x" * 20_001), "over 20000"),
    ],
)
def test_validate_rejects_with_a_readable_message(req: GenerationRequest, words: str) -> None:
    with pytest.raises(ProviderError) as err:
        LocalProvider().validate(req)
    assert err.value.kind is ErrorKind.INVALID_REQUEST
    assert words in err.value.message


def test_validate_accepts_good_requests() -> None:
    p = LocalProvider()
    p.validate(request(size="2K", aspect_ratio="21:9", references=ref(n=14)))
    p.validate(
        request("audio", audio_type=AudioType.DIALOGUE, duration_s=120.0, params={"voice": "low"})
    )
    p.validate(request("audio", op=Operation.REFINE, prompt="", references=ref("video")))
    p.validate(request("video", op=Operation.DERIVE, references=ref(n=2), params={"audio": False}))


def test_estimate_cost_is_free_in_natural_units() -> None:
    p = LocalProvider()
    image = p.estimate_cost(request())
    assert (image.usd, image.units, image.unit) == (0.0, 1.0, "image")
    assert p.estimate_cost(request("video", duration_s=6.0)).units == 6.0
    assert p.estimate_cost(request("video")).units == 4.0
    assert p.estimate_cost(request("audio", duration_s=7.5)).units == 7.5
    assert p.estimate_cost(request("audio")).units == 2.0  # sfx
    assert p.estimate_cost(request("audio", audio_type=AudioType.MUSIC)).units == 15.0
    speech = p.estimate_cost(
        request("audio", audio_type=AudioType.SPEECH, prompt="Hello there, friend.")
    )
    assert 0.5 <= speech.units < 5 and speech.unit == "second"
    with_ref = (SourceMedia("v", Path("/x"), "audio/wav", "audio", duration_ms=3200),)
    assert p.estimate_cost(request("audio", op=Operation.REFINE, references=with_ref)).units == 3.2


@pytest.mark.parametrize(
    "req",
    [
        request(size="512"),
        request("image", Operation.REFINE, prompt="blur", references=()),
        request("audio", audio_type=AudioType.MUSIC, duration_s=1.0),
        request("audio", audio_type=AudioType.SPEECH, prompt="Hello, world. " * 20),
        request("audio", audio_type=AudioType.DIALOGUE, prompt="A: hi\nB: hello\nA: bye"),
        request("video", duration_s=1.0),
    ],
    ids=["image", "refine", "music", "speech", "dialogue", "video"],
)
def test_progress_rises_to_done(tmp_path: Path, req: GenerationRequest) -> None:
    if req.operation is Operation.REFINE:
        from PIL import Image

        Image.new("RGB", (40, 30), (200, 40, 40)).save(tmp_path / "src.png")
        src = SourceMedia("s", tmp_path / "src.png", "image/png", "image")
        req = GenerationRequest(
            **{**{f: getattr(req, f) for f in req.__slots__}, "references": (src,)}
        )
    seen: list[tuple[float, str]] = []
    ctx = BasicContext(tmp_path, on_progress=lambda f, m: seen.append((f, m)))
    LocalProvider().run(req, ctx)
    fractions = [f for f, _ in seen]
    assert len(seen) >= 4 and fractions == sorted(fractions)
    assert fractions[-1] == 1.0 and all(m for _, m in seen)


def test_latency_is_spent_with_progress(tmp_path: Path) -> None:
    seen: list[float] = []
    ctx = BasicContext(tmp_path, on_progress=lambda f, m: seen.append(f))
    start = time.monotonic()
    LocalProvider(latency_s=0.4).run(request("audio", duration_s=0.5), ctx)
    assert time.monotonic() - start >= 0.4
    assert len([f for f in seen if f < 0.3]) >= 4 and seen == sorted(seen)


def test_cancel_from_another_thread_stops_quickly(tmp_path: Path) -> None:
    ctx = BasicContext(tmp_path)
    timer = threading.Timer(0.1, ctx.cancel)
    timer.start()
    start = time.monotonic()
    with pytest.raises(ProviderError) as err:
        LocalProvider(latency_s=5.0).run(request(), ctx)
    assert err.value.kind is ErrorKind.CANCELLED
    assert time.monotonic() - start < 1.0


@pytest.mark.parametrize("kind", ["image", "audio", "video"])
def test_cancel_during_work_raises_cancelled(tmp_path: Path, kind: str) -> None:
    def on_progress(fraction: float, message: str) -> None:
        if fraction > 0.0:
            ctx.cancel()

    ctx = BasicContext(tmp_path, on_progress=on_progress)
    extra: dict[str, Any] = (
        {"audio_type": AudioType.MUSIC, "duration_s": 10.0} if kind == "audio" else {}
    )
    start = time.monotonic()
    with pytest.raises(ProviderError) as err:
        LocalProvider().run(request(kind, **extra), ctx)
    assert err.value.kind is ErrorKind.CANCELLED
    assert time.monotonic() - start < 1.0


def test_already_cancelled_does_nothing(tmp_path: Path) -> None:
    ctx = BasicContext(tmp_path)
    ctx.cancel()
    with pytest.raises(ProviderError) as err:
        LocalProvider().run(request("video"), ctx)
    assert err.value.kind is ErrorKind.CANCELLED
    assert list(tmp_path.glob("*.mp4")) == []


def test_invalid_request_fails_before_work(tmp_path: Path) -> None:
    with pytest.raises(ProviderError) as err:
        LocalProvider().run(request(size="4K"), BasicContext(tmp_path))
    assert err.value.kind is ErrorKind.INVALID_REQUEST


def test_importing_the_provider_is_cheap() -> None:
    code = (
        "import sys, workers.local as m; m.LocalProvider().capabilities(); "
        "print(','.join(x for x in ('numpy', 'PIL', 'av') if x in sys.modules))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
