"""Commands as JSON: every command round-trips; bad JSON gets a clear error."""

from __future__ import annotations

import pytest

from studio.core import commands as c
from studio.core.errors import ValidationError
from tests.core.test_inverse import SCENARIOS, World

WORLD = World(*(f"id{i}" for i in range(14)))


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_round_trip(label: str) -> None:
    cmd = SCENARIOS[label](WORLD)
    assert c.command_from_json(c.command_to_json(cmd)) == cmd


def test_internal_round_trip() -> None:
    cmd = c.CompleteVariant(
        "v", "a/b.png", "image/png", 3, "ab", width=2, provider_metadata={"k": [1]}
    )
    assert c.command_from_json(c.command_to_json(cmd)) == cmd


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        ([], "must be a JSON object"),
        ({}, '"command" name'),
        ({"command": "asset:explode"}, "unknown command 'asset:explode'"),
        ({"command": "asset:create", "name": "x"}, "missing field 'media_kind'"),
        (
            {"command": "asset:create", "name": "x", "media_kind": "smell"},
            "one of: image, audio, video",
        ),
        ({"command": "asset:create", "name": 3, "media_kind": "image"}, "name must be a string"),
        (
            {"command": "asset:create", "name": "x", "media_kind": "image", "color": 1},
            "unknown field(s) color",
        ),
        ({"command": "asset:move", "positions": {}}, "must be a list"),
        (
            {"command": "asset:move", "positions": [{"asset_id": "a", "x": "1", "y": 0}]},
            "positions[0].x must be a number",
        ),
        ({"command": "variant:star", "variant_id": "v", "starred": 1}, "true or false"),
        ({"command": "collection:item-add", "collection_id": "c", "position": 1.5}, "whole number"),
        ({"command": "asset:delete", "asset_id": None}, "asset_id must be a string"),
        (
            {"command": "asset:create", "name": "x", "media_kind": "image", "asset_id": 5},
            "asset_id must be a string",
        ),
    ],
)
def test_bad_json_commands(obj: object, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        c.command_from_json(obj)
    assert message in err.value.message
