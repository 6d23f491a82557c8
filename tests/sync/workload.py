"""Random but valid commands against a space (convergence runs)."""

from __future__ import annotations

import random

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.space import Space
from tests.sql import query


def _ids(space: Space, sql: str) -> list[str]:
    return [str(r[0]) for r in query(space, sql)]


def random_command(space: Space, rng: random.Random) -> c.Command:
    assets = _ids(space, "SELECT id FROM assets WHERE deleted_at IS NULL ORDER BY id")
    dead = _ids(space, "SELECT id FROM assets WHERE deleted_at IS NOT NULL ORDER BY id")
    frames = _ids(space, "SELECT id FROM frames WHERE deleted_at IS NULL ORDER BY id")
    cols = _ids(space, "SELECT id FROM collections WHERE deleted_at IS NULL ORDER BY id")
    roll = rng.random()
    if not assets or roll < 0.2:
        return c.CreateAsset(
            name=f"A{rng.randrange(1000)}",
            media_kind=c.MediaKindName.IMAGE,
            x=rng.uniform(-500, 500),
            y=rng.uniform(-500, 500),
        )
    if roll < 0.35:
        picks = rng.sample(assets, min(len(assets), rng.randint(1, 3)))
        return c.MoveAssets(
            tuple(c.Position(a, rng.uniform(-900, 900), rng.uniform(-900, 900)) for a in picks)
        )
    if roll < 0.45:
        return c.UpdateAsset(rng.choice(assets), name=f"N{rng.randrange(1000)}", tags=("x",))
    if roll < 0.52:
        return c.DeleteAsset(rng.choice(assets))
    if roll < 0.57 and dead:
        return c.RestoreAsset(rng.choice(dead))
    if roll < 0.67 or not frames:
        return c.CreateFrame(f"F{rng.randrange(99)}", rng.uniform(0, 9), 0, 10, 10)
    if roll < 0.75:
        return c.UpdateFrame(rng.choice(frames), x=rng.uniform(0, 500))
    if roll < 0.8:
        return c.DeleteFrame(rng.choice(frames))
    if roll < 0.88 or not cols:
        return c.CreateCollection(f"C{rng.randrange(99)}")
    return c.AddCollectionItem(rng.choice(cols), asset_id=rng.choice(assets))


def run(space: Space, actor: Actor, rng: random.Random, steps: int) -> int:
    """Apply ``steps`` random steps (1-3 commands each, some undone); return how many
    were applied (a refused one, e.g. adding an asset twice, changes nothing)."""
    done = 0
    for _ in range(steps):
        if rng.random() < 0.1:
            try:
                space.undo(actor)
                done += 1
            except StudioError:
                pass
            continue
        cmds = [random_command(space, rng) for _ in range(rng.randint(1, 3))]
        try:
            space.apply_step(cmds, actor)
            done += 1
        except StudioError:
            pass
    return done
