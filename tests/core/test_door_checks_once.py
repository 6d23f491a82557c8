"""A command that arrives as JSON is checked field by field once: the door does not
decode it a second time (a peer's command on a sharing host paid for both), while a
command built in code is still checked in full before any write."""

from __future__ import annotations

from typing import Any

import pytest

from studio.core import commands
from studio.core.commands import CreateFrame, command_from_json, command_to_json
from studio.core.errors import ValidationError
from studio.core.space import Space
from tests.conftest import OWNER


def _counting(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    decoded: list[str] = []
    real = commands._decode_dataclass

    def counted(cls: type, body: Any, where: str) -> Any:
        decoded.append(where)
        return real(cls, body, where)

    monkeypatch.setattr(commands, "_decode_dataclass", counted)
    return decoded


def test_a_command_parsed_from_json_is_not_decoded_again_by_the_door(
    space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counting(monkeypatch)
    cmd = command_from_json(
        {"command": "frame:create", "title": "Act 1", "x": 1, "y": 2, "width": 3, "height": 4}
    )
    assert decoded == ["frame:create"]
    applied = space.apply(cmd, OWNER)
    assert decoded == ["frame:create"]  # before: decoded again inside the door
    # what the change log records is the same normalized JSON form as before
    assert command_to_json(applied.command)["x"] == 1.0


def test_a_command_built_in_code_is_still_checked_in_full(
    space: Space, monkeypatch: pytest.MonkeyPatch
) -> None:
    decoded = _counting(monkeypatch)
    space.apply(CreateFrame("Act 1", 0, 0, 10, 10), OWNER)
    assert decoded == ["frame:create"]
    with pytest.raises(ValidationError):
        space.apply(CreateFrame("x" * 100_000, 0, 0, 10, 10), OWNER)
    # an equal command made in code is not taken for the parsed one
    parsed = command_from_json(command_to_json(CreateFrame("Act 2", 0, 0, 10, 10)))
    decoded.clear()
    space.apply(CreateFrame("Act 2", 0, 0, 10, 10), OWNER)
    assert decoded == ["frame:create"]
    space.apply(parsed, OWNER)
    assert decoded == ["frame:create"]


def test_the_memo_of_parsed_commands_stays_bounded() -> None:
    for i in range(3 * commands._PARSED_MAX):
        command_from_json(
            {"command": "frame:create", "title": f"t{i}", "x": 0, "y": 0, "width": 1, "height": 1}
        )
    assert len(commands._PARSED) <= commands._PARSED_MAX


def test_parsed_commands_are_let_through_once_and_not_held_on_to() -> None:
    """A parsed command skips the second check once, then leaves the list (a big one —
    a move of 10,000 cards — was held until 256 more had been parsed)."""
    from studio.core import commands as cmds

    big = cmds.command_from_json(
        {
            "command": "asset:move",
            "positions": [{"asset_id": f"a{i}", "x": i, "y": 0} for i in range(100)],
        }
    )
    assert cmds._PARSED.get(id(big)) is big
    cmds.validate_command(big)
    assert id(big) not in cmds._PARSED
    for i in range(100):
        cmds.command_from_json({"command": "asset:update", "asset_id": f"a{i}", "name": "n"})
    assert len(cmds._PARSED) <= cmds._PARSED_MAX <= 32
