"""The read API: every typed query views, the scheduler, recovery and the CLI make of a
space, in one place (no SQL outside the core and the store).

Module functions take a connection, so a caller inside a read transaction (the
snapshot) or a write transaction (a handler) uses the very same query. :class:`Reads`,
``Space.read``, runs each on a read connection (see :meth:`Database.read`): in WAL mode
a reader never waits for the writer, so the UI thread can call these while job
threads write.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import NamedTuple, TypeVar

from studio.core.errors import StudioError
from studio.core.placement import free_block_near
from studio.store import records as r
from studio.store.db import Database

T = TypeVar("T")
_Row = TypeVar("_Row", bound=tuple[object, ...])

PAUSED_KEY = "queue_paused"
"""The ``meta`` key set while the space's queue is paused (``queue:pause``)."""

CHUNK = 500
"""Ids per ``IN (…)`` list (SQLite's default limit on variables is 32,766)."""


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


def _chunks(ids: Sequence[str]) -> Iterator[tuple[str, tuple[str, ...]]]:
    """(``?, ?, …``, ids) for each slice of at most :data:`CHUNK` distinct ids."""
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), CHUNK):
        part = tuple(unique[i : i + CHUNK])
        yield ", ".join("?" * len(part)), part


# --------------------------------------------------------------------------- variants


def prompts(conn: sqlite3.Connection, variant_ids: Sequence[str]) -> dict[str, str]:
    """Each variant's prompt, or its original file name for an import ("" if neither)."""
    out: dict[str, str] = {}
    for marks, part in _chunks(variant_ids):
        for vid, text in conn.execute(
            "SELECT id, COALESCE(json_extract(recipe, '$.prompt'), "
            f"json_extract(recipe, '$.original_name'), '') FROM variants WHERE id IN ({marks})",
            part,
        ):
            out[str(vid)] = str(text or "")
    return out


def operations(conn: sqlite3.Connection, variant_ids: Sequence[str]) -> dict[str, str]:
    """Each variant's recipe operation (generate, refine, import…; "" if none)."""
    out: dict[str, str] = {}
    for marks, part in _chunks(variant_ids):
        for vid, op in conn.execute(
            f"SELECT id, json_extract(recipe, '$.operation') FROM variants WHERE id IN ({marks})",
            part,
        ):
            out[str(vid)] = str(op or "")
    return out


def variant_labels(
    conn: sqlite3.Connection, variant_ids: Sequence[str]
) -> dict[str, r.VariantLabel]:
    """Asset, name, status and thumbnail of each variant, deleted ones included (flagged)."""
    out: dict[str, r.VariantLabel] = {}
    for marks, part in _chunks(variant_ids):
        for row in conn.execute(
            "SELECT v.id, a.id, a.name, v.status, v.thumb_path, "
            "v.deleted_at IS NOT NULL, a.deleted_at IS NOT NULL "
            f"FROM variants v JOIN assets a ON a.id = v.asset_id WHERE v.id IN ({marks})",
            part,
        ):
            vid, aid, name, status, thumb, v_gone, a_gone = row
            label = r.VariantLabel(vid, aid, name, status, thumb, bool(v_gone), bool(a_gone))
            out[label.variant_id] = label
    return out


def requesters(conn: sqlite3.Connection, variant_ids: Sequence[str]) -> dict[str, r.Requester]:
    """Who asked for each variant (its ``created_by``), named as that actor was in its
    latest change: one read per distinct actor, from the newest change back (a job's
    requester acted recently, so the walk is short)."""
    created: dict[str, str] = {}
    for marks, part in _chunks(variant_ids):
        sql = f"SELECT id, created_by FROM variants WHERE id IN ({marks})"
        created.update((vid, actor) for vid, actor in conn.execute(sql, part))
    names: dict[str, str] = {}
    for actor in set(created.values()):
        row = conn.execute(
            "SELECT actor_name FROM changes WHERE actor_id = ? ORDER BY seq DESC LIMIT 1",
            (actor,),
        ).fetchone()
        names[actor] = str(row[0]) if row else ""
    return {vid: r.Requester(vid, actor, names[actor]) for vid, actor in created.items()}


