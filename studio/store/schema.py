"""The space file's schema as ordered, named migrations.

Each migration runs in its own transaction and is recorded in ``schema_migrations``;
``PRAGMA user_version`` always equals the number of the last one applied. Never edit a
migration that has shipped: add a new one.
"""

from __future__ import annotations

from dataclasses import dataclass

SPACE_APPLICATION_ID = 0x46535350  # "FSSP"
LIBRARY_APPLICATION_ID = 0x46534C42  # "FSLB"


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str


_REPLICATED_V7: tuple[tuple[str, str], ...] = (
    ("assets", "id"),
    ("variants", "id"),
    ("lineage", "id"),
    ("collections", "id"),
    ("collection_items", "id"),
    ("frames", "id"),
    ("style_presets", "id"),
    ("jobs", "id"),
    ("meta", "key"),
)
"""The space tables a replica mirrors, with their primary key, as of migration 7 (a
later table that replicas need gets its triggers in its own migration: see
:data:`REPLICATED_TABLES`). Not replicated:
the change log (shipped as itself), ``history`` (each actor's undo history lives with
the host, which applies undo), ``change_rows``, ``sync_state``, ``peer_mutations`` and
the migration book."""

ASSISTANT_TABLES: tuple[tuple[str, str], ...] = (
    ("chat_sessions", "id"),
    ("chat_messages", "id"),
    ("proposals", "id"),
    ("assistant_rules", "key"),
)
"""The assistant's tables (its own migration), replicated: a shared space's chat is
everyone's."""

REPLICATED_TABLES: tuple[tuple[str, str], ...] = _REPLICATED_V7 + ASSISTANT_TABLES
"""Every space table a replica mirrors, with its primary key."""

_NEXT_SEQ = "COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'changes'), 0) + 1"
"""The seq the next change-log row will get (``changes`` is AUTOINCREMENT): a command's
writes come before its log row, so they are filed under that row's seq; a write that no
command makes (a lease renewed) rides with the next change."""


def _change_row_triggers(tables: tuple[tuple[str, str], ...]) -> str:
    """SQL of the triggers that file every insert, update and delete of ``tables`` in
    ``change_rows``. Generated from a fixed list, so the text never changes."""
    out: list[str] = []
    for table, pk in tables:
        for op, refs in (("insert", ("NEW",)), ("update", ("OLD", "NEW")), ("delete", ("OLD",))):
            body = "".join(
                f"    INSERT OR IGNORE INTO change_rows (seq, tbl, pk) "
                f"VALUES ({_NEXT_SEQ}, '{table}', {ref}.{pk});\n"
                for ref in refs
            )
            out.append(
                f"CREATE TRIGGER change_rows_{table}_{op} AFTER {op.upper()} ON {table} "
                f"BEGIN\n{body}END;\n"
            )
    return "".join(out)


SEARCH_TABLE = "asset_search"
"""The FTS5 index of live assets (space migration 8): one document per asset holding
its name, type, tags and the prompts (or imported file names) of its live variants.
Derived from ``assets`` and ``variants`` by triggers, so it is never replicated or
written by hand; ``asset_search_docs`` gives each asset a stable document number
(``assets`` has no INTEGER PRIMARY KEY, so its rowids may change on VACUUM)."""


_SEARCH_DOCUMENT = f"""INSERT INTO {SEARCH_TABLE} (rowid, name, type, tags, prompts)
        SELECT d.doc, a.name, a.type,
            CASE WHEN json_valid(a.tags) THEN
                (SELECT COALESCE(group_concat(t.value, ' '), '') FROM json_each(a.tags) t)
                ELSE '' END,
            (SELECT COALESCE(group_concat(p, ' '), '') FROM (
                SELECT CASE WHEN json_valid(v.recipe) THEN
                    COALESCE(json_extract(v.recipe, '$.prompt'),
                    json_extract(v.recipe, '$.original_name')) END AS p
                FROM variants v WHERE v.asset_id = a.id AND v.deleted_at IS NULL
                ORDER BY v.id))
        FROM assets a JOIN asset_search_docs d ON d.asset_id = a.id
        WHERE a.deleted_at IS NULL"""
"""Writes the search documents of the live assets the caller's ``AND …`` picks (the
prompts in variant-id order, so a replica writes the very same text). JSON that does
not parse counts as empty: a damaged row never blocks a write."""


_SEARCH_TABLE_SQL = (
    f"CREATE VIRTUAL TABLE {SEARCH_TABLE} USING fts5(name, type, tags, prompts, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3')"
)
_SEARCH_FILL = (
    "INSERT INTO asset_search_docs (asset_id) SELECT id FROM assets WHERE deleted_at IS NULL",
    _SEARCH_DOCUMENT,
)
REBUILD_SEARCH: tuple[str, ...] = (
    f"DROP TABLE {SEARCH_TABLE}",
    "DELETE FROM asset_search_docs",
    _SEARCH_TABLE_SQL,
    *_SEARCH_FILL,
)
"""Statements that build the search index again from the rows alone (the same table
the migration makes, byte for byte): for a space file from elsewhere (an archive),
whose index must not be taken on trust. Run them inside one write transaction."""


