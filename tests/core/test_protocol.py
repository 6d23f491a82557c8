"""The typed protocol: every event the core emits decodes against one catalogue, and
``docs/protocol.md`` is the catalogue as the code has it."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core import protocol as p
from studio.core.errors import StorageError, ValidationError
from studio.core.events import Event
from studio.core.forge import Recipe
from studio.core.space import Space
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from tests.assistant.scenario import exercise
from tests.conftest import OWNER
from tests.core.test_inverse import SCENARIOS, _apply_all, build

ROOT = Path(__file__).resolve().parents[2]


def test_docs_protocol_md_is_the_catalogue_as_the_code_has_it() -> None:
    doc = (ROOT / "docs" / "protocol.md").read_text(encoding="utf-8")
    assert doc == p.markdown(), (
        "docs/protocol.md is stale: run `python -m studio.core.protocol --markdown > docs/protocol.md`"
    )
    assert f"Protocol version: **{p.PROTOCOL_VERSION}**" in doc
    for name in c.command_names():
        assert f"### `{name}`" in doc
    for name in p.event_names():
        assert f"### `{name}`" in doc


def test_the_generator_runs_as_a_module() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "studio.core.protocol", "--markdown"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == p.markdown()


def test_every_event_kind_named_in_the_core_is_in_the_catalogue() -> None:
    """Static: each ``"kind:name"`` literal the handlers, tx and scheduler emit."""
    sources = [
        *sorted((ROOT / "studio" / "core" / "handlers").glob("*.py")),
        ROOT / "studio" / "core" / "tx.py",
        ROOT / "studio" / "jobs" / "scheduler.py",
    ]
    emitted: set[str] = set()
    for path in sources:
        text = path.read_text(encoding="utf-8")
        emitted |= set(re.findall(r"_?emit\w*\(\s*(?:tx,\s*)?\"([a-z]+:[a-z-]+)\"", text))
        emitted |= set(re.findall(r"Event\(\s*\"([a-z]+:[a-z-]+)\"", text))
    assert len(emitted) > 20
    assert emitted - set(p.EVENTS) == set()


def test_every_event_of_a_run_of_every_command_decodes_against_the_catalogue(
    space: Space,
) -> None:
    seen: list[Event] = []
    unsubscribe = space.subscribe(seen.append)
    world = build(space)
    for label in sorted(SCENARIOS):
        applied = space.apply(SCENARIOS[label](world), OWNER)
        redo = _apply_all(space, applied.inverse)  # the restores and queue:resume too
        _apply_all(space, redo)
        _apply_all(space, applied.inverse)
    exercise(space)  # the assistant's commands (not undone with a person's steps)
    scheduler = Scheduler(space, InlineExecutor())
    scheduler.pump()  # the internal job commands (start, complete) of the queued work
    scheduler.close()
    unsubscribe()

    kinds = {p.decode_event(ev).kind for ev in seen}
    assert set(p.EVENTS) == kinds  # every kind of the catalogue is reached
    for ev in seen:
        typed = p.decode_event(ev)
        assert p.encode_event(typed) == Event(ev.type, ev.data, ev.seq)

    with space.feed(since=0) as feed:  # and as followers read them back from the log
        logged = []
        while batch := feed.events():
            logged += batch
    assert logged == [ev for ev in seen if not p.EVENTS[ev.type].transient]
    recipes = set()
    for vid in {ev.data["id"] for ev in seen if ev.type == "variant:created"}:
        raw = space.variant_detail(vid).recipe
        if raw:  # a generated variant's recipe, as stored: the same codec reads it back
            recipe = p.decode_recipe(raw)
            if isinstance(recipe, Recipe):
                assert recipe == Recipe.from_json(raw)
            assert p.encode_recipe(recipe) == raw
            recipes.add(recipe.operation)
    assert recipes == {"generate", "derive", "refine", "import", "fork"}
    assert len(logged) > 100
    for ev in logged:
        assert p.decode_event(ev.to_json()).seq == ev.seq
        assert not p.EVENTS[ev.type].transient


def test_a_typed_event_carries_typed_values() -> None:
    ev = Event("asset:moved", {"positions": [{"asset_id": "a1", "x": 1, "y": 2.5}]}, seq=7)
    typed = p.decode_event(ev)
    assert typed == p.TypedEvent("asset:moved", p.Moved((c.Position("a1", 1.0, 2.5),)), 7)
    assert isinstance(typed.data.positions[0].x, float)
    assert p.decode_event({"type": "queue:paused", "seq": 3, "data": {}}).data == p.Empty()


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"type": "asset:exploded", "data": {}}, "unknown event kind 'asset:exploded'"),
        ({"data": {}}, "unknown event kind None"),
        ("asset:deleted", "an event must be a JSON object"),
        ({"type": "asset:deleted", "data": {}}, "asset:deleted: missing field(s) id"),
        ({"type": "asset:deleted", "data": {"id": 5}}, "asset:deleted.id must be a string"),
        (
            {"type": "asset:deleted", "data": {"id": "a", "why": 1}},
            "asset:deleted: unknown field(s) why",
        ),
        ({"type": "asset:deleted", "data": {"id": None}}, "asset:deleted.id may not be null"),
        ({"type": "asset:deleted", "data": []}, "asset:deleted must be an object"),
        ({"type": "asset:deleted", "seq": "1", "data": {"id": "a"}}, "seq must be"),
        (
            {"type": "collection:items", "data": {"collection_id": "c", "items": {}}},
            "collection:items.items must be a list",
        ),
        (
            {
                "type": "job:progress",
                "data": {"job_id": "j", "variant_id": "v", "progress": True, "message": ""},
            },
            "job:progress.progress must be a number",
        ),
    ],
)
def test_a_malformed_event_is_refused_with_one_clear_sentence(event: object, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        p.decode_event(event)  # type: ignore[arg-type]


def test_every_payload_field_is_typed_the_way_the_codec_can_check() -> None:
    """A payload field of a type the codec cannot check would pass anything."""
    for spec in p.EVENTS.values():
        for name, hint in p._hints(spec.payload).items():
            assert "object" not in p.type_name(hint), f"{spec.name}.{name} is untyped"


def test_a_follower_reads_typed_events_and_an_entry_off_the_protocol_is_one_clear_error(
    space: Space,
) -> None:
    feed = space.feed()
    aid = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE), OWNER).created["asset_id"]
    space.apply(c.MoveAssets((c.Position(aid, 3, 4),)), OWNER)
    typed = feed.typed_events()
    assert [t.kind for t in typed] == ["asset:created", "asset:moved"]
    assert isinstance(typed[0].data, p.AssetData) and typed[0].data.name == "Hero"
    assert typed[1].data.positions == (c.Position(aid, 3.0, 4.0),)

    space.apply(c.UpdateAsset(aid, name="Heroine"), OWNER)
    bad = space.last_seq()
    path = space.media_dir.parents[1] / "spaces" / f"{space.slug}.db"
    raw = sqlite3.connect(path, isolation_level=None)
    try:  # an entry written by a writer that does not speak this protocol
        raw.execute(
            "UPDATE changes SET events = ? WHERE seq = ?",
            (json.dumps([{"type": "asset:updated", "data": {"id": aid}}]), bad),
        )
    finally:
        raw.close()
    with pytest.raises(StorageError) as err:
        feed.typed_events()
    assert str(err.value) == (
        f"the change log does not match protocol version {p.PROTOCOL_VERSION} at change "
        f"{bad}: asset:updated: missing field(s) slug, name, type, media_kind, tags, "
        "parent_asset_id, x, y, active_variant_id, created_at"
    )
    feed.close()


def test_a_recipe_off_the_protocol_is_refused_with_one_clear_sentence() -> None:
    good = {
        "operation": "generate",
        "prompt": "a fox",
        "prompt_sent": "a fox",
        "provider": "scripted",
        "model": "m",
        "media_kind": "image",
        "audio_type": None,
        "size": None,
        "aspect_ratio": None,
        "duration_s": None,
        "seed": 7,
        "params": {},
        "source_variant_ids": [],
        "references_sent": [],
        "style": None,
    }
    assert p.decode_recipe(good).batch is None  # a default may be left out
    with pytest.raises(
        ValidationError, match=re.escape("generate recipe.seed must be a whole number")
    ):
        p.decode_recipe({**good, "seed": "7"})
    with pytest.raises(
        ValidationError, match=re.escape("generate recipe.params must be an object")
    ):
        p.decode_recipe({**good, "params": []})
    with pytest.raises(
        ValidationError, match=re.escape("generate recipe: missing field(s) provider")
    ):
        p.decode_recipe({k: v for k, v in good.items() if k != "provider"})
    with pytest.raises(ValidationError, match=re.escape("unknown recipe operation 'paint'")):
        p.decode_recipe({**good, "operation": "paint"})
    imported = {"operation": "import", "original_name": "hero.png"}
    assert p.decode_recipe(imported) == p.ImportRecipe("import", "hero.png")
    with pytest.raises(ValidationError, match=re.escape("import recipe: unknown field(s) seed")):
        p.decode_recipe({**imported, "seed": 1})
