"""Veo video against the fake Gemini API: predictLongRunning, operation polling with
progress and cancellation, file download, probing and the poster."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.errors import ValidationError
from studio.core.events import Event
from studio.jobs.executor import ThreadExecutor
from studio.jobs.scheduler import Scheduler
from tests.conftest import OWNER
from tests.fakes.google import GoogleFake, quota_exhausted, rate_limited
from tests.fakes.media import png
from tests.workers.cloud_helpers import (
    GOOGLE_KEY,
    QUICK,
    body,
    cloud_space,
    generate,
    image_variants,
    job_of,
    options,
    run_queue,
    stored,
)
from workers.base import BasicContext, ErrorKind, GenerationRequest, Operation, ProviderError
from workers.veo import VeoProvider

STANDARD, FAST = "veo-3.1-generate-preview", "veo-3.1-fast-generate-preview"


@pytest.fixture
def veo(google: GoogleFake) -> VeoProvider:
    return VeoProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5, poll_s=0.05)


def test_text_to_video_polls_downloads_and_probes(
    tmp_path: Path, google: GoogleFake, veo: VeoProvider
) -> None:
    google.veo_polls = 2
    with cloud_space(tmp_path / "home", veo) as (studio, space):
        events: list[Event] = []
        space.subscribe(events.append)
        vid = generate(
            space,
            "a paper boat in the rain",
            "video",
            options(
                "veo",
                FAST,
                duration_s=4.0,
                aspect_ratio="9:16",
                params={"negativePrompt": "people"},
            ),
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["mime"], got["width"], got["height"], got["duration_ms"]) == (
        "completed",
        "video/mp4",
        36,
        64,
        4000,
    )
    assert got["poster"] is not None and got["thumb"] is not None
    (create,) = google.of("predictLongRunning")
    assert create.path == f"/v1beta/models/{FAST}:predictLongRunning"
    sent = body(create)
    assert sent["instances"] == [{"prompt": "a paper boat in the rain"}]
    assert sent["parameters"] == {
        "sampleCount": 1,
        "durationSeconds": 4,
        "aspectRatio": "9:16",
        "resolution": "720p",
        "negativePrompt": "people",
    }
    polls = google.of("operation")
    assert len(polls) == 3 and all(p.path.endswith("/operations/op1") for p in polls)
    (download,) = google.of("download")
    assert download.path == "/v1beta/files/op1:download" and download.query == {"alt": "media"}
    assert got["provenance"]["operation"] == f"models/{FAST}/operations/op1"
    assert got["provenance"]["request"]["generate_audio"] is True
    assert got["metadata"]["video_uri"].endswith("files/op1:download?alt=media")
    progress = [e.data["progress"] for e in events if e.type == "job:progress"]
    assert progress == sorted(progress) and 0 < progress[1] < 1
    assert any(
        e.data.get("message") == "Veo is rendering" for e in events if e.type == "job:progress"
    )


def test_first_and_last_frames_from_image_variants(
    tmp_path: Path, google: GoogleFake, veo: VeoProvider
) -> None:
    google.veo_polls = 0  # done at once
    with cloud_space(tmp_path / "home", veo) as (studio, space):
        first, last = image_variants(space, tmp_path, (48, 27), (27, 48))
        vid = generate(
            space,
            "morph between them",
            "video",
            options("veo", STANDARD, size="1080p"),
            references=(first, last),
        )
        run_queue(studio, space)
        got = stored(space, vid)
        links = space.lineage_of(vid)
    assert got["status"] == "completed" and (got["width"], got["height"]) == (96, 54)
    assert {link.parent_variant_id for link in links} == {first, last}
    instance = body(google.of("predictLongRunning")[0])["instances"][0]
    assert base64.b64decode(instance["image"]["bytesBase64Encoded"]) == png(48, 27, 1)
    assert base64.b64decode(instance["lastFrame"]["bytesBase64Encoded"]) == png(27, 48, 2)
    assert instance["image"]["mimeType"] == "image/png"
    assert got["provenance"]["request"]["first_frame"]["variant_id"] == first
    assert got["provenance"]["request"]["last_frame"]["variant_id"] == last


def test_refine_a_clip_from_an_image(tmp_path: Path, google: GoogleFake, veo: VeoProvider) -> None:
    google.veo_polls = 0
    with cloud_space(tmp_path / "home", veo) as (studio, space):
        clip = generate(space, "a fox", "video", options("veo", FAST))
        run_queue(studio, space)
        asset_id = space.variant_detail(clip).row.asset_id
        (still,) = image_variants(space, tmp_path, (32, 18))
        applied = space.apply(
            c.RequestRefine(
                asset_id, "the fox jumps", references=(still,), options=options("veo", FAST)
            ),
            OWNER,
        )
        run_queue(studio, space)
        got = stored(space, applied.created["variant_id"])
        (link,) = space.lineage_of(applied.created["variant_id"])
    assert got["status"] == "completed" and got["recipe"]["operation"] == "refine"
    assert (link.parent_variant_id, link.relation) == (still, "refined")
    assert "image" in body(google.of("predictLongRunning")[1])["instances"][0]


@pytest.mark.parametrize(
    ("opts", "words"),
    [
        ({"params": {"generateAudio": False}}, "can't turn its soundtrack off"),
        ({"duration_s": 5.0}, "4, 6, 8 seconds"),
        ({"size": "1080p", "duration_s": 6.0}, "1080p clips of 8 seconds"),
        ({"aspect_ratio": "1:1"}, "aspect ratio '1:1'"),
        ({"params": {"fps": 30}}, "no parameter 'fps'"),
    ],
)
def test_invalid_requests_are_refused_up_front(
    tmp_path: Path, google: GoogleFake, veo: VeoProvider, opts: dict[str, Any], words: str
) -> None:
    with (
        cloud_space(tmp_path / "home", veo) as (_studio, space),
        pytest.raises(ValidationError, match=words),
    ):
        generate(space, "x", "video", options("veo", STANDARD, **opts))
    assert google.requests == []


def test_audio_references_are_refused(tmp_path: Path, veo: VeoProvider) -> None:
    from studio.core.imports import import_files
    from tests.fakes.media import mp3

    path = tmp_path / "a.mp3"
    path.write_bytes(mp3(1.0))
    with cloud_space(tmp_path / "home", veo) as (_studio, space):
        (imp,) = import_files(space, [path], OWNER).imported
        with pytest.raises(ValidationError, match="can't take audio"):
            generate(space, "x", "video", options("veo", FAST), references=(imp.variant_id,))


def _run(provider: VeoProvider, tmp_path: Path) -> Any:
    request = GenerationRequest(Operation.GENERATE, "video", "a storm", STANDARD)
    return provider.run(request, BasicContext(tmp_path / "ctx"))


@pytest.mark.parametrize(
    ("outcome", "kind", "words"),
    [
        (
            {"filtered": ["The prompt mentions a public figure."]},
            ErrorKind.SAFETY_BLOCKED,
            "public figure",
        ),
        (
            {"error": {"code": 3, "message": "The prompt violates our usage guidelines."}},
            ErrorKind.SAFETY_BLOCKED,
            "usage guidelines",
        ),
        (
            {"error": {"code": 3, "message": "durationSeconds out of bounds"}},
            ErrorKind.INVALID_REQUEST,
            "out of bounds",
        ),
        (
            {"error": {"code": 14, "message": "The service is currently unavailable."}},
            ErrorKind.PROVIDER_DOWN,
            "unavailable",
        ),
        (  # no daily-quota or billing marker: a rate limit, retried
            {"error": {"code": 8, "message": "You exceeded your current quota."}},
            ErrorKind.RATE_LIMITED,
            "quota",
        ),
        (
            {
                "error": {
                    "code": 8,
                    "message": "Billing is disabled for this project; enable billing.",
                }
            },
            ErrorKind.QUOTA,
            "billing",
        ),
    ],
)
def test_operation_outcomes(
    tmp_path: Path,
    google: GoogleFake,
    veo: VeoProvider,
    outcome: dict[str, Any],
    kind: ErrorKind,
    words: str,
) -> None:
    google.veo_outcomes.append(outcome)
    with pytest.raises(ProviderError) as info:
        _run(veo, tmp_path)
    assert info.value.kind is kind and words in info.value.message
    assert google.of("download") == []


def test_errors_when_starting(tmp_path: Path, google: GoogleFake, veo: VeoProvider) -> None:
    google.script("predictLongRunning", rate_limited("12"), quota_exhausted())
    with pytest.raises(ProviderError) as info:
        _run(veo, tmp_path)
    assert (info.value.kind, info.value.retry_after) == (ErrorKind.RATE_LIMITED, 12.0)
    with pytest.raises(ProviderError) as info:
        _run(veo, tmp_path)
    assert info.value.kind is ErrorKind.QUOTA
    assert len(google.requests) == 2


def test_an_operation_that_never_ends_gives_up(tmp_path: Path, google: GoogleFake) -> None:
    google.veo_polls = 10_000
    provider = VeoProvider(GOOGLE_KEY, base_url=google.url, poll_s=0.02, max_wait_s=0.2)
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path)
    assert info.value.kind is ErrorKind.PROVIDER_DOWN and "did not finish" in info.value.message


def test_cancelling_stops_polling(tmp_path: Path, google: GoogleFake, veo: VeoProvider) -> None:
    google.veo_polls = 10_000
    with cloud_space(tmp_path / "home", veo) as (_studio, space):
        vid = generate(space, "a very long render", "video", options("veo", STANDARD))
        executor = ThreadExecutor(2)
        sched = Scheduler(space, executor, config=QUICK)
        sched.pump()
        deadline = time.monotonic() + 5
        while len(google.of("operation")) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        space.apply(c.CancelJob(job_of(space, vid).id), OWNER)
        started = time.monotonic()
        assert sched.run_until_idle(timeout_s=5)
        executor.shutdown()
        sched.close()
        polls = len(google.of("operation"))
        time.sleep(0.2)
        got = stored(space, vid)
    assert time.monotonic() - started < 2
    assert len(google.of("operation")) == polls  # nothing more after the cancel
    assert (got["status"], got["error_code"]) == ("failed", "CANCELLED")
    assert google.of("download") == []


def test_costs(veo: VeoProvider) -> None:
    est = veo.estimate_cost(GenerationRequest(Operation.GENERATE, "video", "x", STANDARD))
    assert (est.usd, est.units, est.unit) == (pytest.approx(3.2), 8.0, "second")
    est = veo.estimate_cost(
        GenerationRequest(Operation.GENERATE, "video", "x", FAST, duration_s=4.0)
    )
    assert est.usd == pytest.approx(0.6)
