"""Hostile input at the command door: sizes, text, numbers, nesting, forged actors, paths.

Every hostile value is generated here. Each must end in one ValidationError (or
PermissionDeniedError) with nothing written, and never in UnicodeEncodeError,
RecursionError, OverflowError, ValueError or a slow, lock-holding loop.
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pickle
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.errors import PermissionDeniedError, StudioError, ValidationError
from studio.core.jsontext import parse_json
from studio.core.limits import MAX_JSON_DEPTH, MAX_POSITIONS, MAX_TAGS
from studio.core.space import Space
from tests.conftest import OWNER, add_asset, add_variant

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True)
SURROGATE = "caf\udce9"  # what Python makes of the undecodable argv byte b"\xe9"


def deep_list(depth: int) -> list[Any]:
    root: list[Any] = []
    node = root
    for _ in range(depth):
        child: list[Any] = []
        node.append(child)
        node = child
    return root


def deep_dict(depth: int) -> dict[str, Any]:
    root: dict[str, Any] = {}
    node = root
    for _ in range(depth):
        child: dict[str, Any] = {}
        node["k"] = child
        node = child
    return root


def refused(space: Space, cmd: c.Command, actor: Actor = OWNER) -> StudioError:
    """Apply ``cmd``; it must fail with a StudioError and change nothing."""
    seq, before = space.last_seq(), space.snapshot()
    with pytest.raises(StudioError) as err:
        space.apply(cmd, actor)
    assert space.last_seq() == seq
    assert space.snapshot() == before
    assert "\n" not in err.value.message
    return err.value


# --------------------------------------------------------------------------- sizes (item 6)


def test_a_huge_tag_list_is_refused_at_once_and_holds_no_lock(space: Space) -> None:
    tags = tuple(f"tag{i}" for i in range(100_000))
    other: list[float] = []

    def writer() -> None:  # another writer, during the hostile command
        t0 = time.perf_counter()
        add_asset(space, "Bystander")
        other.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    thread = threading.Thread(target=writer)
    thread.start()
    with pytest.raises(StudioError) as refusal:
        space.apply(c.CreateAsset("Hero", IMAGE, tags=tags), OWNER)
    elapsed = time.perf_counter() - t0
    thread.join(10)
    err = refusal.value
    assert f"the limit is {MAX_TAGS}" in err.message
    # the bystander's write went through (reads never wait for it); the refused one not
    assert [a.name for a in space.snapshot().assets] == ["Bystander"]
    assert [ch.command for ch in space.changes(0)] == ["asset:create"]
    assert elapsed < 1.0, f"refusing 100k tags took {elapsed:.2f} s"
    assert other and other[0] < 1.0


def test_tag_dedupe_is_linear_and_keeps_the_first_spelling(space: Space) -> None:
    tags = tuple(["Blue", " blue ", "BLUE"] + [f"t{i}" for i in range(MAX_TAGS - 4)] + ["Red"])
    aid = add_asset(space, "Hero", tags=tags)
    stored = space.asset(aid).tags
    assert stored[0] == "blue" and stored.count("blue") == 1 and stored[-1] == "red"
    assert len(stored) == MAX_TAGS - 2


@pytest.mark.parametrize(
    ("make", "fragment"),
    [
        (lambda: c.CreateAsset("n" * 100_000, IMAGE), "limit is 200"),
        (lambda: c.CreateCollection("n" * 10**6), "limit is 200"),
        (lambda: c.RequestGeneration("p" * 10**6, IMAGE, options=PLAIN), "limit is 20000"),
        (lambda: c.MoveAssets(tuple(c.Position("a", 0, 0) for _ in range(20_000))), "limit"),
        (lambda: c.RequestGeneration("p", IMAGE, references=("v",) * 1000), "limit is 14"),
    ],
)
def test_oversized_fields_are_refused(
    space: Space, make: Callable[[], c.Command], fragment: str
) -> None:
    assert fragment in refused(space, make()).message


def test_a_big_move_costs_a_few_queries_not_one_per_asset(space: Space) -> None:
    ids = [add_asset(space, f"A{i}") for i in range(300)]
    statements: list[str] = []
    space._db.conn.set_trace_callback(statements.append)
    try:
        space.apply(c.MoveAssets(tuple(c.Position(a, 5.0, 6.0) for a in ids)), OWNER)
    finally:
        space._db.conn.set_trace_callback(None)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) < 30, f"moving 300 assets ran {len(selects)} SELECTs"
    assert space.asset(ids[-1]).x == 5.0
    with pytest.raises(StudioError, match="there is no asset nope"):
        space.apply(c.MoveAssets((c.Position(ids[0], 1, 1), c.Position("nope", 1, 1))), OWNER)
    assert space.asset(ids[0]).x == 5.0


# --------------------------------------------------------------------------- text (item 9)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: c.CreateAsset(SURROGATE, IMAGE),
        lambda a: c.CreateAsset("ok", IMAGE, type=SURROGATE),
        lambda a: c.CreateAsset("ok", IMAGE, tags=("fine", SURROGATE)),
        lambda a: c.CreateAsset("nul\x00name", IMAGE),
        lambda a: c.UpdateAsset(a, name="\ud800"),
        lambda a: c.CreateCollection("\udfff"),
        lambda a: c.CreateFrame(SURROGATE, 0, 0, 10, 10),
        lambda a: c.CreateStylePreset("s", prompt=SURROGATE),
        lambda a: c.BeginUpload(IMAGE, SURROGATE + ".png"),
        lambda a: c.RequestGeneration(SURROGATE, IMAGE, options=PLAIN),
        lambda a: c.DeleteAsset(SURROGATE),
        lambda a: c.DeleteAsset("../../" + a),
        lambda a: c.DeleteAsset(a + "x" * 64),
        lambda a: c.RequestGeneration("p", IMAGE, references=("a b",), options=PLAIN),
    ],
)
def test_text_that_is_not_text_is_refused(space: Space, make: Callable[[str], c.Command]) -> None:
    aid = add_asset(space)
    err = refused(space, make(aid))
    assert isinstance(err, ValidationError)


# --------------------------------------------------------------------------- numbers (item 9)


@pytest.mark.parametrize(
    "make",
    [
        lambda a: c.CreateAsset("a", IMAGE, x=float("nan")),
        lambda a: c.CreateAsset("a", IMAGE, y=float("inf")),
        lambda a: c.CreateFrame("f", 0, 0, float("inf"), 1),
        lambda a: c.MoveAssets((c.Position(a, float("-inf"), 0),)),
        lambda a: c.CreateAsset("a", IMAGE, x=10**400),  # type: ignore[arg-type]
        lambda a: c.RequestGeneration("p", IMAGE, options=c.GenerationOptions(priority=10**30)),
        lambda a: c.RequestGeneration("p", IMAGE, options=c.GenerationOptions(seed=-(10**100))),
        lambda a: c.RequestGeneration(
            "p", IMAGE, options=c.GenerationOptions(duration_s=float("nan"))
        ),
        lambda a: c.RequestBatch("p", IMAGE, 10**20, options=PLAIN),
    ],
)
def test_numbers_out_of_range_are_refused(space: Space, make: Callable[[str], c.Command]) -> None:
    aid = add_asset(space)
    assert isinstance(refused(space, make(aid)), ValidationError)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ('{"command": "asset:create", "name": "a", "media_kind": "image", "x": 1e400}', "large"),
        ('{"command": "asset:create", "name": "a", "media_kind": "image", "x": NaN}', "NaN"),
        ('{"command": "asset:create", "name": "a", "media_kind": "image", "x": -Infinity}', "Inf"),
        (
            '{"command": "asset:create", "name": "a", "media_kind": "image", "x": '
            + "7" * 100_000
            + "}",
            "digits",
        ),
        ("[" * 100_000 + "]" * 100_000, "nested"),
        ('{"a":' * 100_000 + "1" + "}" * 100_000, "nested"),
        ('{"command": "asset:create", "name": "\\ud800", "media_kind": "image"}', "UTF-8"),
        (b'{"command": "asset:create", "name": "\xff", "media_kind": "image"}', "UTF-8"),
        ("[" + "1," * (2 * 1024 * 1024) + "1]", "larger"),
    ],
)
def test_hostile_json_text_gets_one_clear_error(
    space: Space, text: str | bytes, fragment: str
) -> None:
    with pytest.raises(ValidationError) as err:
        c.command_from_json(parse_json(text, "the command"))
    assert fragment in err.value.message
    assert "\n" not in err.value.message


def test_deep_values_built_in_code_are_refused_without_recursion(space: Space) -> None:
    for deep in (deep_list(100_000), deep_dict(100_000), deep_list(MAX_JSON_DEPTH + 1)):
        cmd = c.RequestGeneration("p", IMAGE, options=c.GenerationOptions(params={"k": deep}))
        assert "nested" in refused(space, cmd).message
        obj = c.command_to_json(c.RequestGeneration("p", IMAGE, options=PLAIN))
        obj["options"]["params"] = {"k": deep}
        with pytest.raises(ValidationError, match="nested"):
            c.command_from_json(obj)


def test_values_within_the_limits_still_work(space: Space) -> None:
    params = {"k": deep_list(MAX_JSON_DEPTH - 6), "n": 2**62, "f": 1e300, "s": "é" * 1000}
    cmd = c.RequestGeneration("café ☕", IMAGE, options=c.GenerationOptions(params=params))
    assert c.command_from_json(parse_json(bytes_of(cmd), "x")) == cmd


def test_the_largest_move_allowed_fits_in_the_json_limits() -> None:
    import json

    positions = [{"asset_id": f"a{i}", "x": 1.5, "y": -2} for i in range(MAX_POSITIONS)]
    text = json.dumps({"command": "asset:move", "positions": positions})
    cmd = c.command_from_json(parse_json(text, "the command"))
    assert isinstance(cmd, c.MoveAssets) and len(cmd.positions) == MAX_POSITIONS
    positions.append({"asset_id": "one-more", "x": 0, "y": 0})
    with pytest.raises(ValidationError, match="limit is 10000"):
        c.command_from_json(
            parse_json(json.dumps({"command": "asset:move", "positions": positions}))
        )


def bytes_of(cmd: c.Command) -> bytes:
    import json

    return json.dumps(c.command_to_json(cmd), ensure_ascii=False).encode()


@pytest.mark.parametrize(
    "metadata",
    [
        {"k": float("inf")},
        {"k": float("nan")},
        {"k": 10**5000},
        {"k": SURROGATE},
        {SURROGATE: 1},
        {"k": "x" * 10**6},
        {"k": deep_list(100_000)},
        {"k": list(range(100_000))},
    ],
    ids=["inf", "nan", "huge-int", "surrogate", "surrogate-key", "long", "deep", "wide"],
)
def test_results_from_inside_are_checked_too(space: Space, metadata: dict[str, Any]) -> None:
    vid = _upload(space)
    (space.media_dir / "a.png").write_bytes(b"data")
    cmd = _complete(vid, "a.png", provider_metadata=metadata)
    assert isinstance(refused(space, cmd, Actor.system()), ValidationError)
    space.apply(_complete(vid, "a.png", provider_metadata={"k": [1.5, "é"]}), Actor.system())


# --------------------------------------------------------------------------- job:cancel (item 12)


@pytest.mark.parametrize(
    ("code", "message", "fragment"),
    [
        ("", "stop", "can't be empty"),
        ("   ", "stop", "can't be empty"),
        ("X" * 65, "stop", "limit is 64"),
        ("STOP", "m" * 100_000, "limit is 2000"),
        ("STOP", "", "can't be empty"),
    ],
)
def test_job_cancel_bounds_code_and_message(
    space: Space, code: str, message: str, fragment: str
) -> None:
    jid = space.apply(c.RequestGeneration("p", IMAGE, options=PLAIN), OWNER).created["job_id"]
    assert fragment in refused(space, c.CancelJob(jid, code, message)).message
    space.apply(c.CancelJob(jid, "STOP", "the user stopped it"), OWNER)
    assert space.jobs()[0].error_code == "STOP"


# --------------------------------------------------------------------------- capability (item 13)


FORGED = [
    Actor("system", "Forge Studio", Role.OWNER),
    dataclasses.replace(Actor.system()),
    pickle.loads(pickle.dumps(Actor.system())),
]


@pytest.mark.parametrize("forged", FORGED, ids=["built", "replaced", "pickled"])
def test_internal_commands_need_the_studio_itself_not_its_id(space: Space, forged: Actor) -> None:
    made = add_variant(space)
    jid = space.apply(c.RequestGeneration("p", IMAGE, options=PLAIN), OWNER).created["job_id"]
    assert forged == Actor.system() and not forged.is_system
    for cmd in (
        c.FailVariant(made.variant_id, "X", "forged"),
        c.StartJob(jid, "w", 1000),
        c.FailJob(jid, "X", "forged"),
        c.RequeueJob(jid, "forged"),
    ):
        err = refused(space, cmd, forged)
        assert isinstance(err, PermissionDeniedError)
    assert Actor.system() is Actor.system() and Actor.system().is_system
    assert copy.deepcopy(Actor.system()).is_system  # copying in-process is holding it
    space.apply(c.StartJob(jid, "w", 1000), Actor.system())


# --------------------------------------------------------------------------- stored paths (item 13)


def _upload(space: Space) -> str:
    return space.apply(c.BeginUpload(IMAGE, "x.png"), OWNER).created["variant_id"]


def _complete(vid: str, path: str, **kw: Any) -> c.CompleteVariant:
    return c.CompleteVariant(vid, path, "image/png", 4, "0" * 64, **kw)


@pytest.mark.parametrize(
    "path",
    [
        "/etc/passwd",
        "../outside.png",
        "a/../../outside.png",
        "a\\..\\..\\outside.png",
        "C:/outside.png",
        "a/./b.png",
        ".",
        "",
        "a\x00b.png",
        "escape/outside.png",  # a symlink inside the media folder that leads out
    ],
)
def test_stored_media_paths_stay_inside_the_media_folder(
    space: Space, tmp_path: Path, path: str
) -> None:
    outside = space.media_dir.parent / "outside.png"
    outside.write_bytes(b"secret")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "outside.png").write_bytes(b"secret")
    os.symlink(tmp_path / "elsewhere", space.media_dir / "escape")
    vid = _upload(space)
    err = refused(space, _complete(vid, path), Actor.system())
    assert isinstance(err, ValidationError)
    inside = space.media_dir / "ok" / "a.png"
    inside.parent.mkdir()
    inside.write_bytes(b"good")
    err = refused(space, _complete(vid, "ok/a.png", thumb_path=path), Actor.system())
    assert isinstance(err, ValidationError)
    space.apply(_complete(vid, "ok/a.png"), Actor.system())
    assert space.variant_detail(vid).row.media_path == "ok/a.png"


def test_a_tampered_stored_path_is_never_sent_to_a_provider(space: Space) -> None:
    import sqlite3

    made = add_variant(space)
    assert space._db.path is not None
    raw = sqlite3.connect(space._db.path)
    raw.execute("UPDATE variants SET media_path = '/etc/passwd' WHERE id = ?", (made.variant_id,))
    raw.commit()
    raw.close()
    cmd = c.RequestRefine(made.asset_id, "brighter", options=PLAIN)
    err = refused(space, cmd)
    assert isinstance(err, ValidationError) and "inside the space" in err.message


def test_a_media_path_through_a_link_that_stays_inside_is_taken(space: Space) -> None:
    """Only a link leading out is refused: paths without links are checked part by
    part, one with a link is resolved whole."""
    from studio.core.handlers.common import media_file

    inside = space.media_dir / "real" / "a.png"
    inside.parent.mkdir()
    inside.write_bytes(b"good")
    os.symlink(space.media_dir / "real", space.media_dir / "alias")
    root = Path(os.path.realpath(space.media_dir))
    assert media_file(space.media_dir, "real/a.png") == root / "real" / "a.png"
    assert media_file(space.media_dir, "alias/a.png") == root / "real" / "a.png"
    assert media_file(space.media_dir, "real/missing/b.png") == root / "real" / "missing" / "b.png"
    os.symlink("/etc", space.media_dir / "out")
    with pytest.raises(ValidationError):
        media_file(space.media_dir, "out/passwd")


def test_work_of_more_than_a_thousand_commands_is_one_step_and_its_undo_too(
    space: Space,
) -> None:
    """An import of 1,200 files is remembered as one history entry whose undo holds
    one command a file. The door took at most 1,000 commands a step: that undo was
    refused, and the entry marked as no longer undoable for good."""
    made: list[str] = []
    for start in range(0, 1_200, 400):  # as an import: several steps, not recorded
        step = space.apply_step(
            [
                c.CreateAsset(f"A{i}", c.MediaKindName.IMAGE, x=i * 300.0)
                for i in range(start, start + 400)
            ],
            OWNER,
            record=False,
        )
        made += [e.data["id"] for e in step.events if e.type == "asset:created"]
    assert len(made) == 1_200
    space.remember(OWNER, [c.DeleteAsset(a) for a in made], "Import 1200 files")
    space.undo(OWNER)
    assert not space.snapshot().assets
    space.redo(OWNER)
    assert len(space.snapshot().assets) == 1_200
    # and a step of that many commands made at once (a select-all's delete)
    space.apply_step([c.DeleteAsset(a) for a in made], OWNER, label="Delete 1200 assets")
    assert not space.snapshot().assets
    space.undo(OWNER)
    assert len(space.snapshot().assets) == 1_200