def variant_rows(conn: sqlite3.Connection, variant_ids: Sequence[str]) -> list[r.VariantRow]:
    """The live variants among ``variant_ids``, in that order."""
    found: dict[str, r.VariantRow] = {}
    for marks, part in _chunks(variant_ids):
        for row in r.rows_of(
            r.VariantRow,
            conn.execute(
                f"SELECT {r.VARIANT_COLUMNS} FROM variants "
                f"WHERE id IN ({marks}) AND deleted_at IS NULL",
                part,
            ),
        ):
            found[row.id] = row
    return [found[v] for v in variant_ids if v in found]


def variant_files(conn: sqlite3.Connection, variant_id: str | None = None) -> list[r.VariantFiles]:
    """The files every variant row (deleted ones too) points at; one variant's only
    when ``variant_id`` is given."""
    sql = (
        "SELECT v.id, v.status, a.slug, v.media_path, v.thumb_path, v.poster_path "
        "FROM variants v LEFT JOIN assets a ON a.id = v.asset_id"
    )
    if variant_id is None:
        return r.rows_of(r.VariantFiles, conn.execute(sql))
    return r.rows_of(r.VariantFiles, conn.execute(f"{sql} WHERE v.id = ?", (variant_id,)))


def uploads(conn: sqlite3.Connection) -> list[r.UploadRow]:
    """Live variants still being imported."""
    return r.rows_of(
        r.UploadRow,
        conn.execute(
            "SELECT id, upload_owner, updated_at FROM variants "
            "WHERE status = 'uploading' AND deleted_at IS NULL ORDER BY id"
        ),
    )


# --------------------------------------------------------------------------- lineage

_LIVE_LINKS = (
    f"SELECT {_prefixed('l', r.LINEAGE_COLUMNS)} FROM lineage l "
    "JOIN variants p ON p.id = l.parent_variant_id "
    "JOIN assets pa ON pa.id = p.asset_id "
    "JOIN variants ch ON ch.id = l.child_variant_id "
    "JOIN assets ca ON ca.id = ch.asset_id "
    "WHERE p.deleted_at IS NULL AND pa.deleted_at IS NULL "
    "AND ch.deleted_at IS NULL AND ca.deleted_at IS NULL"
)


def live_links(
    conn: sqlite3.Connection,
    touching: Sequence[str] | None = None,
    *,
    severed: bool = True,
) -> list[r.LineageRow]:
    """Lineage links whose both ends (variant and asset) are live: all of them, or
    those into or out of ``touching``. ``severed``: include severed links (flagged by
    ``severed_at``) or leave them out. The one place the lineage join is written."""
    sql = _LIVE_LINKS if severed else f"{_LIVE_LINKS} AND l.severed_at IS NULL"
    if touching is None:
        return r.rows_of(r.LineageRow, conn.execute(sql))
    out: list[r.LineageRow] = []
    seen: set[str] = set()
    for marks, part in _chunks(touching):
        for row in r.rows_of(
            r.LineageRow,
            conn.execute(
                f"{sql} AND (l.parent_variant_id IN ({marks}) OR l.child_variant_id IN ({marks}))",
                (*part, *part),
            ),
        ):
            if row.id not in seen:
                seen.add(row.id)
                out.append(row)
    return out


# --------------------------------------------------------------------------- assets, styles


def asset_count(conn: sqlite3.Connection) -> int:
    """Live assets."""
    return int(conn.execute("SELECT COUNT(*) FROM assets WHERE deleted_at IS NULL").fetchone()[0])


def style_presets(conn: sqlite3.Connection) -> list[r.StylePresetRow]:
    """Live style presets."""
    return r.rows_of(
        r.StylePresetRow,
        conn.execute(f"SELECT {r.STYLE_COLUMNS} FROM style_presets WHERE deleted_at IS NULL"),
    )


