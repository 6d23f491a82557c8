"""The generation and queue commands, with the real offline provider."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(tmp_path / "home", capsys)
    c("space", "create", "Gen")
    return c


def test_generate_wait_json(cli: Cli) -> None:
    out = cli.json(
        "generate",
        "gen",
        "a red balloon",
        "--size",
        "512",
        "--aspect",
        "16:9",
        "--seed",
        "4",
        "--wait",
    )
    assert isinstance(out, dict)
    (vid,) = out["variant_ids"]
    assert out["variants"] == [{"id": vid, "status": "completed", "error": None}]
    shown = cli.json("show", "gen", vid)
    assert isinstance(shown, dict)
    assert (shown["width"], shown["height"]) == (512, 288)
    assert shown["recipe"]["seed"] == 4 and shown["recipe"]["provider"] == "local"
    usage = cli.json("usage", "gen")
    assert isinstance(usage, list) and usage[0]["model"] == "local-image" and usage[0]["jobs"] == 1


def test_generate_then_worker_jobs_and_usage(cli: Cli) -> None:
    code, out, _ = cli(
        "generate",
        "gen",
        "rain on a tin roof",
        "--kind",
        "audio",
        "--type",
        "sfx",
        "--duration",
        "1",
        "--count",
        "2",
    )
    assert code == 0 and out.count("queued") == 2
    jobs = cli.json("jobs", "gen")
    assert isinstance(jobs, dict)
    assert [j["position"] for j in jobs["jobs"]] == [2, 1] or [
        j["position"] for j in jobs["jobs"]
    ] == [1, 2]
    code, out, err = cli("worker", "gen", "--until-idle")
    assert code == 0, err
    done = cli.json("jobs", "gen", "--all")
    assert isinstance(done, dict) and {j["status"] for j in done["jobs"]} == {"succeeded"}
    code, out, _ = cli("usage")
    assert "local-audio" in out and "2 second" in out and "total estimated cost: $0.0000" in out


def test_validation_error_is_one_line(cli: Cli) -> None:
    code, out, err = cli("generate", "gen", "x", "--aspect", "5:1")
    assert code == 1 and out == ""
    assert "aspect ratio '5:1'" in err and err.count("\n") == 1
    code, _, err = cli("generate", "gen", "x", "--provider", "nope")
    assert code == 1 and "no provider 'nope'" in err
    code, _, err = cli("generate", "gen", "x", "--param", "novalue")
    assert code == 1 and "KEY=VALUE" in err


def test_cancel_and_retry(cli: Cli) -> None:
    out = cli.json("generate", "gen", "a lighthouse", "--size", "512")
    assert isinstance(out, dict)
    (job,), (vid,) = out["job_ids"], out["variant_ids"]
    code, text, _ = cli("cancel", "gen", job)
    assert code == 0 and "cancelled" in text
    code, _, err = cli("cancel", "gen", job)
    assert code == 1 and "already cancelled" in err
    shown = cli.json("show", "gen", vid)
    assert (
        isinstance(shown, dict)
        and shown["status"] == "failed"
        and shown["error_code"] == "CANCELLED"
    )
    code, text, _ = cli("retry", "gen", vid)
    assert code == 0 and "queued again" in text
    assert cli("worker", "gen", "--until-idle")[0] == 0
    shown = cli.json("show", "gen", vid)
    assert isinstance(shown, dict) and shown["status"] == "completed"


def test_settings(cli: Cli) -> None:
    assert cli("settings", "jobs.local.concurrency", "3")[0] == 0
    assert cli("settings", "jobs.local.concurrency") == (0, "3\n", "")
    code, out, _ = cli("settings")
    assert "jobs.local.concurrency = 3" in out
    assert cli("settings", "jobs.local.concurrency", "--unset")[0] == 0
    code, _, err = cli("settings", "jobs.local.concurrency")
    assert code == 1 and "not set" in err


def test_a_failed_generation_exits_1(cli: Cli) -> None:
    # refining an image asset into a video kind is impossible: made to fail at validation
    made = cli.json("generate", "gen", "a fox", "--size", "512", "--wait")
    assert isinstance(made, dict)
    code, _, err = cli(
        "generate",
        "gen",
        "make it move",
        "--into",
        made["asset_ids"][0],
        "--provider",
        "local",
        "--model",
        "local-video",
    )
    assert code == 1 and "makes video, not image" in err
    out = json.loads(cli("log", "gen", "--json")[1].splitlines()[-1])
    assert out["command"]["command"] != "refine:request"
