"""``studio assets`` reads one row per asset (its variant count and active status come
from the query, not from reading every variant) and prints what the snapshot says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.records import row_json
from tests.conftest import OWNER, add_asset, add_variant


def _expected(space: Space) -> tuple[list[list[str]], list[dict[str, object]]]:
    """The listing as computed from every row (what `assets` printed before)."""
    snap = space.snapshot()
    counts: dict[str, int] = {}
    status: dict[str, str] = {}
    for v in space.all_variants():
        counts[v.asset_id] = counts.get(v.asset_id, 0) + 1
        status[v.id] = v.status
    rows = [
        [
            a.id,
            a.name,
            a.media_kind,
            a.type or "-",
            str(counts.get(a.id, 0)),
            status.get(a.active_variant_id or "", "-"),
            ",".join(a.tags) or "-",
        ]
        for a in snap.assets
    ]
    as_json = [dict(row_json(a), variant_count=counts.get(a.id, 0)) for a in snap.assets]
    return rows, as_json


def test_assets_lists_what_the_snapshot_says(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("List")
        with s.open_space("list") as space:
            hero = add_variant(space, name="Hero")
            add_variant(space, hero.asset_id)
            gone = add_variant(space, hero.asset_id)
            if space.asset(hero.asset_id).active_variant_id == gone.variant_id:
                space.apply(c.SetActiveVariant(hero.asset_id, hero.variant_id), OWNER)
            space.apply(c.DeleteVariant(gone.variant_id), OWNER)  # not counted
            add_variant(space, name="Lone")
            add_asset(space, "Empty", "audio", type="sfx", tags=("rain", "roof"))
            dead = add_asset(space, "Dead")
            space.apply(c.DeleteAsset(dead), OWNER)  # not listed
            rows, as_json = _expected(space)
    assert [r[4] for r in rows] == ["2", "1", "0"]
    assert main(["--home", str(home), "assets", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == as_json
    assert main(["--home", str(home), "assets", "list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["ID", "NAME", "KIND", "TYPE", "VARIANTS", "ACTIVE", "TAGS"]
    assert [re.split(r" {2,}", line) for line in lines[1:]] == rows
    assert main(["--home", str(home), "assets", "list", "--find", "rain", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert [a["name"] for a in found] == ["Empty"] and found[0]["tags"] == ["rain", "roof"]


def test_assets_reads_no_variant_rows(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("Big")
        with s.open_space("big") as space:
            for i in range(3):
                add_variant(space, name=f"A{i}")

    def no_snapshot(self: Space) -> object:
        raise AssertionError("a listing must not read the whole snapshot")

    monkeypatch.setattr(Space, "snapshot", no_snapshot)
    assert main(["--home", str(home), "assets", "big", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [a["variant_count"] for a in listed] == [1, 1, 1]