SEARCH_LIMIT = 200


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere, its wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def search(conn: sqlite3.Connection, text: str, *, limit: int = SEARCH_LIMIT) -> list[r.AssetRow]:
    """Live assets whose name, one of whose tags, or the prompt of one of whose live
    variants contains ``text`` (case-insensitive for ASCII), oldest first. An empty
    text finds nothing."""
    text = text.strip()
    if not text:
        return []
    pattern = _like(text)
    return r.rows_of(
        r.AssetRow,
        conn.execute(
            f"SELECT {_prefixed('a', r.ASSET_COLUMNS)} FROM assets a "
            "WHERE a.deleted_at IS NULL AND ("
            "a.name LIKE :p ESCAPE '\\' "
            "OR EXISTS (SELECT 1 FROM json_each(a.tags) t WHERE t.value LIKE :p ESCAPE '\\') "
            "OR EXISTS (SELECT 1 FROM variants v WHERE v.asset_id = a.id "
            "AND v.deleted_at IS NULL "
            "AND json_extract(v.recipe, '$.prompt') LIKE :p ESCAPE '\\')) "
            "ORDER BY a.created_at, a.id LIMIT :n",
            {"p": pattern, "n": limit},
        ),
    )


# --------------------------------------------------------------------------- the queue

_READY_FROM = (
    "FROM jobs j JOIN variants v ON v.id = j.variant_id JOIN assets a ON a.id = v.asset_id "
    "WHERE j.status = 'queued' AND v.deleted_at IS NULL AND a.deleted_at IS NULL"
)
_READY_COLUMNS = (
    "SELECT j.id, j.variant_id, j.provider, j.not_before, j.attempts, v.recipe, a.slug, "
    "a.media_kind"
)
_QUEUE_ORDER = "ORDER BY j.priority DESC, j.not_before, j.created_at, j.id"


def queue_paused(conn: sqlite3.Connection) -> bool:
    return conn.execute("SELECT 1 FROM meta WHERE key = ?", (PAUSED_KEY,)).fetchone() is not None


def queue_order(conn: sqlite3.Connection) -> list[str]:
    """Ids of every runnable queued job (live variant and asset), next first."""
    return [str(row[0]) for row in conn.execute(f"SELECT j.id {_READY_FROM} {_QUEUE_ORDER}")]


def startable(conn: sqlite3.Connection, provider: str, now: int, limit: int) -> list[r.ReadyJob]:
    """Up to ``limit`` of ``provider``'s runnable jobs due by ``now``, in queue order."""
    return r.rows_of(
        r.ReadyJob,
        conn.execute(
            f"{_READY_COLUMNS} {_READY_FROM} AND j.provider = ? AND j.not_before <= ? "
            f"{_QUEUE_ORDER} LIMIT ?",
            (provider, now, limit),
        ),
    )


def queued_providers(conn: sqlite3.Connection) -> list[str]:
    """Providers with a queued job."""
    return [
        str(row[0])
        for row in conn.execute(
            "SELECT DISTINCT provider FROM jobs WHERE status = 'queued' ORDER BY provider"
        )
    ]


def next_due(conn: sqlite3.Connection, now: int) -> dict[str, int]:
    """When each provider's next runnable job that is not due yet becomes due."""
    return {
        str(p): int(at)
        for p, at in conn.execute(
            f"SELECT j.provider, MIN(j.not_before) {_READY_FROM} AND j.not_before > ? "
            "GROUP BY j.provider",
            (now,),
        )
    }


def any_ready(conn: sqlite3.Connection) -> bool:
    """Is any queued job runnable (live variant and asset)?"""
    return bool(conn.execute(f"SELECT EXISTS (SELECT 1 {_READY_FROM})").fetchone()[0])


