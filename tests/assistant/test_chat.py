"""The assistant against the fake Messages API, with the real SDK: streaming, the tool
loop, proposals and approval from the command line, errors in words, history, vision."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

import studio.keys as keys_module
from studio.assistant.chat import Chat
from studio.assistant.client import ClaudeClient
from studio.assistant.models import IMAGE_LONG_EDGE
from studio.cli.main import main
from studio.core import chat_reads
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.studio import Studio
from tests.fakes import Reply
from tests.fakes.anthropic import (
    AnthropicFake,
    invalid_request,
    overloaded,
    rate_limited,
    turn,
    unauthorized,
)
from tests.workers.cloud_helpers import MemoryKeyring, using_keyring

KEY = "sk-ant-api03-test0000000000000000000000000000"


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--home", str(self.home), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def fake() -> Iterator[AnthropicFake]:
    with AnthropicFake(KEY) as f:
        yield f


@pytest.fixture
def cli(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    fake: AnthropicFake,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[Cli]:
    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    with using_keyring(MemoryKeyring()):
        c = Cli(tmp_path / "home", capsys)
        assert c("space", "create", "Kites")[0] == 0
        assert c("settings", "providers.anthropic.base_url", fake.url)[0] == 0
        yield c


def _keyed(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(KEY + "\n"))
    assert cli("keys", "set", "anthropic")[0] == 0


def _asset(cli: Cli, name: str = "Hero") -> str:
    made = {"command": "asset:create", "name": name, "media_kind": "image"}
    return str(cli.json("apply", "kites", json.dumps(made))["created"]["asset_id"])


def test_no_key_is_one_clear_line(cli: Cli, fake: AnthropicFake) -> None:
    code, out, err = cli("chat", "kites", "hello")
    assert code == 1 and out == ""
    assert err.count("\n") == 1 and "studio keys set anthropic" in err
    assert fake.requests == []


def test_streamed_reply_history_persisted_and_continued(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keyed(cli, monkeypatch)
    fake.script("messages", turn("Your space has no assets yet. Start with a hero."))
    code, out, err = cli("chat", "kites", "what is in my space?")
    assert code == 0, err
    assert out.startswith("Your space has no assets yet. Start with a hero.\n")
    sid = out.strip().splitlines()[-1].removeprefix("session: ")
    body = fake.messages()[0]
    assert body["stream"] is True and body["max_tokens"] > 0
    assert fake.requests[0].headers["authorization"] == f"Bearer {KEY}"

    fake.script("messages", turn("A hero, then a sword."))
    reply = cli.json("chat", "kites", "and then?", "--session", sid)
    assert reply["session"] == sid and reply["reply"] == "A hero, then a sword."
    sent = fake.messages()[1]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "user"]
    assert sent[1]["content"][0]["text"].startswith("Your space has no assets")
    # reloaded from the space file by another process's command
    shown = cli.json("chats", "kites", sid)
    texts = [(m["role"], m["blocks"][0]["text"]) for m in shown["messages"]]
    assert texts[-1] == ("assistant", "A hero, then a sword.") and len(texts) == 4
    listed = cli.json("chats", "kites")
    assert listed[0]["id"] == sid and listed[0]["messages"] == 4


def test_a_tool_loop_of_several_rounds_with_a_stable_cached_prefix(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keyed(cli, monkeypatch)
    hero = _asset(cli)
    fake.script(
        "messages",
        turn("Looking.", ("list_assets", {"limit": 5})),
        turn("", ("get_asset", {"asset_id": hero}), ("space_summary", {})),
        turn("You have one asset, Hero."),
    )
    reply = cli.json("chat", "kites", "describe my space")
    assert reply["rounds"] == 2 and reply["reply"] == "Looking.You have one asset, Hero."
    bodies = fake.messages()
    assert len(bodies) == 3
    last = bodies[2]["messages"]
    assert [m["role"] for m in last] == ["user", "assistant", "user", "assistant", "user"]
    results = [b for b in last[4]["content"] if b["type"] == "tool_result"]
    assert len(results) == 2 and json.loads(results[0]["content"])["name"] == "Hero"
    # the cached prefix (tools, then the instructions) is byte-identical every round
    assert all(b["tools"] == bodies[0]["tools"] for b in bodies)
    assert all(b["system"][0] == bodies[0]["system"][0] for b in bodies)
    assert bodies[0]["system"][0]["cache_control"] == {"type": "ephemeral"}
    assert bodies[0]["tools"][-1]["cache_control"] == {"type": "ephemeral"}
    assert not any(t["name"] == "rename_asset" for t in bodies[0]["tools"])  # advisor


def test_actor_proposals_wait_for_approve_and_reject(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keyed(cli, monkeypatch)
    hero = _asset(cli)
    fake.script(
        "messages",
        turn("", ("rename_asset", {"asset_id": hero, "name": "Heroine"})),
        turn("I proposed the rename."),
    )
    reply = cli.json("chat", "kites", "rename Hero to Heroine", "--actor")
    (prop,) = reply["proposals"]
    assert prop["state"] == "pending" and prop["commands"][0]["command"] == "asset:update"
    assert cli.json("show", "kites", hero)["name"] == "Hero"  # nothing happened yet
    answer = fake.messages()[1]["messages"][-1]["content"][0]["content"]
    assert "waits for the person's approval" in answer
    code, out, _ = cli("approve", "kites", prop["id"])
    assert code == 0 and "applied proposal" in out
    assert cli.json("show", "kites", hero)["name"] == "Heroine"
    assert cli("undo", "kites")[0] == 0
    assert cli.json("show", "kites", hero)["name"] == "Hero"
    code, _, err = cli("approve", "kites", prop["id"])
    assert code == 1 and "applied" in err

    fake.script(
        "messages",
        turn("", ("tag_asset", {"asset_id": hero, "tags": ["lead"]})),
        turn("Proposed."),
    )
    (tag,) = cli.json("chat", "kites", "tag it", "--actor")["proposals"]
    code, out, _ = cli("reject", "kites", tag["id"])
    assert code == 0 and "nothing changed" in out
    assert cli.json("show", "kites", hero)["tags"] == []


def test_approve_all_safe_applies_organising_but_never_generation(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    _keyed(cli, monkeypatch)
    hero = _asset(cli)
    fake.script(
        "messages",
        turn(
            "",
            ("rename_asset", {"asset_id": hero, "name": "Knight"}),
            ("generate", {"prompt": "a red kite", "media_kind": "image", "provider": "local"}),
        ),
        turn("Done and proposed."),
    )
    reply = cli.json("chat", "kites", "go", "--actor", "--approve-all-safe")
    states = {p["tool"]: p for p in reply["proposals"]}
    assert states["rename_asset"]["state"] == "applied"
    gen = states["generate"]
    assert gen["state"] == "pending" and gen["cost_usd"] is not None
    assert cli.json("show", "kites", hero)["name"] == "Knight"
    before = len(cli.json("assets", "kites"))
    created = cli.json("approve", "kites", gen["id"])["created"]
    assert "variant_id" in created and len(cli.json("assets", "kites")) == before + 1
    assert cli.json("show", "kites", created["variant_id"])["status"] == "pending"  # placeholder


@pytest.mark.parametrize(
    ("reply", "words"),
    [
        (rate_limited("12"), "rate limit is reached; try again in 12 seconds"),
        (overloaded(), "Claude is busy (overloaded); try again in a minute"),
        (unauthorized(), "Anthropic refused the API key"),
        (invalid_request("messages: bad"), "Claude refused the request: messages: bad"),
        (turn("Hal", error_after=4), "Claude is busy (overloaded)"),  # mid-stream error
    ],
)
def test_errors_are_shown_in_words(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch, reply: Any, words: str
) -> None:
    _keyed(cli, monkeypatch)
    fake.script("messages", reply)
    code, _out, err = cli("chat", "kites", "hello")
    assert code == 1 and words in err and err.count("\n") == 1, err
    assert len(fake.of("messages")) == 1  # the SDK's retries are off


def test_a_timeout_and_an_unreachable_host_in_words(tmp_path: Path, fake: AnthropicFake) -> None:
    with Studio(tmp_path / "home") as studio:
        entry = studio.create_space("T")
        with studio.open_space(entry.slug) as space:
            person = Actor.local_owner()
            slow = ClaudeClient(KEY, base_url=fake.url, timeout_s=0.3)
            fake.script("messages", Reply(200, b"{}", {}, delay_s=2.0))
            with pytest.raises(StudioError, match=r"did not answer within 0\.3 seconds"):
                Chat(space, person, slow).send("hi")
            gone = ClaudeClient(KEY, base_url="http://127.0.0.1:9", timeout_s=2)
            with pytest.raises(StudioError, match=r"could not reach Claude at 127\.0\.0\.1:9"):
                Chat(space, person, gone).send("hi")
            # the chat holds the person's messages, and the next send still works
            sid = chat_reads.sessions(space)[0].id
            fake.script("messages", turn("Back."))
            reply = Chat(space, person, ClaudeClient(KEY, base_url=fake.url)).send(
                "again", session_id=sid
            )
            assert reply.text == "Back."
            assert [m["role"] for m in fake.messages()[-1]["messages"]] == ["user"]


def test_a_long_answer_can_be_stopped(tmp_path: Path, fake: AnthropicFake) -> None:
    with Studio(tmp_path / "home") as studio:
        entry = studio.create_space("T")
        with studio.open_space(entry.slug) as space:
            stop = threading.Event()
            got: list[str] = []

            def on_text(text: str) -> None:
                got.append(text)
                stop.set()

            fake.script("messages", turn("word " * 200, delay_s=0.05))
            chat = Chat(space, Actor.local_owner(), ClaudeClient(KEY, base_url=fake.url))
            reply = chat.send("talk", on_text=on_text, stop=stop)
            assert reply.stopped and 0 < len(reply.text) < 100
            stored = chat_reads.messages(space, reply.session_id)
            assert stored[-1].role == "assistant" and stored[-1].blocks[0]["text"] == reply.text


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def test_images_are_sent_downscaled_within_the_limits(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _keyed(cli, monkeypatch)
    big, tall = tmp_path / "big.png", tmp_path / "tall.png"
    big.write_bytes(_png(3000, 2000))
    tall.write_bytes(_png(120, 9000))  # over the API's 8000 px: must be scaled
    imported = cli.json("import", "kites", str(big), str(tall))
    vids = [row["variant_id"] for row in imported["imported"]]
    fake.script(
        "messages",
        turn("A red field."),
        turn("", ("look_at", {"variant_ids": vids[:1]})),
        turn("Red."),
    )
    reply = cli.json("chat", "kites", "describe these", "--look", vids[0], "--look", vids[1])
    assert reply["reply"] == "A red field."
    assert fake.image_edges == [(IMAGE_LONG_EDGE, 1045), (21, IMAGE_LONG_EDGE)]
    reply = cli.json("chat", "kites", "look again", "--actor")
    assert reply["reply"] == "Red."
    assert all(max(size) <= IMAGE_LONG_EDGE for size in fake.image_edges)
    content = fake.messages()[-1]["messages"][-1]["content"][0]["content"]
    assert [b["type"] for b in content] == ["text", "image"]


def test_the_model_comes_from_the_live_list_cached_a_day(
    cli: Cli, fake: AnthropicFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    from studio.assistant.setup import pick_model

    assert pick_model([]) == "claude-sonnet-5-5"  # no list known: the dated default
    assert pick_model(["claude-opus-9", "claude-sonnet-9"]) == "claude-sonnet-9"
    assert pick_model(["claude-x"]) == "claude-x"
    _keyed(cli, monkeypatch)
    fake.script("messages", turn("One."), turn("Two."))
    assert cli("chat", "kites", "hi")[0] == 0
    assert cli("chat", "kites", "hi again")[0] == 0
    assert len(fake.of("models")) == 1  # fetched once, then cached in library.db
    assert {b["model"] for b in fake.messages()} == {"claude-sonnet-5-5"}
