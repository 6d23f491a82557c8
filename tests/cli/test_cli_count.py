"""``generate --count N`` above one request's limit is sent as several requests in one
step: one batch (one asset for explore, numbered assets for a set), undone at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.core.handlers.generate import MAX_BATCH
from studio.core.studio import Studio
from tests.cli.test_cli import Cli


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    c = Cli(tmp_path / "home", capsys)
    c("space", "create", "Many")
    return c


def _batch_commands(cli: Cli) -> list[dict[str, object]]:
    code, out, err = cli("log", "many", "--json")
    assert code == 0, err
    entries = [json.loads(line) for line in out.splitlines()]
    return [e["command"] for e in entries if e["command"]["command"] == "batch:request"]


def test_count_40_makes_40_variants_of_one_asset_in_3_requests(cli: Cli) -> None:
    out = cli.json("generate", "many", "a paper crane", "--count", "40", "--seed", "7")
    assert isinstance(out, dict)
    assert len(out["variant_ids"]) == len(set(out["variant_ids"])) == 40
    assert len(out["job_ids"]) == 40 and len(out["asset_ids"]) == 1
    parts = _batch_commands(cli)
    assert len(parts) >= 3 and all(int(p["count"]) <= MAX_BATCH for p in parts)  # type: ignore[call-overload]
    assert sum(int(p["count"]) for p in parts) == 40  # type: ignore[call-overload]
    shown = cli.json("show", "many", out["asset_ids"][0])
    assert isinstance(shown, dict) and shown["name"] == "a paper crane"
    assert len(shown["variants"]) == 40
    with Studio(cli.home) as s, s.open_space("many") as space:
        recipes = [space.variant_detail(v).recipe for v in out["variant_ids"]]
        steps = {ch.step_id for ch in space.feed(since=0).poll()}
    # one batch: numbered 0..39 of 40, seeds counting on, each a generation (not a refine)
    assert [r["batch"]["index"] for r in recipes] == list(range(40))
    assert {r["batch"]["count"] for r in recipes} == {40}
    assert [r["seed"] for r in recipes] == list(range(7, 47))
    assert {r["operation"] for r in recipes} == {"generate"}
    assert len(steps) == 1 and None not in steps  # one step
    code, text, _ = cli("undo", "many")
    assert code == 0 and "undid" in text
    assert cli.json("assets", "many") == []


def test_a_set_of_20_is_numbered_through_its_parts(cli: Cli) -> None:
    out = cli.json("generate", "many", "a lantern", "--count", "20", "--mode", "set")
    assert isinstance(out, dict) and len(out["asset_ids"]) == 20
    names = sorted(a["name"] for a in cli.json("assets", "many"))  # type: ignore[union-attr]
    assert names == sorted(f"a lantern {i}" for i in range(1, 21))
    assert len(_batch_commands(cli)) == 2


def test_the_estimate_of_a_split_batch_is_its_parts_sum(cli: Cli) -> None:
    one = cli.json(
        "generate", "many", "x", "--kind", "audio", "--type", "sfx", "--duration", "2", "--estimate"
    )
    forty = cli.json(
        "generate",
        "many",
        "x",
        "--kind",
        "audio",
        "--type",
        "sfx",
        "--duration",
        "2",
        "--count",
        "40",
        "--estimate",
    )
    assert isinstance(one, dict) and isinstance(forty, dict)
    assert forty["units"] == pytest.approx(40 * one["units"])
    assert cli.json("assets", "many") == []  # nothing queued