def job_attempt(conn: sqlite3.Connection, job_id: str) -> r.JobAttempt | None:
    """A job's status, attempts made and variant; None when there is no such job."""
    rows = r.rows_of(
        r.JobAttempt,
        conn.execute("SELECT id, status, attempts, variant_id FROM jobs WHERE id = ?", (job_id,)),
    )
    return rows[0] if rows else None


def running_leases(conn: sqlite3.Connection) -> list[r.JobLease]:
    """Every running job, who runs it and until when."""
    return r.rows_of(
        r.JobLease,
        conn.execute(
            "SELECT id, lease_owner, lease_expires_at FROM jobs WHERE status = 'running' "
            "ORDER BY id"
        ),
    )


class AssetSummary(NamedTuple):
    """One asset as a listing shows it: its row, how many live variants it has, and
    its active variant's status (None when it has none)."""

    asset: r.AssetRow
    variant_count: int
    active_status: str | None


ASSET_SUMMARIES_SQL = (
    f"SELECT {r.ASSET_COLUMNS}, "
    "(SELECT COUNT(*) FROM variants v WHERE v.asset_id = assets.id AND v.deleted_at IS NULL), "
    "(SELECT s.status FROM variants s "
    "WHERE s.id = assets.active_variant_id AND s.deleted_at IS NULL) "
    "FROM assets WHERE deleted_at IS NULL ORDER BY rowid"
)


def asset_summaries(conn: sqlite3.Connection) -> list[AssetSummary]:
    """Every live asset, one row each, in the snapshot's order: a listing needs no
    variant rows (a space has several per asset)."""
    width = len(r.AssetRow._fields)
    return [
        AssetSummary(r.AssetRow._make(row[:width]), row[width], row[width + 1])
        for row in conn.execute(ASSET_SUMMARIES_SQL)
    ]


# --------------------------------------------------------------------------- find and filters


class FacetAsset(NamedTuple):
    """What the filter facets need of one asset (``deleted``: it is not live)."""

    id: str
    doc: int | None  # its document in the search index (None: not indexed)
    media_kind: str
    type: str
    tags_json: str
    created_at: int
    x: float
    y: float
    deleted: bool


class FacetVariant(NamedTuple):
    """What the filter facets need of one live variant."""

    asset_id: str
    status: str
    error_code: str | None
    starred: bool
    rating: str | None
    provider: str
    model: str


class FacetChanges(NamedTuple):
    """What changed since a seq: the seq now, the assets and variants touched (by key),
    and whether the change log still covers the span (False: read everything again)."""

    seq: int
    assets: frozenset[str]
    variants: frozenset[str]
    covered: bool


_FACET_ASSETS = (
    "SELECT a.id, d.doc, a.media_kind, a.type, a.tags, a.created_at, a.x, a.y, "
    "a.deleted_at IS NOT NULL FROM assets a LEFT JOIN asset_search_docs d ON d.asset_id = a.id"
)
_RECIPE_TEXT = "CASE WHEN json_valid(v.recipe) THEN json_extract(v.recipe, '$.{key}') END"
_FACET_VARIANTS = (
    "SELECT v.asset_id, v.status, v.error_code, v.starred, v.rating, "
    f"COALESCE({_RECIPE_TEXT.format(key='provider')}, ''), "
    f"COALESCE({_RECIPE_TEXT.format(key='model')}, '') FROM variants v "
    "WHERE v.deleted_at IS NULL"
)


YIELD_EVERY = 64
"""Rows a long read or index build on a background thread takes in between asking its
:class:`GilPause` whether it is time to let the GIL go."""


PAUSE_EVERY_S = 0.002
"""How often a :class:`GilPause` lets the GIL go, at most."""


