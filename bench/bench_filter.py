"""Find and the filter panel over 50,000 assets.

Figures (paired A B A B in one process, median of the per-pair ratios):
1. changing a filter, facet counts included (``FacetIndex.answer`` on a warm index)
   vs the same answer from plain ``sqlite3`` (the FTS5 query and one GROUP BY per
   facet over the matching assets) — target ≤ 50 ms;
2. Find in the real window (50,000 cards built): the UI thread's cost of one keystroke
   (the key event, the line edit, the debounce restart) vs a bare ``QLineEdit`` with
   nothing connected, and of applying one answer (canvas, count, panel) — each ≤ 5 ms;
3. the worker's answer per typed prefix vs the raw FTS5 ``MATCH`` alone (reported);
4. the old path for reference: the in-memory ``CanvasFilter`` over every card on the
   UI thread (one sample; it was 530–560 ms at 50,000).

Exits 1 when a target is missed. Run: .venv/bin/python bench/bench_filter.py
[--assets 50000] [--pairs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from bench._util import insert_rows

FILTER_TARGET_MS = 50.0
KEY_TARGET_MS = 5.0
KINDS = ("image", "image", "image", "audio", "video")
TYPES = ("character", "prop", "scene", "creature", "sfx", "music", "speech", "")
WORDS = [
    "red",
    "blue",
    "green",
    "golden",
    "dark",
    "ancient",
    "rusty",
    "glowing",
    "tiny",
    "giant",
    "knight",
    "dragon",
    "castle",
    "forest",
    "river",
    "storm",
    "lantern",
    "sword",
    "shield",
    "potion",
    "robot",
    "ship",
    "tower",
    "village",
    "mountain",
    "desert",
    "ocean",
    "crystal",
    "shadow",
    "fire",
    "ice",
    "thunder",
    "whisper",
    "echo",
    "roar",
    "melody",
    "drum",
]
TAGS = [f"tag{i:03d}" for i in range(200)] + ["hero", "villain", "wip", "final"]
PROVIDERS = (("local", "local-image"), ("gemini", "gemini-3.1-flash-image"), ("elevenlabs", "sfx"))
DAY_MS = 86_400_000


# --------------------------------------------------------------------------- data


def populate(path: Path, assets: int, per_asset: int, now_ms: int) -> None:
    """Bulk rows into a migrated space file. The search triggers are set aside while
    loading and the index is built the way migration 8 builds it for existing rows
    (one statement), then the very same triggers are put back."""
    from studio.store.schema import REBUILD_SEARCH

    rnd = random.Random(11)
    conn = sqlite3.connect(path, isolation_level=None)
    triggers = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'asset_search_%'"
    ).fetchall()
    conn.execute("BEGIN")
    for name, _sql in triggers:
        conn.execute(f"DROP TRIGGER {name}")
    arows: list[tuple[object, ...]] = []
    vrows: list[tuple[object, ...]] = []
    statuses = ["completed"] * 97 + ["pending", "processing", "failed"]
    for i in range(assets):
        aid = f"a{i:07d}"
        kind = KINDS[i % len(KINDS)]
        words = rnd.sample(WORDS, 2)
        tags = json.dumps(rnd.sample(TAGS, rnd.randint(0, 3)))
        created = now_ms - rnd.randrange(60) * DAY_MS - rnd.randrange(DAY_MS)
        arows.append(
            (
                aid,
                f"asset-{i}",
                f"{words[0].title()} {words[1]} {i}",
                TYPES[i % len(TYPES)],
                kind,
                tags,
                None,
                (i % 200) * 280.0,
                (i // 200) * 280.0,
                f"v{i:07d}-0",
                created,
                created,
            )
        )
        for k in range(per_asset):
            provider, model = PROVIDERS[(i + k) % len(PROVIDERS)]
            prompt = " ".join(rnd.sample(WORDS, 5))
            recipe = json.dumps(
                {
                    "operation": "generate",
                    "prompt": prompt,
                    "provider": provider,
                    "model": model,
                    "params": {"seed": rnd.randrange(1 << 30)},
                }
            )
            vrows.append(
                (
                    f"v{i:07d}-{k}",
                    aid,
                    rnd.choice(statuses),
                    None,
                    None,
                    "image/png",
                    64,
                    64,
                    1000,
                    "ab" * 32,
                    recipe,
                    rnd.random() < 0.1,
                    created,
                    created,
                )
            )
    insert_rows(conn, arows, vrows)  # commits
    conn.execute("BEGIN")
    conn.execute("UPDATE variants SET rating = 'approved' WHERE rowid % 17 = 0")
    conn.execute("UPDATE variants SET rating = 'rejected' WHERE rowid % 23 = 0")
    for sql in REBUILD_SEARCH:
        conn.execute(sql)
    for _name, sql in triggers:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.close()


# --------------------------------------------------------------------------- raw baseline


def raw_answer(conn: sqlite3.Connection, match: str | None, kinds: list[str]) -> dict[str, object]:
    """The filter's answer from plain SQL: matching ids, then one GROUP BY per facet
    over the matching assets (kind counts without the kind pick, as ours are)."""
    conn.execute("DROP TABLE IF EXISTS temp.m")
    if match:
        conn.execute(
            "CREATE TEMP TABLE m AS SELECT d.asset_id AS id FROM asset_search s "
            "JOIN asset_search_docs d ON d.doc = s.rowid WHERE asset_search MATCH ?",
            (match,),
        )
    else:
        conn.execute("CREATE TEMP TABLE m AS SELECT id FROM assets WHERE deleted_at IS NULL")
    marks = ", ".join("?" * len(kinds))
    kind_sql = f"AND a.media_kind IN ({marks})" if kinds else ""
    live = "FROM m JOIN assets a ON a.id = m.id WHERE a.deleted_at IS NULL"
    out: dict[str, object] = {}
    out["ids"] = conn.execute(
        f"SELECT a.id {live} {kind_sql} ORDER BY round(a.y / 140), a.x", kinds
    ).fetchall()
    out["kind"] = conn.execute(f"SELECT a.media_kind, COUNT(*) {live} GROUP BY 1").fetchall()
    out["type"] = conn.execute(
        f"SELECT a.type, COUNT(*) {live} {kind_sql} GROUP BY 1", kinds
    ).fetchall()
    out["tag"] = conn.execute(
        "SELECT t.value, COUNT(*) FROM m JOIN assets a ON a.id = m.id, json_each(a.tags) t "
        f"WHERE a.deleted_at IS NULL {kind_sql} GROUP BY 1",
        kinds,
    ).fetchall()
    vlive = f"{live} {kind_sql} AND EXISTS (SELECT 1 FROM variants v WHERE v.asset_id = a.id "
    for facet, cond in (
        ("starred", "v.starred = 1"),
        ("approved", "v.rating = 'approved'"),
        ("failed", "v.status = 'failed'"),
    ):
        out[facet] = conn.execute(
            f"SELECT COUNT(*) {vlive} AND v.deleted_at IS NULL AND {cond})", kinds
        ).fetchall()
    out["provider"] = conn.execute(
        "SELECT json_extract(v.recipe, '$.provider'), COUNT(DISTINCT v.asset_id) FROM variants v "
        f"JOIN m ON m.id = v.asset_id JOIN assets a ON a.id = v.asset_id "
        f"WHERE v.deleted_at IS NULL {kind_sql} GROUP BY 1",
        kinds,
    ).fetchall()
    return out


# --------------------------------------------------------------------------- helpers


def paired(
    ours: Callable[[], object], raw: Callable[[], object], pairs: int
) -> tuple[list[float], list[float]]:
    """Seconds of ``ours`` and ``raw``, run A B A B … (one warm-up pair first)."""
    ours()
    raw()
    a: list[float] = []
    b: list[float] = []
    for _ in range(pairs):
        t0 = time.perf_counter()
        ours()
        a.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        raw()
        b.append(time.perf_counter() - t0)
    return a, b


def ms(samples: list[float]) -> str:
    return f"median {statistics.median(samples) * 1000:.2f} ms (min {min(samples) * 1000:.2f}, max {max(samples) * 1000:.2f})"


def ratio(a: list[float], b: list[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b, strict=True))


# --------------------------------------------------------------------------- main


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=50_000)
    ap.add_argument("--variants-per-asset", type=int, default=2)
    ap.add_argument("--pairs", type=int, default=7)
    args = ap.parse_args()
    failures: list[str] = []
    print(f"load average at start: {os.getloadavg()}")

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication, QLineEdit

    from studio.core.facets import FacetIndex, FilterSpec, match_expression
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers
    from studio.ui.canvas.filtering import parse_query
    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv)
    with tempfile.TemporaryDirectory() as tmp:
        studio = Studio(Path(tmp) / "home", providers=build_providers)
        entry = studio.create_space("Bench")
        path = studio.paths.home / entry.file
        t0 = time.perf_counter()
        populate(path, args.assets, args.variants_per_asset, int(time.time() * 1000))
        print(
            f"{args.assets:,} assets, {args.assets * args.variants_per_asset:,} variants "
            f"populated in {time.perf_counter() - t0:.1f} s"
        )

        # ---------------------------------------------------------------- 1. filter change
        space = studio.open_space(entry.slug)
        index = FacetIndex(space.read)
        t0 = time.perf_counter()
        index.refresh()
        print(
            f"facet index built in {time.perf_counter() - t0:.2f} s (once per open space, on the worker)"
        )
        raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        flip = [0]

        def ours_change() -> object:
            flip[0] ^= 1
            kinds = frozenset({("kind", "image")} if flip[0] else {("kind", "audio")})
            return index.answer(FilterSpec(("dra",), kinds))

        def raw_change() -> object:
            return raw_answer(raw, match_expression(["dra"]), ["image" if flip[0] else "audio"])

        a, b = paired(ours_change, raw_change, args.pairs)
        r = ratio(a, b)
        print(
            f"1. change a filter (text 'dra', kind image <-> audio), counts of every facet:\n"
            f"   ours {ms(a)}; raw sqlite3 FTS5 + GROUP BYs {ms(b)}; ratio {r:.3f}"
        )
        if statistics.median(a) * 1000 > FILTER_TARGET_MS:
            failures.append(
                f"filter change {statistics.median(a) * 1000:.1f} ms > {FILTER_TARGET_MS} ms"
            )
        a, b = paired(
            lambda: index.answer(FilterSpec((), frozenset({("tag", "hero")}))),
            lambda: raw_answer(raw, None, []),
            args.pairs,
        )
        print(
            f"   no text, tag 'hero' (every asset in scope): ours {ms(a)}; raw {ms(b)}; ratio {ratio(a, b):.3f}"
        )
        if statistics.median(a) * 1000 > FILTER_TARGET_MS:
            failures.append(
                f"filter change (no text) {statistics.median(a) * 1000:.1f} ms > {FILTER_TARGET_MS} ms"
            )

        # ---------------------------------------------------------------- 3. worker per prefix
        worker_t: list[float] = []
        raw_t: list[float] = []
        for prefix in ("d", "dr", "dra", "drag", "drago", "dragon"):
            t0 = time.perf_counter()
            index.answer(FilterSpec((prefix,)))
            worker_t.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            raw.execute(
                "SELECT rowid FROM asset_search WHERE asset_search MATCH ?",
                (match_expression([prefix]),),
            ).fetchall()
            raw_t.append(time.perf_counter() - t0)
        print(
            f"3. worker answer per typed prefix d…dragon: {ms(worker_t)}; raw FTS5 MATCH alone {ms(raw_t)}"
        )
        raw.close()
        space.close()

        # ---------------------------------------------------------------- 2. the window
        window = MainWindow(studio)
        window.resize(1600, 1000)
        window.show()
        t0 = time.perf_counter()
        window.open_space(entry.id)
        deadline = time.monotonic() + 120
        while not window.scene.card_map() and time.monotonic() < deadline:
            app.processEvents()
        window.scene.wait_loaded(120)
        app.processEvents()
        print(
            f"window: {len(window.scene.card_map()):,} cards built in {time.perf_counter() - t0:.1f} s"
        )
        control = window.find_control
        applied: list[float] = []
        focused: list[float] = []
        original = control._answered
        finder = window.scene.finder
        focus = finder.focus_match

        def timed_focus(index: int) -> str | None:
            t = time.perf_counter()
            try:
                return focus(index)
            finally:
                focused.append(time.perf_counter() - t)

        finder.focus_match = timed_focus  # type: ignore[method-assign]

        def timed_answer(serial: int, result: object) -> None:
            n = len(focused)
            t = time.perf_counter()
            original(serial, result)  # type: ignore[arg-type]
            spent = time.perf_counter() - t
            applied.append(spent - sum(focused[n:]))  # the view's scroll counted apart

        control.worker.ready.disconnect(original)
        control.worker.ready.connect(timed_answer)
        if not window.filter_panel.isVisible():
            window.menus.toggle_filters()  # the panel open: its counts follow every answer
        app.processEvents()
        print(f"   (filter panel shown: {window.filter_panel.isVisible()})")
        bar = window.find_bar
        bar.open_bar()
        bare = QLineEdit()
        bare.show()

        def settle(want: int) -> None:
            end = time.monotonic() + 30
            while len(applied) < want and time.monotonic() < end:
                app.processEvents()
                time.sleep(0.002)

        keys: list[float] = []
        bare_keys: list[float] = []
        words = ["dragon", "red", "storm", "lantern", "knight", "crystal", "ocean"]
        for n in range(args.pairs):
            word = words[n % len(words)]
            bar.text.clear()
            bare.clear()
            settle(len(applied))
            for ch in word:
                t = time.perf_counter()
                QTest.keyClick(bar.text, ch)
                keys.append(time.perf_counter() - t)
                t = time.perf_counter()
                QTest.keyClick(bare, ch)
                bare_keys.append(time.perf_counter() - t)
            want = len(applied) + 1
            settle(want)
            QTest.keyClick(bar.text, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
        key_ms = statistics.median(keys) * 1000
        apply_ms = statistics.median(applied) * 1000 if applied else float("nan")
        print(
            f"2. Find in the window at {args.assets:,} cards: keystroke {ms(keys)} vs bare QLineEdit "
            f"{ms(bare_keys)} (ratio {ratio(keys, bare_keys):.2f});\n"
            f"   applying an answer (canvas + count + panel) {ms(applied)} over {len(applied)} "
            f"answers;\n   then bringing the first match into view (as Find always did) {ms(focused)}"
        )
        if key_ms > KEY_TARGET_MS:
            failures.append(f"keystroke {key_ms:.2f} ms > {KEY_TARGET_MS} ms")
        if apply_ms > KEY_TARGET_MS:
            failures.append(f"applying an answer {apply_ms:.2f} ms > {KEY_TARGET_MS} ms")

        # ---------------------------------------------------------------- 4. the old path
        bar.close_bar()
        t = time.perf_counter()
        finder.set_filter(parse_query("dragon"))  # loads every prompt once, like before
        first = time.perf_counter() - t
        t = time.perf_counter()
        finder.set_filter(parse_query("drago"))
        again = time.perf_counter() - t
        finder.clear_filter()
        print(
            f"4. old in-memory CanvasFilter on the UI thread: first search {first * 1000:.0f} ms "
            f"(prompts loaded), next keystroke {again * 1000:.0f} ms"
        )
        window.close()
        studio.close()
    print(f"load average at end: {os.getloadavg()}")
    for f in failures:
        print(f"MISSED: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
