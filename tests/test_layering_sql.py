"""SQL stays in studio/core and studio/store: views, jobs, the CLI and everything else
read through the typed read API (``Space.read``) and write through commands."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from studio.core.space import Space

ROOT = Path(__file__).resolve().parents[1]
SQL_HOMES = ("studio/core", "studio/store")

SQL_TEXT = re.compile(
    r"\bSELECT\b|\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\w+\s+SET\b|\bPRAGMA\b"
    r"|\bCREATE\s+(TABLE|INDEX)\b|\bJOIN\s+\w+(\s+\w+)?\s+ON\b|\bWHERE\s+\w+(\.\w+)?\s+(IS|IN|=)"
)
"""SQL as it is written here (keywords in capitals), not UI text such as "Select all"."""

RAW_CALLS = ("query", "reading", "execute", "executemany", "executescript", "cursor")
"""Calls that run SQL (``Space.query`` is gone; ``Space.reading`` is for the core)."""


def _outside_sql_homes(root: Path) -> list[Path]:
    files = [*root.joinpath("studio").rglob("*.py"), *root.joinpath("workers").rglob("*.py")]
    homes = [root / h for h in SQL_HOMES]
    return sorted(f for f in files if not any(f.is_relative_to(h) for h in homes))


def _docstrings(tree: ast.AST) -> list[ast.AST]:
    out: list[ast.AST] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.append(body[0].value)
    return out


def sql_offenders(files: list[Path], root: Path) -> list[str]:
    """Every sqlite3 import, SQL text or raw SQL call in ``files``, as ``path:line: what``."""
    out: list[str] = []
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        rel = path.relative_to(root)
        docs = {id(d) for d in _docstrings(tree)}  # prose may name SQL; it runs none
        for node in ast.walk(tree):
            if id(node) in docs:
                continue
            where = f"{rel}:{getattr(node, 'lineno', 0)}"
            if isinstance(node, ast.Import):
                out += [f"{where}: import {a.name}" for a in node.names if a.name == "sqlite3"]
            elif isinstance(node, ast.ImportFrom) and node.module == "sqlite3":
                out.append(f"{where}: from sqlite3 import")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if SQL_TEXT.search(node.value):
                    out.append(f"{where}: SQL text {node.value[:60]!r}")
            elif isinstance(node, ast.Attribute) and node.attr in (*RAW_CALLS, "_db"):
                out.append(f"{where}: .{node.attr}")
    return out


def test_no_sql_outside_the_core_and_the_store() -> None:
    files = _outside_sql_homes(ROOT)
    assert any(f.is_relative_to(ROOT / "studio" / "ui") for f in files)
    assert any(f.is_relative_to(ROOT / "studio" / "jobs") for f in files)
    assert any(f.is_relative_to(ROOT / "studio" / "cli") for f in files)
    assert sql_offenders(files, ROOT) == []


def test_the_sql_check_finds_each_kind_of_offence(tmp_path: Path) -> None:
    bad = tmp_path / "studio" / "ui" / "bad.py"
    bad.parent.mkdir(parents=True)
    bad.write_text(
        "import sqlite3\n"
        "from sqlite3 import Error\n"
        "def f(space, ids):\n"
        '    """Reads: SELECT x FROM y (prose in a docstring runs no SQL)."""\n'
        "    space.query('x')\n"
        "    space.reading()\n"
        "    space._db.conn.execute('y')\n"
        "    cols = 'id'\n"
        "    return f'SELECT {cols} FROM assets', \"UPDATE jobs SET x = 1\"\n"
        "LABEL = 'Select all'\n"  # UI text, not SQL
    )
    found = sql_offenders([bad], tmp_path)
    kinds = [line.split(": ", 1)[1] for line in found]
    assert sum(k.startswith(("import sqlite3", "from sqlite3")) for k in kinds) == 2
    assert {".query", ".reading", "._db", ".execute"} <= set(kinds)
    assert sum(k.startswith("SQL text") for k in kinds) == 2


def test_space_has_no_raw_query_door() -> None:
    assert not hasattr(Space, "query")