class GilPause:
    """Called every :data:`YIELD_EVERY` rows by work that runs in Python for seconds off
    the window's thread (a facet index build: 1-2 s at 50,000 assets): every
    ``every_s`` it hands the GIL to whichever thread waits for it. Without it, every
    call on the window's thread that lets go of the GIL (each SQL statement, each file
    read, many Qt calls) waited up to the interpreter's switch interval (5 ms) to get it
    back: opening a big space while the last one's index was still being built held
    the window's thread 0.3-0.5 s instead of ~30 ms (measured). A sleep of 0 seconds
    lets the CPU go, so the waiting thread runs; it costs ~85 µs here, hence the clock."""

    __slots__ = ("_next", "every_s", "stop")

    def __init__(
        self, every_s: float | None = None, stop: Callable[[], bool] | None = None
    ) -> None:
        self.every_s = PAUSE_EVERY_S if every_s is None else every_s
        self.stop = stop
        """Asked at each pause: True ends the work with :class:`Stopped` (nobody wants
        its answer any more: the space it reads was left)."""
        self._next = time.perf_counter() + self.every_s

    def __call__(self) -> None:
        if time.perf_counter() >= self._next:
            time.sleep(0)
            if self.stop is not None and self.stop():
                raise Stopped("no longer wanted")
            self._next = time.perf_counter() + self.every_s

    def each(self, items: Iterable[T]) -> Iterator[T]:
        """``items``, with a look at the clock before every :data:`YIELD_EVERY`-th."""
        for i, item in enumerate(items):
            if not i % YIELD_EVERY:
                self()
            yield item


class Stopped(StudioError):
    """Long work given up at a :class:`GilPause` because its ``stop`` said so."""


def _rows_pausing(cls: type[_Row], cursor: sqlite3.Cursor, pause: GilPause) -> list[_Row]:
    """:func:`records.rows_of` for a long read off the window's thread, in slices of
    8 x :data:`YIELD_EVERY` rows (fetched in C) with ``pause`` between them."""
    out: list[_Row] = []
    while rows := cursor.fetchmany(YIELD_EVERY * 8):
        out += r.rows_of(cls, rows)
        pause()
    return out


def facet_assets(
    conn: sqlite3.Connection,
    asset_ids: Sequence[str] | None = None,
    pause: GilPause | None = None,
) -> list[FacetAsset]:
    """Facet rows of every asset (deleted ones flagged), or of ``asset_ids`` only."""
    if asset_ids is None:
        return _rows_pausing(FacetAsset, conn.execute(_FACET_ASSETS), pause or GilPause())
    out: list[FacetAsset] = []
    for marks, part in _chunks(asset_ids):
        out += r.rows_of(FacetAsset, conn.execute(f"{_FACET_ASSETS} WHERE a.id IN ({marks})", part))
    return out


def facet_variants(
    conn: sqlite3.Connection,
    asset_ids: Sequence[str] | None = None,
    pause: GilPause | None = None,
) -> list[FacetVariant]:
    """Facet rows of every live variant, or of the live variants of ``asset_ids``."""
    if asset_ids is None:
        return _rows_pausing(FacetVariant, conn.execute(_FACET_VARIANTS), pause or GilPause())
    out: list[FacetVariant] = []
    for marks, part in _chunks(asset_ids):
        out += r.rows_of(
            FacetVariant, conn.execute(f"{_FACET_VARIANTS} AND v.asset_id IN ({marks})", part)
        )
    return out


def variant_assets(conn: sqlite3.Connection, variant_ids: Sequence[str]) -> dict[str, str]:
    """The asset of each variant (deleted ones too) that still has a row."""
    out: dict[str, str] = {}
    for marks, part in _chunks(variant_ids):
        for vid, aid in conn.execute(
            f"SELECT id, asset_id FROM variants WHERE id IN ({marks})", part
        ):
            out[str(vid)] = str(aid)
    return out