def _reindex(asset_id: str) -> str:
    """SQL that makes the search document of the asset ``asset_id`` (an SQL expression,
    e.g. ``NEW.id``) match its rows: dropped, then written again if the asset is live.
    Every step reads the current rows, so the order a replica applies rows in does not
    matter."""
    return (
        f"    DELETE FROM {SEARCH_TABLE} WHERE rowid = "
        f"(SELECT doc FROM asset_search_docs WHERE asset_id = {asset_id});\n"
        f"    INSERT OR IGNORE INTO asset_search_docs (asset_id) "
        f"SELECT id FROM assets WHERE id = {asset_id};\n"
        f"    {_SEARCH_DOCUMENT} AND a.id = {asset_id};\n"
    )


def _search_triggers() -> str:
    """The triggers that keep :data:`SEARCH_TABLE` current. Updates that cannot change
    the text (a move, a job's progress) do not touch it."""
    return (
        "CREATE TRIGGER asset_search_asset_insert AFTER INSERT ON assets BEGIN\n"
        f"{_reindex('NEW.id')}END;\n"
        "CREATE TRIGGER asset_search_asset_update "
        "AFTER UPDATE OF name, type, tags, deleted_at ON assets BEGIN\n"
        f"{_reindex('NEW.id')}END;\n"
        "CREATE TRIGGER asset_search_asset_delete AFTER DELETE ON assets BEGIN\n"
        f"    DELETE FROM {SEARCH_TABLE} WHERE rowid = "
        "(SELECT doc FROM asset_search_docs WHERE asset_id = OLD.id);\n"
        "    DELETE FROM asset_search_docs WHERE asset_id = OLD.id;\n"
        "END;\n"
        "CREATE TRIGGER asset_search_variant_insert AFTER INSERT ON variants BEGIN\n"
        f"{_reindex('NEW.asset_id')}END;\n"
        "CREATE TRIGGER asset_search_variant_update "
        "AFTER UPDATE OF asset_id, recipe, deleted_at ON variants BEGIN\n"
        f"{_reindex('OLD.asset_id')}{_reindex('NEW.asset_id')}END;\n"
        "CREATE TRIGGER asset_search_variant_delete AFTER DELETE ON variants BEGIN\n"
        f"{_reindex('OLD.asset_id')}END;\n"
    )


SEARCH_MIGRATION = Migration(
    8,
    "a full-text index of asset names, types, tags and prompts (find and filters)",
    f"""
    CREATE TABLE asset_search_docs (
        doc INTEGER PRIMARY KEY,
        asset_id TEXT NOT NULL UNIQUE
    );
    {_SEARCH_TABLE_SQL};
    {_SEARCH_FILL[0]};
    {_SEARCH_FILL[1]};
    """
    + _search_triggers(),
)


