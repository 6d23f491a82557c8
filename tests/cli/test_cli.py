"""The command line, driven in-process through ``main(argv)``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.capsys = capsys

    def __call__(self, *args: str) -> tuple[int, str, str]:
        code = main(["--home", str(self.home), *args])
        out, err = self.capsys.readouterr()
        return code, out, err

    def json(self, *args: str) -> object:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


def test_space_lifecycle(cli: Cli) -> None:
    code, out, err = cli("space", "list")  # a new user's first command says what to do
    assert (code, out) == (0, "") and "studio space create" in err
    assert cli.json("space", "list") == []  # scripts: the same empty list, no words
    assert cli("space", "create", "Art Book") == (0, "art-book\n", "")
    code, out, _ = cli("space", "create", "Art Book")
    assert out == "art-book-2\n"
    spaces = cli.json("space", "list")
    assert isinstance(spaces, list)
    assert {s["slug"] for s in spaces} == {"art-book", "art-book-2"}
    code, out, _ = cli("space", "list")
    assert code == 0 and "art-book-2" in out and "SLUG" in out
    assert cli("space", "rename", "art-book", "Sketches")[0] == 0
    by_id = next(s for s in spaces if s["slug"] == "art-book")["id"]
    assert cli.json("assets", by_id) == []  # SPACE accepts the id too
    code, _, err = cli("space", "delete", "art-book")
    assert code == 1 and "needs --yes" in err
    code, out, _ = cli("space", "delete", "art-book", "--yes")
    assert code == 0 and "trash" in out
    code, _, err = cli("assets", "art-book")
    assert code == 1 and err.startswith("studio: there is no space 'art-book'")


def test_apply_show_log(cli: Cli) -> None:
    cli("space", "create", "S")
    made = cli.json(
        "apply",
        "s",
        '{"command": "asset:create", "name": "Hero", "media_kind": "image", "tags": ["lead"]}',
    )
    assert isinstance(made, dict)
    aid = made["created"]["asset_id"]
    assert made["inverse"] == [{"command": "asset:delete", "asset_id": aid}]
    assert made["events"][0]["type"] == "asset:created"
    code, out, _ = cli(
        "apply", "s", json.dumps({"command": "asset:update", "asset_id": aid, "name": "Heroine"})
    )
    assert code == 0 and "as change 2" in out
    shown = cli.json("show", "s", aid)
    assert isinstance(shown, dict)
    assert shown["name"] == "Heroine" and shown["tags"] == ["lead"] and shown["variants"] == []
    assets = cli.json("assets", "s")
    assert isinstance(assets, list) and assets[0]["variant_count"] == 0
    code, out, _ = cli("log", "s")
    assert code == 0 and "asset:create" in out and "asset:update" in out
    code, out, _ = cli("log", "s", "--since", "1", "--json")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [entry["seq"] for entry in lines] == [2]
    assert lines[0]["command"]["name"] == "Heroine"


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("{not json", "not valid JSON"),
        ('{"command": "asset:fly"}', "unknown command 'asset:fly'"),
        ('{"command": "asset:delete", "asset_id": "nope"}', "there is no asset nope"),
        (
            '{"command": "variant:complete", "variant_id": "v", "media_path": "m", "mime": "x", "size_bytes": 1, "sha256": "0"}',
            "applied by Forge Studio itself",
        ),
    ],
)
def test_apply_errors_are_one_line(cli: Cli, payload: str, message: str) -> None:
    cli("space", "create", "S")
    code, out, err = cli("apply", "s", payload)
    assert code == 1 and out == ""
    assert message in err and err.count("\n") == 1


def test_apply_reads_stdin(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    cli("space", "create", "S")
    monkeypatch.setattr(
        sys,
        "stdin",
        io.StringIO(
            '{"command": "frame:create", "title": "F", "x": 0, "y": 0, "width": 5, "height": 5}'
        ),
    )
    code, out, _ = cli("apply", "s", "-")
    assert code == 0 and "frame_id" in out


def test_usage_errors_exit_2(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exc:
        cli("space", "explode")
    assert exc.value.code == 2
    with pytest.raises(SystemExit) as exc:
        cli("import", "s")
    assert exc.value.code == 2


def test_check_reports_a_tampered_file(cli: Cli) -> None:
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers
    from tests.conftest import add_variant

    cli("space", "create", "S")
    with Studio(cli.home, providers=build_providers) as s, s.open_space("s") as space:
        made = add_variant(space, payload=b"original bytes")
        path = space.media_dir / (space.variant_detail(made.variant_id).row.media_path or "")
    assert cli("check", "s")[0] == 0
    path.write_bytes(b"tampered bytes")
    code, out, _ = cli("check", "s")
    assert code == 1 and "does not match its sha256" in out
    path.unlink()
    report = cli("check", "s", "--json")
    assert report[0] == 1
    assert "missing file" in json.loads(report[1])["problems"][0]


def test_help_runs_as_a_console_script() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and "space" in proc.stdout and "import" in proc.stdout


def test_every_cli_command_is_documented_in_the_readme() -> None:
    from studio.cli.main import _COMMANDS

    readme = (ROOT / "README.md").read_text()
    for name in _COMMANDS:
        assert f"studio {name}" in readme, f"README does not document `studio {name}`"


def test_assets_find_by_name_tag_and_prompt(cli: Cli) -> None:
    cli("space", "create", "S")
    for name, tags in (("Red fox", ["forest"]), ("Blue whale", ["sea"]), ("50% off", [])):
        made = {"command": "asset:create", "name": name, "media_kind": "image", "tags": tags}
        assert cli("apply", "s", json.dumps(made))[0] == 0
    code, _, err = cli("generate", "s", "a fox in the snow", "--no-style")
    assert code == 0, err

    def found(text: str) -> list[str]:
        rows = cli.json("assets", "s", "--find", text)
        assert isinstance(rows, list)
        return sorted(str(row["name"]) for row in rows)

    assert found("fox") == ["Red fox", "a fox in the snow"]  # a name, and a prompt
    assert found("SEA") == ["Blue whale"]  # a tag, any case
    assert found("%") == ["50% off"]  # taken literally
    assert found("nothing like it") == []
    code, out, _ = cli("assets", "s", "--find", "whale")
    assert code == 0 and "Blue whale" in out and "Red fox" not in out
