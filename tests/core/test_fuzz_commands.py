"""Random hostile JSON commands through the codec and the door: every one ends applied or
in a StudioError — never another exception, and a refused one writes nothing.

A short, seeded run is in the default set; ``-m slow`` runs a long one."""

from __future__ import annotations

import dataclasses
import enum
import json
import random
import types
import typing
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.jsontext import parse_json
from studio.core.space import Space
from tests.conftest import OWNER, add_asset, add_variant

HOSTILE_SCALARS: list[Any] = [
    None,
    True,
    0,
    -1,
    2**63,
    -(2**64),
    10**30,
    1.5,
    float("nan"),
    float("inf"),
    -float("inf"),
    1e308,
    "",
    " ",
    "x" * 300,
    "y" * 100_000,
    "caf\udce9",
    "\ud800",
    "nul\x00",
    "../../etc/passwd",
    "/etc/passwd",
    "a\\b",
    "image",
    "explore",
    "approved",
    "ok",
]


def hostile(rng: random.Random, ids: list[str], depth: int = 0) -> Any:
    roll = rng.random()
    if roll < 0.25:
        return rng.choice(ids)
    if roll < 0.75 or depth > 2:
        return rng.choice(HOSTILE_SCALARS)
    if roll < 0.85:
        return [hostile(rng, ids, depth + 1) for _ in range(rng.choice([0, 1, 3, 70]))]
    if roll < 0.95:
        return {rng.choice(["asset_id", "x", "y", "k", "\udcff"]): hostile(rng, ids, depth + 1)}
    nested: Any = 1
    for _ in range(rng.choice([40, 2000])):
        nested = [nested]
    return nested


def plausible(rng: random.Random, hint: Any, ids: list[str]) -> Any:
    """A value of the field's own type (so handlers, not only the codec, get exercised)."""
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return None if rng.random() < 0.2 else plausible(rng, args[0], ids)
    if origin is tuple:
        item = typing.get_args(hint)[0]
        return [plausible(rng, item, ids) for _ in range(rng.choice([0, 1, 2]))]
    if origin is not None:  # a Mapping
        return {"k": rng.choice([1, "v", [1.5]])}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return rng.choice(list(hint)).value
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return {
            f.name: plausible(rng, h, ids)
            for f, h in zip(dataclasses.fields(hint), _hints(hint), strict=True)
            if rng.random() < 0.7 or f.default is dataclasses.MISSING
        }
    if hint is bool:
        return rng.random() < 0.5
    if hint is int:
        return rng.choice([0, 1, 2, 3, 16, 1000])
    if hint is float:
        return rng.choice([0.0, 1.0, 120.5, -40.0])
    return rng.choice([*ids, "ok", "Hero", "a/b.png", "STOP"])


def _hints(cls: Any) -> list[Any]:
    hints = typing.get_type_hints(cls)
    return [hints[f.name] for f in dataclasses.fields(cls)]


def random_command(rng: random.Random, ids: list[str]) -> dict[str, Any]:
    name = rng.choice(c.command_names())
    cls = c.command_class(name)
    obj: dict[str, Any] = {"command": name}
    for f, hint in zip(dataclasses.fields(cls), _hints(cls), strict=True):  # type: ignore[arg-type]
        roll = rng.random()
        if roll < 0.15:
            obj[f.name] = hostile(rng, ids)
        elif roll < 0.9 or f.default is dataclasses.MISSING:
            obj[f.name] = plausible(rng, hint, ids)
    if rng.random() < 0.05:
        obj["extra\udcff"] = 1
    return obj


def fuzz(space: Space, rounds: int, seed: int) -> int:
    rng = random.Random(seed)
    made = add_variant(space)
    ids = [made.asset_id, made.variant_id, add_asset(space, "Other"), "nope"]
    applied = 0
    for _ in range(rounds):
        obj = random_command(rng, ids)
        sources: list[Any] = [obj]
        try:
            sources.append(json.dumps(obj, allow_nan=True))  # what a careless client sends
        except RecursionError:
            sources.append("[" * 5000 + "]" * 5000)
        for source in sources:
            try:
                cmd = c.command_from_json(
                    parse_json(source, "fuzz") if isinstance(source, str) else source
                )
            except StudioError:
                continue
            actor = Actor.system() if cmd.internal else OWNER
            seq = space.last_seq()
            try:
                space.apply(cmd, actor)
                applied += 1
            except StudioError:
                assert space.last_seq() == seq
            break
    return applied


def test_random_hostile_commands_end_in_studio_errors(space: Space) -> None:
    fuzz(space, 400, seed=9)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_random_hostile_commands_long(
    space: Space, seed: int, request: pytest.FixtureRequest
) -> None:
    if "slow" not in (request.config.option.markexpr or ""):
        pytest.skip("the long fuzz runs with -m slow")
    fuzz(space, 5000, seed=seed)