SPACE_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "assets, variants, lineage and the change log",
        """
        CREATE TABLE assets (
            id TEXT PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            type TEXT NOT NULL DEFAULT '',
            media_kind TEXT NOT NULL CHECK (media_kind IN ('image', 'audio', 'video')),
            tags TEXT NOT NULL DEFAULT '[]',
            parent_asset_id TEXT REFERENCES assets(id),
            x REAL NOT NULL DEFAULT 0,
            y REAL NOT NULL DEFAULT 0,
            active_variant_id TEXT,
            created_by TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        CREATE TABLE variants (
            id TEXT PRIMARY KEY,
            asset_id TEXT NOT NULL REFERENCES assets(id),
            status TEXT NOT NULL CHECK (status IN
                ('uploading', 'pending', 'processing', 'completed', 'failed')),
            error_code TEXT,
            error_message TEXT,
            media_path TEXT,
            mime TEXT,
            size_bytes INTEGER,
            width INTEGER,
            height INTEGER,
            duration_ms INTEGER,
            sha256 TEXT,
            thumb_path TEXT,
            poster_path TEXT,
            original_name TEXT,
            recipe TEXT NOT NULL DEFAULT '{}',
            generation_provenance TEXT NOT NULL DEFAULT '{}',
            provider_metadata TEXT NOT NULL DEFAULT '{}',
            starred INTEGER NOT NULL DEFAULT 0,
            rating TEXT CHECK (rating IN ('approved', 'rejected')),
            created_by TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        CREATE TABLE lineage (
            id TEXT PRIMARY KEY,
            parent_variant_id TEXT NOT NULL REFERENCES variants(id),
            child_variant_id TEXT NOT NULL REFERENCES variants(id),
            relation TEXT NOT NULL CHECK (relation IN ('derived', 'refined', 'forked')),
            created_at INTEGER NOT NULL,
            severed_at INTEGER,
            UNIQUE (parent_variant_id, child_variant_id, relation)
        );
        CREATE TABLE changes (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            actor_id TEXT NOT NULL,
            actor_name TEXT NOT NULL,
            actor_role TEXT NOT NULL,
            command TEXT NOT NULL,
            payload TEXT NOT NULL,
            events TEXT NOT NULL
        );
        CREATE INDEX variants_by_asset ON variants(asset_id);
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "collections, frames and style presets",
        """
        CREATE TABLE collections (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            position INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        CREATE TABLE collection_items (
            id TEXT PRIMARY KEY,
            collection_id TEXT NOT NULL REFERENCES collections(id),
            asset_id TEXT REFERENCES assets(id),
            variant_id TEXT REFERENCES variants(id),
            position INTEGER NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            CHECK ((asset_id IS NULL) <> (variant_id IS NULL))
        );
        CREATE INDEX collection_items_by_collection
            ON collection_items(collection_id, position);
        CREATE TABLE frames (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL,
            x REAL NOT NULL,
            y REAL NOT NULL,
            width REAL NOT NULL CHECK (width > 0),
            height REAL NOT NULL CHECK (height > 0),
            color TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        CREATE TABLE style_presets (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            prompt TEXT NOT NULL DEFAULT '',
            collection_id TEXT REFERENCES collections(id),
            enabled INTEGER NOT NULL DEFAULT 1,
            is_default INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        """,
    ),
    Migration(
        3,
        "durable jobs and lineage indexes",
        """
        CREATE TABLE jobs (
            id TEXT PRIMARY KEY,
            variant_id TEXT NOT NULL REFERENCES variants(id),
            provider TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
            priority INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            not_before INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT UNIQUE,
            progress REAL,
            error_code TEXT,
            error_message TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        );
        CREATE INDEX jobs_ready ON jobs(status, priority DESC, not_before, created_at);
        CREATE INDEX jobs_by_variant ON jobs(variant_id);
        CREATE INDEX lineage_by_child ON lineage(child_variant_id);
        CREATE INDEX lineage_by_parent ON lineage(parent_variant_id);
        CREATE INDEX assets_by_parent ON assets(parent_asset_id);
        """,
    ),
    Migration(
        4,
        "who owns an upload in progress",
        """
        ALTER TABLE variants ADD COLUMN upload_owner TEXT;
        """,
    ),
    Migration(
        5,
        "steps in the change log and each actor's undo history",
        """
        ALTER TABLE changes ADD COLUMN step_id TEXT;
        CREATE INDEX changes_by_step ON changes(step_id);
        CREATE TABLE history (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            actor_id TEXT NOT NULL,
            step_id TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            undo TEXT NOT NULL,
            redo TEXT,
            state TEXT NOT NULL CHECK (state IN ('done', 'undone', 'stuck')),
            reason TEXT,
            merge_key TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX history_by_actor ON history(actor_id, state, id);
        """,
    ),
    Migration(
        6,
        "parked jobs: set aside by deleting their variant, queued again by restoring it",
        """
        CREATE TABLE jobs_v6 (
            id TEXT PRIMARY KEY,
            variant_id TEXT NOT NULL REFERENCES variants(id),
            provider TEXT NOT NULL,
            status TEXT NOT NULL CHECK (status IN
                ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'parked')),
            priority INTEGER NOT NULL DEFAULT 0,
            attempts INTEGER NOT NULL DEFAULT 0,
            max_attempts INTEGER NOT NULL DEFAULT 3,
            lease_owner TEXT,
            lease_expires_at INTEGER,
            not_before INTEGER NOT NULL DEFAULT 0,
            idempotency_key TEXT UNIQUE,
            progress REAL,
            error_code TEXT,
            error_message TEXT,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            started_at INTEGER,
            finished_at INTEGER
        );
        INSERT INTO jobs_v6 (id, variant_id, provider, status, priority, attempts,
            max_attempts, lease_owner, lease_expires_at, not_before, idempotency_key,
            progress, error_code, error_message, created_at, updated_at, started_at,
            finished_at)
        SELECT j.id, j.variant_id, j.provider,
            CASE WHEN j.status IN ('queued', 'running') AND (v.deleted_at IS NOT NULL
                OR a.deleted_at IS NOT NULL) THEN 'parked' ELSE j.status END,
            j.priority, j.attempts, j.max_attempts, j.lease_owner, j.lease_expires_at,
            j.not_before, j.idempotency_key, j.progress, j.error_code, j.error_message,
            j.created_at, j.updated_at, j.started_at, j.finished_at
        FROM jobs j LEFT JOIN variants v ON v.id = j.variant_id
        LEFT JOIN assets a ON a.id = v.asset_id;
        DROP TABLE jobs;
        ALTER TABLE jobs_v6 RENAME TO jobs;
        CREATE INDEX jobs_ready ON jobs(status, priority DESC, not_before, created_at);
        CREATE INDEX jobs_by_variant ON jobs(variant_id);
        """,
    ),
    Migration(
        7,
        "which rows each change touched, for replicas; peers' mutation ids; replica state",
        # replicas: see studio/core/replica.py and docs/sharing.md
        """
        CREATE TABLE change_rows (
            seq INTEGER NOT NULL,
            tbl TEXT NOT NULL,
            pk TEXT NOT NULL,
            PRIMARY KEY (seq, tbl, pk)
        ) WITHOUT ROWID;
        CREATE TABLE sync_state (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE peer_mutations (
            client_id TEXT NOT NULL,
            mutation_id TEXT NOT NULL,
            step_id TEXT NOT NULL,
            result TEXT NOT NULL,
            at INTEGER NOT NULL,
            PRIMARY KEY (client_id, mutation_id)
        );
        INSERT INTO sync_state (key, value)
            SELECT 'rows_logged_after', COALESCE(MAX(seq), 0) FROM changes;
        """
        + _change_row_triggers(_REPLICATED_V7),
    ),
    SEARCH_MIGRATION,
    Migration(
        9,
        "the assistant: chat sessions and messages, proposals awaiting approval, rules",
        """
        CREATE TABLE chat_sessions (
            id TEXT PRIMARY KEY,
            title TEXT NOT NULL DEFAULT '',
            created_by TEXT NOT NULL DEFAULT '',
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL,
            deleted_at INTEGER
        );
        CREATE TABLE chat_messages (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES chat_sessions(id),
            position INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
            blocks TEXT NOT NULL DEFAULT '[]',
            author_id TEXT NOT NULL DEFAULT '',
            model TEXT NOT NULL DEFAULT '',
            usage TEXT NOT NULL DEFAULT '{}',
            created_at INTEGER NOT NULL,
            UNIQUE (session_id, position)
        );
        CREATE TABLE proposals (
            id TEXT PRIMARY KEY,
            session_id TEXT NOT NULL REFERENCES chat_sessions(id),
            tool TEXT NOT NULL,
            summary TEXT NOT NULL DEFAULT '',
            commands TEXT NOT NULL,
            cost_usd REAL,
            state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected', 'applied')),
            proposed_for TEXT NOT NULL DEFAULT '',
            decided_by TEXT,
            decided_at INTEGER,
            standing INTEGER NOT NULL DEFAULT 0,
            created_at INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE INDEX proposals_by_session ON proposals(session_id, created_at);
        CREATE TABLE assistant_rules (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL,
            set_by TEXT NOT NULL DEFAULT '',
            updated_at INTEGER NOT NULL
        );
        """
        + _change_row_triggers(ASSISTANT_TABLES),
    ),
    Migration(
        10,
        "live cards by place, so a new card's free spot reads only the cards near it",
        # studio/core/handlers/assets.py free_place: a band of rows (y, then x read from
        # the index, never the table), and MAX(y) for "under the lowest card"
        """
        CREATE INDEX assets_live_at ON assets(y, x) WHERE deleted_at IS NULL;
        """,
    ),
)


LIBRARY_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "spaces index and settings",
        """
        CREATE TABLE spaces (
            id TEXT PRIMARY KEY,
            slug TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            file TEXT NOT NULL,
            created_at INTEGER NOT NULL,
            last_opened_at INTEGER
        );
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE usage_events (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            at INTEGER NOT NULL,
            space_id TEXT,
            job_id TEXT,
            provider TEXT NOT NULL,
            model TEXT NOT NULL DEFAULT '',
            operation TEXT NOT NULL DEFAULT '',
            units REAL NOT NULL DEFAULT 0,
            unit TEXT NOT NULL DEFAULT '',
            cost_usd REAL NOT NULL DEFAULT 0
        );
        CREATE INDEX usage_by_space ON usage_events(space_id, at);
        """,
    ),
    Migration(
        2,
        "provider model and voice lists",
        """
        CREATE TABLE provider_lists (
            provider TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('model', 'voice')),
            fetched_at INTEGER NOT NULL,
            PRIMARY KEY (provider, kind)
        );
        CREATE TABLE provider_list_items (
            provider TEXT NOT NULL,
            kind TEXT NOT NULL,
            item_id TEXT NOT NULL,
            label TEXT NOT NULL DEFAULT '',
            detail TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (provider, kind, item_id),
            FOREIGN KEY (provider, kind) REFERENCES provider_lists(provider, kind)
                ON DELETE CASCADE
        );
        """,
    ),
)
