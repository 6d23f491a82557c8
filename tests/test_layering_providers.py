"""The core sees providers only through its injected protocol, ``workers`` knows nothing of
``studio``, and no import hides in a function to dodge a cycle (issue #10, point 7)."""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import ValidationError
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.store.library import Library
from tests.conftest import OWNER
from workers.registry import ProviderRegistry
from workers.testing import ScriptedProvider

ROOT = Path(__file__).resolve().parent.parent
CORE = ROOT / "studio" / "core"

# what the core may use of ``workers``: the plain value types of the provider contract
CORE_MAY_IMPORT_FROM_WORKERS = {"workers.base"}
# never in the core: provider modules, the registry, the keyring, the UI, the composition root
CORE_MUST_NOT_IMPORT = ("studio.keys", "studio.ui", "studio.providers_setup", "studio.cli")


def _modules(tree: ast.AST, path: Path) -> Iterator[tuple[ast.stmt, str]]:
    """Every imported module name in ``tree`` (relative imports resolved)."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base]) if base else ".".join(parts)
            yield node, base


def _files(folder: str) -> list[Path]:
    files = sorted((ROOT / folder).rglob("*.py"))
    assert files, f"no python files under {folder}"
    return files


def _parse(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _function_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    for fn in ast.walk(tree):
        if isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            for node in ast.walk(fn):
                if isinstance(node, ast.Import | ast.ImportFrom):
                    yield node


def _names(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.ImportFrom):
        return [("." * node.level) + (node.module or "")]
    return [a.name for a in node.names]


def test_core_imports_no_provider_module_registry_or_keyring() -> None:
    bad = []
    for path in _files("studio/core"):
        for node, name in _modules(_parse(path), path):
            top = name.split(".")[0]
            if top == "workers" and name not in CORE_MAY_IMPORT_FROM_WORKERS:
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
            if any(name == m or name.startswith(m + ".") for m in CORE_MUST_NOT_IMPORT):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
            if top in ("keyring", "PySide6"):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {name}")
    assert bad == []


def test_workers_import_nothing_from_studio() -> None:
    bad = [
        f"{path.relative_to(ROOT)}:{node.lineno} imports {name}"
        for path in _files("workers")
        for node, name in _modules(_parse(path), path)
        if name.split(".")[0] == "studio"
    ]
    assert bad == []


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolved(node: ast.Import | ast.ImportFrom, path: Path, known: set[str]) -> list[str]:
    """The modules an import statement loads (``from pkg import mod`` loads ``pkg.mod``),
    each with the packages above it (their ``__init__`` runs first)."""
    out: list[str] = []
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        package = _module_name(path)  # a package's __init__ resolves from the package
        if path.name != "__init__.py":
            package = package.rpartition(".")[0]
        base = node.module or ""
        if node.level:
            parts = package.split(".")
            parts = parts[: len(parts) - node.level + 1]
            base = ".".join([*parts, base]) if base else ".".join(parts)
        names = [base] + [f"{base}.{a.name}" for a in node.names if f"{base}.{a.name}" in known]
    for name in names:
        bits = name.split(".")
        out += [".".join(bits[:i]) for i in range(1, len(bits) + 1)]
    return [n for n in out if n in known]


def _top_level_imports(tree: ast.Module) -> Iterator[ast.Import | ast.ImportFrom]:
    """Imports run when the module loads: not in functions, not under TYPE_CHECKING."""

    def walk(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
        for node in body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                yield node
            elif isinstance(node, ast.If):
                if "TYPE_CHECKING" not in ast.unparse(node.test):
                    yield from walk(node.body)
                yield from walk(node.orelse)
            elif isinstance(node, ast.Try):
                yield from walk(node.body)
                for handler in node.handlers:
                    yield from walk(handler.body)

    yield from walk(tree.body)


def test_function_level_studio_imports_in_core_store_media_jobs_hide_no_cycle() -> None:
    """Heavy or rarely needed modules may be imported inside a function (start-up speed of
    the CLI and of the app's first frame), but never to dodge a cycle: the module imported
    there must not load, at its own load, the module that imports it."""
    paths = [*_files("studio"), *_files("workers")]
    known = {_module_name(p) for p in paths}
    graph = {
        _module_name(p): {m for n in _top_level_imports(_parse(p)) for m in _resolved(n, p, known)}
        for p in paths
    }

    def loads(module: str, already: set[str]) -> set[str]:
        """What loading ``module`` loads, beyond the modules ``already`` loaded."""
        seen: set[str] = set()
        todo = [module]
        while todo:
            m = todo.pop()
            if m not in seen and m not in already:
                seen.add(m)
                todo += graph.get(m, ())
        return seen

    bad = []
    lazy = 0
    for folder in ("studio/core", "studio/store", "studio/media", "studio/jobs"):
        for path in _files(folder):
            me = _module_name(path)
            for node in _function_imports(_parse(path)):
                for target in _resolved(node, path, known):
                    mine = me == target or me.startswith(target + ".")  # loaded before me
                    if target.startswith(("studio.", "workers.")) and not mine:
                        lazy += 1
                        bits = me.split(".")  # my packages ran before me
                        above = {".".join(bits[:i]) for i in range(1, len(bits))}
                        if me in loads(target, above):
                            bad.append(f"{path.relative_to(ROOT)}:{node.lineno} imports {target}")
    assert lazy > 0  # the check sees the lazy imports it is about
    assert bad == []


def test_the_cycle_check_sees_a_cycle(tmp_path: Path) -> None:
    """The check above is not blind: a module that lazily imports one importing it back."""
    a = ast.parse("def f():\n    from studio.core import b\n")
    b = ast.parse("from studio.core import a\n")
    pa, pb = ROOT / "studio/core/a.py", ROOT / "studio/core/b.py"
    known = {"studio", "studio.core", "studio.core.a", "studio.core.b"}
    lazy = [t for n in _function_imports(a) for t in _resolved(n, pa, known)]
    back = {t for n in _top_level_imports(b) for t in _resolved(n, pb, known)}
    assert "studio.core.b" in lazy and "studio.core.a" in back


def test_opening_a_space_loads_no_provider_module_or_keyring(tmp_path: Path) -> None:
    """At run time too: a studio (with no providers injected) creates and opens a space,
    plans nothing, and never loads the registry, a provider, the key store or keyring."""
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from studio.core.studio import Studio\n"
        "with Studio(Path(sys.argv[1])) as s:\n"
        "    e = s.create_space('Layers')\n"
        "    with s.open_space(e.slug) as sp:\n"
        "        assert s.providers.names() == []\n"
        "loaded = sorted(m for m in sys.modules if m == 'keyring' or m == 'studio.keys'\n"
        "    or (m.startswith('workers.') and m not in ('workers.base', 'workers.redaction')))\n"
        "print(','.join(loaded))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "home")],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ""


def test_a_studio_given_no_providers_refuses_generation_in_one_sentence(tmp_path: Path) -> None:
    with Studio(tmp_path / "home") as studio:
        entry = studio.create_space("Bare")
        with studio.open_space(entry.slug) as space:
            before = space.snapshot()
            with pytest.raises(ValidationError, match=r"^no provider can make image here$"):
                space.apply(c.RequestGeneration("a fox", c.MediaKindName.IMAGE), OWNER)
            with pytest.raises(ValueError, match="runnable providers"):
                Scheduler(space, InlineExecutor())
            assert space.snapshot() == before


def test_an_injected_factory_is_built_on_first_use_and_again_after_reload(tmp_path: Path) -> None:
    built: list[Library] = []

    def factory(library: Library) -> ProviderRegistry:
        built.append(library)
        return ProviderRegistry([ScriptedProvider("scripted")])

    with Studio(tmp_path / "home", providers=factory) as studio:
        assert built == []  # nothing built (no keyring read) until something needs it
        assert studio.providers.names() == ["scripted"]
        assert studio.providers.names() == ["scripted"]
        studio.reload_providers()
        assert studio.providers.get("scripted").name == "scripted"
        assert built == [studio.library, studio.library]