def facet_changes(conn: sqlite3.Connection, since: int) -> FacetChanges:
    """The assets and variants written after seq ``since`` (``change_rows``, filed by
    the triggers of migration 7, on a replica too)."""
    seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
    row = conn.execute("SELECT value FROM sync_state WHERE key = 'rows_logged_after'").fetchone()
    covered = row is None or int(row[0]) <= since
    assets: set[str] = set()
    variants: set[str] = set()
    if covered and seq > since:
        for tbl, pk in conn.execute(
            "SELECT tbl, pk FROM change_rows WHERE seq > ? AND tbl IN ('assets', 'variants')",
            (since,),
        ):
            (assets if tbl == "assets" else variants).add(str(pk))
    return FacetChanges(seq, frozenset(assets), frozenset(variants), covered)


class FacetRefresh(NamedTuple):
    """The facet rows to take in: everything (``full``) or the rows of ``touched``
    assets (those of them without a row are gone); ``seq``: what they are current to."""

    seq: int
    full: bool
    touched: frozenset[str]
    assets: list[FacetAsset]
    variants: list[FacetVariant]


def facet_refresh(
    conn: sqlite3.Connection, since: int | None, pause: GilPause | None = None
) -> FacetRefresh:
    """What an index of facets current to seq ``since`` must take in (every row when
    ``since`` is None, when the change log no longer covers the span, or when a touched
    variant has no row any more); call it inside one read transaction."""
    if since is not None:
        changes = facet_changes(conn, since)
        if changes.covered:
            owners = variant_assets(conn, sorted(changes.variants))
            if len(owners) == len(changes.variants):
                touched = sorted(changes.assets | set(owners.values()))
                return FacetRefresh(
                    changes.seq,
                    False,
                    frozenset(touched),
                    facet_assets(conn, touched) if touched else [],
                    facet_variants(conn, touched) if touched else [],
                )
    seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
    pause = pause or GilPause()
    return FacetRefresh(
        seq, True, frozenset(), facet_assets(conn, None, pause), facet_variants(conn, None, pause)
    )


def search_docs(
    conn: sqlite3.Connection, match: str, among: Sequence[int] | None = None
) -> list[int]:
    """Documents of the search index (``asset_search``, migration 8) that ``match`` (an
    FTS5 query, see :func:`studio.core.facets.match_expression`) finds; only those of
    ``among`` when given."""
    sql = "SELECT rowid FROM asset_search WHERE asset_search MATCH ?"
    if among is None:
        return [doc for (doc,) in conn.execute(sql, (match,))]
    out: list[int] = []
    unique = list(dict.fromkeys(among))
    for i in range(0, len(unique), CHUNK):
        part = unique[i : i + CHUNK]
        marks = ", ".join("?" * len(part))
        out += [
            int(row[0]) for row in conn.execute(f"{sql} AND rowid IN ({marks})", (match, *part))
        ]
    return out


# --------------------------------------------------------------------------- bound


