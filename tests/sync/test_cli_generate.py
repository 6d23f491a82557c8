"""``studio generate`` on a joined space: the request goes to the host, which queues and
runs the jobs with its own providers; ``--wait`` follows the replica until the
placeholders fill in. A viewer's request is refused in one line and queues nothing."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.studio import Studio
from studio.sync import admin, peer
from tests.sql import query
from tests.sync.harness import HostThread


def _joined(tmp_path: Path, host: HostThread, role: str, name: str) -> tuple[Path, str]:
    with Studio(host.home) as s:
        link = admin.make_invite(s, "board", role, 60_000).link()
    home = tmp_path / name
    with Studio(home) as s:
        return home, asyncio.run(peer.join(s, link, name)).slug


def test_generate_on_a_joined_space_runs_on_the_host_and_wait_sees_it_fill_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"], jobs=True)
    try:
        pia, slug = _joined(tmp_path, host, "editor", "Pia")
        capsys.readouterr()
        args = ["--home", str(pia), "generate", slug, "a red fox", "--provider", "local"]
        assert main([*args, "--count", "2", "--wait", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert len(out["variant_ids"]) == 2 and len(out["job_ids"]) == 2
        assert [v["status"] for v in out["variants"]] == ["completed", "completed"]
        assert [v["id"] for v in out["variants"]] == out["variant_ids"]
        marks = ",".join("?" * 2)
        with Studio(home) as s, s.open_space("board") as space:  # the host ran the jobs
            jobs = query(
                space,
                f"SELECT status, provider FROM jobs WHERE id IN ({marks}) ORDER BY id",
                tuple(out["job_ids"]),
            )
            assert jobs == [("succeeded", "local"), ("succeeded", "local")]
            by = query(space, "SELECT actor_name FROM changes WHERE command = 'batch:request'")
            assert by == [("Pia",)]
        with Studio(pia) as s, s.open_space(slug) as replica:  # the replica holds the result
            for vid, variant in zip(out["variant_ids"], out["variants"], strict=True):
                detail = replica.variant_detail(vid)
                row = detail.row
                assert row.status == "completed" and row.media_path
                # ... and --wait fetched the finished original, as a local generate has it
                local = replica.media_dir / row.media_path
                assert variant["path"] == str(local)
                assert hashlib.sha256(local.read_bytes()).hexdigest() == detail.sha256
        # without --wait: the ids at once, text lines as the local command prints them
        assert main(args) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert len(lines) == 1 and lines[0].endswith("queued on the host")
        vid = lines[0].split()[1]
        with Studio(home) as s, s.open_space("board") as space:
            assert query(space, "SELECT COUNT(*) FROM variants WHERE id = ?", (vid,)) == [(1,)]
    finally:
        host.stop()


def test_a_viewer_cannot_generate_on_a_joined_space(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"], jobs=True)
    try:
        vic, slug = _joined(tmp_path, host, "viewer", "Vic")
        capsys.readouterr()
        assert main(["--home", str(vic), "generate", slug, "a fox", "--provider", "local"]) != 0
        err = capsys.readouterr().err.strip().splitlines()
        assert err == ["studio: Vic can only view this space"]
        with Studio(home) as s, s.open_space("board") as space:
            assert query(space, "SELECT COUNT(*) FROM jobs") == [(0,)]
            assert query(space, "SELECT COUNT(*) FROM variants") == [(0,)]
    finally:
        host.stop()


def test_a_host_studio_without_providers_says_its_jobs_will_not_run(tmp_path: Path) -> None:
    from studio.core.errors import ValidationError
    from studio.sync.jobs import JobRunner

    with Studio(tmp_path / "host") as s:
        s.create_space("Board")
        with s.open_space("board") as space:
            runner = JobRunner(s, space)
            runner.start()
            runner.stop(10)
            assert not runner.is_alive()
            assert isinstance(runner.problem, ValidationError)
            assert runner.problem.message == "board was opened without providers"


def test_waiting_for_placeholders_survives_a_cut_and_sees_another_worker_fill_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import threading
    import time

    from studio.core.errors import StorageError, StudioError
    from studio.sync.placeholders import VariantOutcome, wait_variants

    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"], jobs=False, providers=True)  # `serve --no-jobs`
    try:
        pia, slug = _joined(tmp_path, host, "editor", "Pia")
        capsys.readouterr()
        assert main(["--home", str(pia), "generate", slug, "a fox", "--provider", "local"]) == 0
        vid = capsys.readouterr().out.split()[1]
        got: list[list[VariantOutcome] | StudioError] = []
        retries: list[StudioError] = []

        def wait() -> None:
            with Studio(pia) as s:
                try:
                    got.append(
                        asyncio.run(
                            wait_variants(s, slug, [vid], timeout=30, on_retry=retries.append)
                        )
                    )
                except StudioError as exc:
                    got.append(exc)

        waiter = threading.Thread(target=wait, daemon=True)
        waiter.start()
        served = next(iter(host.host._served.values()))
        deadline = time.monotonic() + 10
        while not any(p.live for p in served.peers) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert any(p.live for p in served.peers)

        async def cut() -> None:
            for p in list(served.peers):
                p.ws.transport.abort()

        host.run(cut())
        assert main(["--home", str(home), "worker", "board", "--until-idle"]) == 0
        waiter.join(30)
        assert not waiter.is_alive()
        assert got == [[VariantOutcome(vid, "completed", None)]]
        assert retries and all(isinstance(r, StorageError) for r in retries)

        # nothing fills a placeholder: the wait ends at its timeout, in one sentence
        assert main(["--home", str(pia), "generate", slug, "a cat", "--provider", "local"]) == 0
        other = capsys.readouterr().out.split()[1]
        with Studio(pia) as s, pytest.raises(StorageError, match="did not finish these variants"):
            asyncio.run(wait_variants(s, slug, [other], timeout=1))
    finally:
        host.stop()


def test_count_above_one_requests_limit_on_a_joined_space_is_sent_in_parts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.core.handlers.generate import MAX_BATCH

    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"], jobs=False, providers=True)  # queued: the ids matter
    try:
        pia, slug = _joined(tmp_path, host, "editor", "Pia")
        capsys.readouterr()
        count = 2 * MAX_BATCH + 3
        args = ["--home", str(pia), "generate", slug, "a red fox", "--provider", "local"]
        assert main([*args, "--count", str(count), "--seed", "5", "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert len(out["variant_ids"]) == len(set(out["variant_ids"])) == count
        assert len(out["job_ids"]) == len(set(out["job_ids"])) == count
        assert len(out["asset_ids"]) == 1
        with Studio(home) as s, s.open_space("board") as space:  # the host queued them all
            parts = query(
                space,
                "SELECT json_extract(payload, '$.count'), step_id FROM changes "
                "WHERE command = 'batch:request' ORDER BY seq",
            )
            assert [n for n, _ in parts] == [MAX_BATCH, MAX_BATCH, 3]
            assert len({step for _, step in parts}) == 1  # one step, undone at once
            jobs = query(space, "SELECT id FROM jobs WHERE status = 'queued' ORDER BY id")
            assert sorted(j for (j,) in jobs) == sorted(out["job_ids"])
            seeds = [space.variant_detail(v).recipe["seed"] for v in out["variant_ids"]]
            assert seeds == list(range(5, 5 + count))  # the parts count on, in order
    finally:
        host.stop()
