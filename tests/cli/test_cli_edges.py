"""Hostile input on the command line, in a real subprocess: undecodable argv bytes, invalid
UTF-8 and deep JSON on stdin, huge and non-finite numbers. Each ends with a non-zero exit,
exactly one line on stderr, no traceback, and the space as it was."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.providers_setup import build_providers

ROOT = Path(__file__).resolve().parents[2]
DEEP = ("[" * 100_000 + "]" * 100_000).encode()
MANY_TAGS = json.dumps(
    {
        "command": "asset:create",
        "name": "n",
        "media_kind": "image",
        "tags": [f"t{i}" for i in range(10_000)],
    }
).encode()


def run(home: Path, *args: str | bytes, stdin: bytes = b"", **env: str) -> tuple[int, str, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), **env},
        timeout=60,
    )
    return (
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cli-edges") / "home"
    with Studio(path, providers=build_providers) as studio:
        studio.create_space("S")
    return path


def last_seq(home: Path) -> int:
    with Studio(home, providers=build_providers) as studio, studio.open_space("s") as space:
        return space.last_seq()


def obj(**fields: object) -> bytes:
    return json.dumps(
        {"command": "asset:create", "name": "n", "media_kind": "image", **fields}
    ).encode()


CASES: dict[str, tuple[tuple[str | bytes, ...], bytes, str]] = {
    "deep json on stdin": (("apply", "s", "-"), DEEP, "nested deeper"),
    "invalid utf-8 on stdin": (("apply", "s", "-"), obj(name="x")[:-2] + b'\xff"}', "UTF-8"),
    "10k tags on stdin": (("apply", "s", "-"), MANY_TAGS, "limit is 64"),
    "1e400 in json": (("apply", "s", obj()[:-1] + b', "x": 1e400}'), b"", "too large"),
    "NaN in json": (("apply", "s", obj()[:-1] + b', "x": NaN}'), b"", "NaN"),
    "huge int in json": (
        ("apply", "s", obj()[:-1] + b', "x": ' + b"9" * 100_000 + b"}"),
        b"",
        "digits",
    ),
    "lone surrogate escape in json": (("apply", "s", obj(name="\ud800")), b"", "UTF-8"),
    "undecodable argv in json": (("apply", "s", obj()[:-2] + b'\xe9"}'), b"", "UTF-8"),
    "undecodable prompt": (("generate", "s", b"a caf\xe9"), b"", "UTF-8"),
    "undecodable space": (("assets", b"s\xff"), b"", "UTF-8"),
    "undecodable id": (("show", "s", b"\xff\xfe"), b"", "UTF-8"),
    "huge seed": (("generate", "s", "p", "--seed", "9" * 100_000), b"", "whole number"),
    "infinite duration": (("generate", "s", "p", "--duration", "1e400"), b"", "finite"),
    "nan duration": (("generate", "s", "p", "--duration", "nan"), b"", "finite"),
    "huge since": (("log", "s", "--since", "9" * 30), b"", "whole number"),
    "infinite max size": (("import", "s", "nothing.png", "--max-size", "1e400"), b"", "size"),
    "nan max size": (("import", "s", "nothing.png", "--max-size", "nanM"), b"", "size"),
    "deep param": (
        ("generate", "s", "p", "--param", "k=" + "[" * 50_000 + "]" * 50_000),
        b"",
        "nested",
    ),
    "NaN param": (("generate", "s", "p", "--param", "k=NaN"), b"", "NaN"),
    "undecodable key on stdin": (("keys", "set", "gemini"), b"AIza\xff\xfe-key\n", "UTF-8"),
    "undecodable setting": (("settings", b"jobs.\xff.concurrency", "2"), b"", "UTF-8"),
}


@pytest.mark.parametrize("label", sorted(CASES))
def test_hostile_cli_input_gets_one_line(home: Path, label: str) -> None:
    args, stdin, fragment = CASES[label]
    before = last_seq(home)
    code, _out, err = run(home, *args, stdin=stdin)
    assert code in (1, 2), (code, err[-500:])
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.startswith("studio"), err[-500:]
    assert fragment in err
    assert last_seq(home) == before


def test_an_undecodable_login_name_still_applies(home: Path) -> None:
    made = {"command": "frame:create", "title": "F", "x": 0, "y": 0, "width": 1, "height": 1}
    code, _out, err = run(home, "apply", "s", json.dumps(made), LOGNAME="bob\udcff", USER="")
    assert code == 0 and "Traceback" not in err, err
    with Studio(home, providers=build_providers) as studio, studio.open_space("s") as space:
        last = next(iter(space.changes(space.last_seq() - 1)))
    assert last.actor_name == "bob\ufffd"


def test_user_text_prints_on_any_terminal(home: Path) -> None:
    made = {"command": "asset:create", "name": "Café ☕ 猫", "media_kind": "image"}
    code, _, err = run(home, "apply", "s", json.dumps(made))
    assert code == 0, err
    code, out, err = run(home, "assets", "s", PYTHONIOENCODING="ascii")
    assert code == 0 and "Traceback" not in err, err
    assert "Caf\\xe9 \\u2615 \\u732b" in out
