"""``studio check`` on a joined space: media the host has but this peer has not fetched
yet are warnings that say how to fetch them, not missing-file problems; a fetched file
that is damaged is still a problem, and the host's own check is as strict as before."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from studio.cli.main import main
from studio.core.studio import Studio
from studio.sync import admin, peer
from tests.sync.harness import HostThread


def _check(home: Path, slug: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, Any]:
    capsys.readouterr()
    code = main(["--home", str(home), "check", slug, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_check_on_a_joined_space_warns_of_media_not_fetched_yet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    args = ["--home", str(home), "generate", "board", "a fox", "--provider", "local"]
    assert main([*args, "--count", "2", "--wait", "--json"]) == 0
    vids = json.loads(capsys.readouterr().out)["variant_ids"]
    host = HostThread(home, ["board"])
    try:
        with Studio(home) as s:
            link = admin.make_invite(s, "board", "viewer", 60_000).link()
        pia = tmp_path / "pia"
        with Studio(pia) as s:
            slug = asyncio.run(peer.join(s, link, "Pia")).slug
        code, report = _check(pia, slug, capsys)
        assert (code, report["ok"], report["problems"]) == (0, True, [])
        waiting = [w for w in report["warnings"] if "not fetched yet" in w]
        assert len(waiting) == 4  # an original and a thumbnail per variant
        assert sum(f"(run studio fetch {slug})" in w for w in waiting) == 2
        assert sum(f"(run studio fetch {slug} --what thumb)" in w for w in waiting) == 2

        assert main(["--home", str(pia), "fetch", slug, vids[0]]) == 0
        code, report = _check(pia, slug, capsys)
        assert (code, report["problems"]) == (0, [])
        waiting = [w for w in report["warnings"] if "not fetched yet" in w]
        assert len(waiting) == 3
        assert not any(w.startswith(f"variant {vids[0]}:") and "original" in w for w in waiting)

        # a fetched file that was damaged afterwards is a problem, as on any space
        with Studio(pia) as s, s.open_space(slug) as replica:
            row = replica.variant_detail(vids[0]).row
            original = replica.media_dir / str(row.media_path)
            thumb = replica.media_dir / str(row.thumb_path)
        original.write_bytes(b"not the picture")
        # a download cut half way is a partial file the next fetch resumes: a warning
        (thumb.parent / f".{thumb.name}.part").write_bytes(b"RIFF")
        code, report = _check(pia, slug, capsys)
        assert code != 0 and report["ok"] is False
        assert len(report["problems"]) == 1 and vids[0] in report["problems"][0]
        assert any("partly fetched" in w for w in report["warnings"])
    finally:
        host.stop()
    # the host's own space: a missing file is a problem there (it has nowhere to come from)
    with Studio(home) as s, s.open_space("board") as space:
        assert not space.is_replica
        rel = str(space.variant_detail(vids[1]).row.media_path)
        (space.media_dir / rel).unlink()
    code, report = _check(home, "board", capsys)
    assert code != 0 and report["problems"] == [f"variant {vids[1]}: missing file {rel}"]
    assert not any("not fetched yet" in w for w in report["warnings"])
