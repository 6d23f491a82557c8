"""Property: any sequence of user commands, undone step by step from the last, leaves
every table as it was; redone from the first, it leaves every table as it was after the
sequence. Commands the space refuses change nothing at all. Nothing ever leaves a live
asset inside a deleted one or a live job for a deleted variant.

Random sequences over a small world (assets with media, a child, a collection, a frame,
style presets, finished, failed and queued generations), drawn from ids that exist —
live or deleted — so restores, conflicts and refusals are exercised too. Jobs are not
run between commands: what the scheduler does is not a user step and is never undone.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.clock import CountingIds
from studio.core import commands as c
from studio.core.check import check_space
from studio.core.errors import StudioError
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from tests.conftest import OWNER, FakeClock, add_variant
from tests.core.tables import differences, tables
from tests.sql import query
from workers.base import ErrorKind, ProviderError
from workers.registry import ProviderRegistry
from workers.testing import ScriptedProvider

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True)
MAX_STEPS = 14


@dataclass(frozen=True)
class Template:
    """The small world, built once; each example works on a copy of its files."""

    root: Path
    file: str
    media: str
    space_id: str
    slug: str
    clock_at: int
    ids_used: int


_TEMPLATE: list[Template] = []


def _template() -> Template:
    if _TEMPLATE:
        return _TEMPLATE[0]
    root = Path(tempfile.mkdtemp(prefix="stateful-template-"))
    atexit.register(shutil.rmtree, root, True)
    provider = ScriptedProvider("scripted")
    clock, ids = FakeClock(), CountingIds()
    with Studio(
        root / "home", clock=clock, ids=ids, providers=ProviderRegistry([provider])
    ) as studio:
        entry = studio.create_space("World")
        with studio.open_space("world") as space:
            _populate(space, provider)
        file, media = studio.paths.home / entry.file, studio.paths.space_media(entry.slug)
    template = Template(
        root,
        str(file.relative_to(root)),
        str(media.relative_to(root)),
        entry.id,
        entry.slug,
        clock.now,
        int(ids().rsplit("-", 1)[1]),
    )
    _TEMPLATE.append(template)
    return template


def _populate(space: Space, provider: ScriptedProvider) -> None:
    hero = add_variant(space, name="Hero")
    add_variant(space, hero.asset_id, name="Hero")
    sword = add_variant(space, name="Sword")
    space.apply(c.CreateAsset("Cape", IMAGE, parent_asset_id=hero.asset_id), OWNER)
    coll = space.apply(c.CreateCollection("Cast"), OWNER).created["collection_id"]
    space.apply(c.AddCollectionItem(coll, asset_id=hero.asset_id), OWNER)
    space.apply(c.AddCollectionItem(coll, variant_id=sword.variant_id), OWNER)
    space.apply(c.CreateFrame("Act 1", 0, 0, 800, 600), OWNER)
    space.apply(c.CreateStylePreset("Ink", prompt="ink", collection_id=coll), OWNER)
    space.apply(c.CreateStylePreset("Neon", prompt="neon", is_default=True), OWNER)
    done = space.apply(c.RequestGeneration("a red kite", IMAGE, options=PLAIN), OWNER)
    scheduler = Scheduler(space, InlineExecutor())
    scheduler.pump()
    space.apply(c.RequestRefine(done.created["asset_id"], "blue", options=PLAIN), OWNER)
    provider.script.append(ProviderError(ErrorKind.SAFETY_BLOCKED, "no"))
    scheduler.pump()
    scheduler.close()
    space.apply(c.RequestGeneration("a green kite", IMAGE, options=PLAIN), OWNER)


@contextmanager
def small_world() -> Iterator[Space]:
    t = _template()
    with tempfile.TemporaryDirectory(prefix="stateful-") as tmp:
        root = Path(tmp)
        (root / t.file).parent.mkdir(parents=True)
        for suffix in ("", "-wal"):
            src = t.root / f"{t.file}{suffix}"
            if src.exists():
                shutil.copy2(src, root / f"{t.file}{suffix}")
        shutil.copytree(t.root / t.media, root / t.media)
        ids = CountingIds()
        for _ in range(t.ids_used):
            ids()
        space = Space.open(
            root / t.file,
            root / t.media,
            space_id=t.space_id,
            slug=t.slug,
            clock=FakeClock(t.clock_at),
            ids=ids,
            providers=ProviderRegistry([ScriptedProvider("scripted")]),
        )
        with space:
            yield space


def _ids(space: Space, sql: str) -> list[str]:
    return [str(row[0]) for row in query(space, sql)]


Pick = Callable[[str], str]


def _command(data: st.DataObject, space: Space) -> c.Command | None:
    """One user command over the ids that exist now (None: nothing to pick from)."""
    pools = {
        "asset": _ids(space, "SELECT id FROM assets ORDER BY id"),
        "variant": _ids(space, "SELECT id FROM variants ORDER BY id"),
        "lineage": _ids(space, "SELECT id FROM lineage ORDER BY id"),
        "collection": _ids(space, "SELECT id FROM collections ORDER BY id"),
        "item": _ids(space, "SELECT id FROM collection_items ORDER BY id"),
        "frame": _ids(space, "SELECT id FROM frames ORDER BY id"),
        "style": _ids(space, "SELECT id FROM style_presets ORDER BY id"),
        "job": _ids(space, "SELECT id FROM jobs ORDER BY id"),
    }

    def pick(pool: str) -> str:
        if not pools[pool]:
            raise LookupError(pool)
        return data.draw(st.sampled_from(pools[pool]), label=pool)

    def maybe(pool: str) -> str | None:
        return pick(pool) if data.draw(st.booleans(), label=f"with {pool}") else None

    name = st.sampled_from(["Hero", "Owl", "Moat", "Kite"])
    makers: dict[str, Callable[[], c.Command]] = {
        "asset:create": lambda: c.CreateAsset(
            data.draw(name), IMAGE, parent_asset_id=maybe("asset")
        ),
        "asset:update": lambda: c.UpdateAsset(pick("asset"), name=data.draw(name)),
        "asset:delete": lambda: c.DeleteAsset(pick("asset")),
        "asset:restore": lambda: c.RestoreAsset(pick("asset")),
        "asset:set-active": lambda: c.SetActiveVariant(pick("asset"), pick("variant")),
        "asset:reparent": lambda: c.ReparentAsset(pick("asset"), maybe("asset")),
        "asset:move": lambda: c.MoveAssets(
            (c.Position(pick("asset"), data.draw(st.integers(-50, 50)), 3.5),)
        ),
        "variant:star": lambda: c.StarVariant(pick("variant"), data.draw(st.booleans())),
        "variant:rate": lambda: c.RateVariant(
            pick("variant"), data.draw(st.sampled_from(c.Rating))
        ),
        "variant:delete": lambda: c.DeleteVariant(pick("variant")),
        "variant:restore": lambda: c.RestoreVariant(pick("variant")),
        "variant:fork": lambda: c.ForkVariant(pick("variant")),
        "variant:upload": lambda: c.BeginUpload(IMAGE, "new.png", asset_id=maybe("asset")),
        "lineage:sever": lambda: c.SeverLineage(pick("lineage")),
        "lineage:restore": lambda: c.RestoreLineage(pick("lineage")),
        "collection:create": lambda: c.CreateCollection(data.draw(name)),
        "collection:update": lambda: c.UpdateCollection(pick("collection"), data.draw(name)),
        "collection:delete": lambda: c.DeleteCollection(pick("collection")),
        "collection:restore": lambda: c.RestoreCollection(pick("collection")),
        "collection:item-add": lambda: c.AddCollectionItem(
            pick("collection"),
            **(
                {"asset_id": pick("asset")}
                if data.draw(st.booleans(), label="asset item")
                else {"variant_id": pick("variant")}
            ),
            position=data.draw(st.none() | st.integers(0, 3)),
        ),
        "collection:item-update": lambda: c.UpdateCollectionItem(pick("item"), data.draw(name)),
        "collection:item-remove": lambda: c.RemoveCollectionItem(pick("item")),
        "collection:reorder": lambda: _reorder(data, space, pick("collection")),
        "frame:create": lambda: c.CreateFrame("Act", 10, 10, 100, 100),
        "frame:update": lambda: c.UpdateFrame(pick("frame"), width=data.draw(st.integers(1, 99))),
        "frame:delete": lambda: c.DeleteFrame(pick("frame")),
        "frame:restore": lambda: c.RestoreFrame(pick("frame")),
        "style:create": lambda: c.CreateStylePreset(
            data.draw(name), is_default=data.draw(st.booleans())
        ),
        "style:update": lambda: c.UpdateStylePreset(
            pick("style"), is_default=data.draw(st.booleans()), collection_id=""
        ),
        "style:delete": lambda: c.DeleteStylePreset(pick("style")),
        "style:restore": lambda: c.RestoreStylePreset(pick("style")),
        "generate:request": lambda: c.RequestGeneration(
            "a blue whale",
            IMAGE,
            references=(pick("variant"),) if data.draw(st.booleans(), label="derive") else (),
        ),
        "refine:request": lambda: c.RequestRefine(pick("asset"), "brighter"),
        "batch:request": lambda: c.RequestBatch(
            "owls",
            IMAGE,
            data.draw(st.integers(1, 3)),
            data.draw(st.sampled_from(c.BatchMode)),
            asset_id=maybe("asset"),
        ),
        "variant:retry": lambda: c.RetryVariant(pick("variant")),
        "variant:regenerate": lambda: c.RegenerateVariant(pick("variant")),
        "job:cancel": lambda: c.CancelJob(pick("job")),
        "queue:pause": c.PauseQueue,
        "queue:resume": c.ResumeQueue,
    }
    kind = data.draw(st.sampled_from(sorted(makers)), label="command")
    try:
        return makers[kind]()
    except LookupError:
        return None


def _reorder(data: st.DataObject, space: Space, cid: str) -> c.Command:
    items = _ids(
        space, f"SELECT id FROM collection_items WHERE collection_id = '{cid}' ORDER BY position"
    )
    return c.ReorderCollection(cid, tuple(data.draw(st.permutations(items), label="order")))


def _apply_list(space: Space, cmds: tuple[c.Command, ...]) -> tuple[c.Command, ...]:
    """Apply an inverse list in order; return the list that undoes it."""
    undo: list[c.Command] = []
    for cmd in cmds:
        undo[:0] = space.apply(cmd, OWNER).inverse
    return tuple(undo)


def _dead_links(space: Space) -> list[str]:
    lines = check_space(space, verify_hashes=False).problems
    return [line for line in lines if " inside the deleted asset " in line or " still " in line]


def run_sequence(data: st.DataObject) -> None:
    with small_world() as space:
        start = tables(space)
        steps: list[tuple[c.Command, tuple[c.Command, ...]]] = []
        for _ in range(data.draw(st.integers(1, MAX_STEPS), label="steps")):
            cmd = _command(data, space)
            if cmd is None:
                continue
            before = tables(space)
            try:
                applied = space.apply(cmd, OWNER)
            except StudioError:
                # refused: nothing at all changed
                assert differences(before, tables(space)) == [], cmd
                continue
            steps.append((cmd, applied.inverse))
        end = tables(space)
        assert _dead_links(space) == []

        redo: list[tuple[c.Command, ...]] = []
        for _, inverse in reversed(steps):
            redo.append(_apply_list(space, inverse))
        assert differences(start, tables(space)) == [], [cmd for cmd, _ in steps]
        assert _dead_links(space) == []

        for undone in reversed(redo):
            _apply_list(space, undone)
        assert differences(end, tables(space)) == [], [cmd for cmd, _ in steps]
        assert _dead_links(space) == []


COMMON = {
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "derandomize": True,  # the CI set is the same every run; the slow set explores
}


@settings(max_examples=int(os.environ.get("STATEFUL_EXAMPLES", "60")), **COMMON)  # type: ignore[arg-type]
@given(st.data())
def test_random_steps_undo_and_redo_restore_every_table(data: st.DataObject) -> None:
    run_sequence(data)


@settings(max_examples=2000, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def _long_run(data: st.DataObject) -> None:
    run_sequence(data)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_random_steps_undo_and_redo_restore_every_table_long(
    request: pytest.FixtureRequest,
) -> None:
    expr = str(request.config.getoption("markexpr") or "")
    if os.environ.get("STUDIO_SLOW") != "1" and ("slow" not in expr or "not slow" in expr):
        pytest.skip("slow: run with -m slow")
    _long_run()
