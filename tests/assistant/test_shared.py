"""A shared space's chat reaches its replicas; video and audio reach Claude as frames and
words."""

from __future__ import annotations

import base64
import io
from pathlib import Path

from PIL import Image

from studio.assistant.models import IMAGE_LONG_EDGE, VIDEO_FRAMES
from studio.assistant.vision import blocks_for
from studio.core import chat_commands as cc
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.imports import import_files
from studio.core.replica import ReplicaWriter, StepImage, install_snapshot
from studio.core.replica_host import StepSource
from studio.core.space import Space
from tests.conftest import OWNER
from tests.fakes.media import mp3, mp4
from tests.sql import query
from tests.sync.compare import differences


def test_chat_sessions_messages_and_proposals_replicate(space: Space, tmp_path: Path) -> None:
    assert space.file_path is not None
    with StepSource(space.file_path) as src:
        src.snapshot(tmp_path / "snap.db")
    replica = tmp_path / "replica.db"
    install_snapshot(tmp_path / "snap.db", replica, space_id=space.id, host="host-1")
    sid = space.apply(cc.CreateChatSession("Shared"), OWNER).created["session_id"]
    space.apply(cc.AddChatMessage(sid, "user", ({"type": "text", "text": "hi"},)), OWNER)
    frame = c.command_to_json(c.CreateFrame("F", 0, 0, 5, 5))
    space.apply(cc.CreateProposal(sid, "make_frame", (frame,)), Actor.assistant(OWNER))
    space.apply(cc.SetAssistantCap(2.5), OWNER)
    with StepSource(space.file_path) as src, ReplicaWriter(replica) as w:
        steps = src.steps_after(w.last_seq())
        assert steps is not None
        w.apply_batch([StepImage.from_json(s.to_json()) for s in steps])
    assert differences(space.file_path, replica) == []
    assert query(space, "SELECT COUNT(*) FROM chat_messages") == [(1,)]


def _imported(space: Space, tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    report = import_files(space, [path], OWNER)
    return report.imported[0].variant_id


def test_video_as_frames_and_audio_as_words(space: Space, tmp_path: Path) -> None:
    video = _imported(space, tmp_path, "clip.mp4", mp4(2.0, 1920, 1080))
    blocks = blocks_for(space, video)
    images = [b for b in blocks if b["type"] == "image"]
    assert blocks[0]["type"] == "text" and "frames" in blocks[0]["text"]
    assert len(images) == VIDEO_FRAMES
    for img in images:
        data = base64.b64decode(img["source"]["data"])
        assert Image.open(io.BytesIO(data)).size == (IMAGE_LONG_EDGE, 882)
    audio = _imported(space, tmp_path, "tone.mp3", mp3(1.5))
    (text,) = blocks_for(space, audio)
    assert text["type"] == "text" and "1.5 s" in text["text"] and "loudness" in text["text"]
