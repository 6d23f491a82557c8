"""How fast hostile input is refused, and what the checks cost a normal command.

Targets (issue 9, items 6 and 9): a 100k-tag list, 1e5-deep JSON and a 1 MiB body are
refused in well under a second without taking the write lock; checking a normal command
costs tens of microseconds.
Run: .venv/bin/python bench/bench_limits.py
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import median_ms, timed
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import ValidationError
from studio.core.jsontext import parse_json
from studio.core.space import Space


def refused(fn: object) -> None:
    try:
        fn()  # type: ignore[operator]
    except ValidationError:
        return
    raise AssertionError("not refused")


def main() -> None:
    me = Actor.local_owner()
    with tempfile.TemporaryDirectory() as tmp:
        space = Space.create(Path(tmp) / "b.db", Path(tmp) / "m", space_id="b", slug="b")
        tags = tuple(f"t{i}" for i in range(100_000))
        deep = "[" * 100_000 + "]" * 100_000
        wide = "[" + "1," * 600_000 + "1]"
        normal = c.CreateAsset("Hero", c.MediaKindName.IMAGE, tags=("a", "b"), x=1.0)
        cases = {
            "100k tags (apply)": lambda: refused(
                lambda: space.apply(c.CreateAsset("n", c.MediaKindName.IMAGE, tags=tags), me)
            ),
            "1e5-deep JSON": lambda: refused(lambda: parse_json(deep)),
            "1.2 MB JSON": lambda: refused(lambda: parse_json(wide)),
            "check a normal command": lambda: c.validate_command(normal),
        }
        for name, fn in cases.items():
            print(f"{name:<24} median {median_ms(timed(fn, 20)):8.3f} ms")
        space.close()


if __name__ == "__main__":
    main()
