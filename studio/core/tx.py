"""The context a command handler works in: one open write transaction."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.core.actor import Actor
from studio.core.errors import NotFoundError
from studio.core.events import Event
from studio.core.holders import Holders
from studio.core.providers import ProviderCatalog
from studio.store import records as r


@dataclass
class Tx:
    conn: sqlite3.Connection
    actor: Actor
    now: int
    new_id: Callable[[], str]
    media_dir: Path
    providers: ProviderCatalog | None = None
    holders: Holders | None = None
    events: list[Event] = field(default_factory=list)
    created: dict[str, str] = field(default_factory=dict)
    rollback_hooks: list[Callable[[], None]] = field(default_factory=list)
    commit_hooks: list[Callable[[], None]] = field(default_factory=list)
    place_hints: dict[Any, Any] | None = None
    """The open space's placement hints (``handlers.assets.PlaceHints``); None: none."""

    # ----------------------------------------------------------------- ownership
    @property
    def holder(self) -> str | None:
        """The holder id of the process applying this command (see ``holders``)."""
        return None if self.holders is None else self.holders.id

    def holder_alive(self, holder: str | None) -> bool | None:
        """Is ``holder`` alive? None when that can't be known."""
        if self.holders is None:
            return None
        return self.holders.alive(holder)

    # ----------------------------------------------------------------- reading
    def one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        cur = self.conn.cursor()
        cur.row_factory = sqlite3.Row
        row: sqlite3.Row | None = cur.execute(sql, args).fetchone()
        return row

    def all(self, sql: str, args: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        cur = self.conn.cursor()
        cur.row_factory = sqlite3.Row
        return cur.execute(sql, args).fetchall()

    def scalar(self, sql: str, args: tuple[Any, ...] = ()) -> Any:
        row = self.conn.execute(sql, args).fetchone()
        return None if row is None else row[0]

    def asset(self, asset_id: str, *, live: bool = True) -> sqlite3.Row:
        row = self.one("SELECT * FROM assets WHERE id = ?", (asset_id,))
        if row is None or (live and row["deleted_at"] is not None):
            raise NotFoundError(f"there is no asset {asset_id}")
        return row

    def variant(self, variant_id: str, *, live: bool = True) -> sqlite3.Row:
        row = self.one(
            "SELECT v.*, a.deleted_at AS asset_deleted_at, a.slug AS asset_slug, "
            "a.active_variant_id AS asset_active_variant_id "
            "FROM variants v JOIN assets a ON a.id = v.asset_id WHERE v.id = ?",
            (variant_id,),
        )
        if row is None or (
            live and (row["deleted_at"] is not None or row["asset_deleted_at"] is not None)
        ):
            raise NotFoundError(f"there is no variant {variant_id}")
        return row

    def row(self, table: str, key: str, what: str, *, live: bool = True) -> sqlite3.Row:
        row = self.one(f"SELECT * FROM {table} WHERE id = ?", (key,))
        if row is None or (live and row["deleted_at"] is not None):
            raise NotFoundError(f"there is no {what} {key}")
        return row

    def exists(self, table: str, key: str) -> bool:
        return self.scalar(f"SELECT 1 FROM {table} WHERE id = ?", (key,)) is not None

    # ----------------------------------------------------------------- events
    def emit(self, type_: str, data: dict[str, Any], *, at: int | None = None) -> None:
        event = Event(type_, data)
        if at is None:
            self.events.append(event)
        else:
            self.events.insert(at, event)

    def asset_row(self, asset_id: str) -> r.AssetRow:
        raw = self.conn.execute(
            f"SELECT {r.ASSET_COLUMNS} FROM assets WHERE id = ?", (asset_id,)
        ).fetchone()
        return r.AssetRow._make(raw)

    def variant_row(self, variant_id: str) -> r.VariantRow:
        raw = self.conn.execute(
            f"SELECT {r.VARIANT_COLUMNS} FROM variants WHERE id = ?", (variant_id,)
        ).fetchone()
        return r.VariantRow._make(raw)

    def emit_asset(self, type_: str, asset_id: str, *, at: int | None = None) -> None:
        self.emit(type_, r.row_json(self.asset_row(asset_id)), at=at)

    def emit_variant(self, type_: str, variant_id: str) -> None:
        self.emit(type_, r.row_json(self.variant_row(variant_id)))

    def emit_lineage(self, type_: str, lineage_id: str) -> None:
        raw = self.conn.execute(
            f"SELECT {r.LINEAGE_COLUMNS} FROM lineage WHERE id = ?", (lineage_id,)
        ).fetchone()
        self.emit(type_, r.row_json(r.LineageRow._make(raw)))

    def emit_job(self, type_: str, job_id: str) -> None:
        raw = self.conn.execute(
            f"SELECT {r.JOB_COLUMNS} FROM jobs WHERE id = ?", (job_id,)
        ).fetchone()
        self.emit(type_, r.row_json(r.JobRow._make(raw)))

    def job(self, job_id: str) -> sqlite3.Row:
        row = self.one("SELECT * FROM jobs WHERE id = ?", (job_id,))
        if row is None:
            raise NotFoundError(f"there is no job {job_id}")
        return row

    def meta(self, key: str) -> str | None:
        value = self.scalar("SELECT value FROM meta WHERE key = ?", (key,))
        return None if value is None else str(value)

    def set_meta(self, key: str, value: str | None) -> None:
        if value is None:
            self.conn.execute("DELETE FROM meta WHERE key = ?", (key,))
        elif not self.conn.execute(
            "UPDATE meta SET value = ? WHERE key = ?", (value, key)
        ).rowcount:
            # no UPSERT: its conflict policy would override the OR IGNORE of the
            # triggers that file changed rows (studio.store.schema, migration 7)
            self.conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (key, value))

    def on_rollback(self, hook: Callable[[], None]) -> None:
        self.rollback_hooks.append(hook)

    def after_commit(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` once the step has committed and the write lock is released (on
        this thread, before the step returns): work that must follow the commit but
        need not hold up every other writer, such as a directory's fsync that recovery
        can redo. Not run when the step does not commit; a failing hook is logged."""
        self.commit_hooks.append(hook)