class Reads:
    """The read API of one open space (``Space.read``): each call runs on the calling
    thread's read connection and returns typed records."""

    __slots__ = ("_db",)

    def __init__(self, db: Database) -> None:
        self._db = db

    def _run(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        with self._db.read() as conn:
            return fn(conn)

    def prompts(self, variant_ids: Sequence[str]) -> dict[str, str]:
        return self._run(lambda c: prompts(c, variant_ids))

    def operations(self, variant_ids: Sequence[str]) -> dict[str, str]:
        return self._run(lambda c: operations(c, variant_ids))

    def variant_labels(self, variant_ids: Sequence[str]) -> dict[str, r.VariantLabel]:
        return self._run(lambda c: variant_labels(c, variant_ids))

    def requesters(self, variant_ids: Sequence[str]) -> dict[str, r.Requester]:
        return self._run(lambda c: requesters(c, variant_ids))

    def variant_rows(self, variant_ids: Sequence[str]) -> list[r.VariantRow]:
        return self._run(lambda c: variant_rows(c, variant_ids))

    def variant_files(self, variant_id: str | None = None) -> list[r.VariantFiles]:
        return self._run(lambda c: variant_files(c, variant_id))

    def uploads(self) -> list[r.UploadRow]:
        return self._run(uploads)

    def free_block_near(self, x: float, y: float, cols: int, rows: int) -> tuple[float, float]:
        """Where a ``cols`` x ``rows`` block of new cards near ``(x, y)`` would land on
        no live card (:func:`studio.core.placement.free_block_near`)."""
        return self._run(lambda c: free_block_near(c, x, y, cols, rows))

    def live_links(
        self, touching: Sequence[str] | None = None, *, severed: bool = True
    ) -> list[r.LineageRow]:
        return self._run(lambda c: live_links(c, touching, severed=severed))

    def asset_count(self) -> int:
        return self._run(asset_count)

    def style_presets(self) -> list[r.StylePresetRow]:
        return self._run(style_presets)

    def search(self, text: str, *, limit: int = SEARCH_LIMIT) -> list[r.AssetRow]:
        return self._run(lambda c: search(c, text, limit=limit))

    def queue_paused(self) -> bool:
        return self._run(queue_paused)

    def queue_order(self) -> list[str]:
        return self._run(queue_order)

    def queue_positions(self) -> dict[str, int]:
        """Queue position (1 = next) of every runnable queued job."""
        return {jid: i + 1 for i, jid in enumerate(self.queue_order())}

    def startable(self, provider: str, now: int, limit: int) -> list[r.ReadyJob]:
        return self._run(lambda c: startable(c, provider, now, limit))

    def queued_providers(self) -> list[str]:
        return self._run(queued_providers)

    def next_due(self, now: int) -> dict[str, int]:
        return self._run(lambda c: next_due(c, now))

    def any_ready(self) -> bool:
        return self._run(any_ready)

    def job_attempt(self, job_id: str) -> r.JobAttempt | None:
        return self._run(lambda c: job_attempt(c, job_id))

    def running_leases(self) -> list[r.JobLease]:
        return self._run(running_leases)

    def collection_members(self) -> dict[str, list[CollectionMember]]:
        return self._run(collection_members)

    def asset_summaries(self) -> list[AssetSummary]:
        return self._run(asset_summaries)

    def facet_refresh(self, since: int | None, pause: GilPause | None = None) -> FacetRefresh:
        """:func:`facet_refresh` in one read transaction (``pause``: see
        :class:`GilPause`)."""
        with self._db.snapshot() as conn:
            return facet_refresh(conn, since, pause)

    def facet_rows(
        self, asset_ids: Sequence[str] | None = None
    ) -> tuple[list[FacetAsset], list[FacetVariant]]:
        with self._db.snapshot() as conn:
            return facet_assets(conn, asset_ids), facet_variants(conn, asset_ids)

    def facet_changes(self, since: int) -> FacetChanges:
        return self._run(lambda c: facet_changes(c, since))

    def search_docs(self, match: str, among: Sequence[int] | None = None) -> list[int]:
        return self._run(lambda c: search_docs(c, match, among))


# --------------------------------------------------------------------------- collections


class CollectionMember(NamedTuple):
    """One item of a collection, shown as the live asset it is (or whose variant it is)."""

    item_id: str
    collection_id: str
    asset_id: str
    variant_id: str | None


def collection_members(conn: sqlite3.Connection) -> dict[str, list[CollectionMember]]:
    """Each live collection's items in order, as live assets (items whose asset or
    variant is deleted are left out: they come back with an undo)."""
    out: dict[str, list[CollectionMember]] = {}
    for row in conn.execute(
        "SELECT i.id, i.collection_id, COALESCE(i.asset_id, v.asset_id), i.variant_id "
        "FROM collection_items i "
        "JOIN collections c ON c.id = i.collection_id AND c.deleted_at IS NULL "
        "LEFT JOIN variants v ON v.id = i.variant_id AND v.deleted_at IS NULL "
        "JOIN assets a ON a.id = COALESCE(i.asset_id, v.asset_id) AND a.deleted_at IS NULL "
        "ORDER BY i.collection_id, i.position"
    ):
        out.setdefault(row[1], []).append(CollectionMember(*row))
    return out
