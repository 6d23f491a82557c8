"""Handlers for generation requests, retries, cancellation, the queue, and the job
transitions the scheduler applies (``job:*``, internal)."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.core import commands as c
from studio.core.errors import (
    ConflictError,
    InvalidStateError,
    LimitReachedError,
    NotFoundError,
    ValidationError,
)
from studio.core.forge import ForgeOp, Recipe, StyleChoice, audio_type_for, inject_style
from studio.core.handlers.assets import free_place, insert_asset
from studio.core.handlers.common import MAX_PROMPT, clean_text, media_file, update_row
from studio.core.handlers.variants import (
    UNFINISHED,
    apply_completion,
    insert_lineage,
)
from studio.core.layout import grid_position, grid_shape
from studio.core.limits import MAX_ERROR_CODE, MAX_ERROR_MESSAGE
from studio.core.reads import PAUSED_KEY
from studio.core.tx import Tx
from studio.media.files import fsync_dir
from workers.base import (
    CostEstimate,
    GenerationRequest,
    Operation,
    ProviderError,
    SourceMedia,
)

Inverse = tuple[c.Command, ...]

MAX_BATCH = 16
MAX_SPLIT_BATCH = 1000
"""The most results a batch sent as several parts (``first``/``total``) may have."""
DEFAULT_MAX_ATTEMPTS = 3
STAGING = ".staging"
RELATION = {ForgeOp.DERIVE: "derived", ForgeOp.REFINE: "refined"}


# --------------------------------------------------------------------------- planning


@dataclass(frozen=True, slots=True)
class Plan:
    """A validated recipe template; each placeholder gets its own seed."""

    recipe: Recipe
    relation: str | None
    cost: CostEstimate | None = None


def _seed_for(variant_id: str) -> int:
    return int.from_bytes(hashlib.sha256(variant_id.encode()).digest()[:4], "big") & 0x7FFFFFFF


def _sources(tx: Tx, ids: tuple[str, ...]) -> list[SourceMedia]:
    if len(set(ids)) != len(ids):
        raise ValidationError("the same reference is given twice")
    out = []
    for vid in ids:
        row = tx.variant(vid)
        if row["status"] != "completed" or not row["media_path"]:
            raise InvalidStateError(f"the reference {vid} is not finished yet")
        kind = tx.scalar("SELECT media_kind FROM assets WHERE id = ?", (row["asset_id"],))
        media_file(tx.media_dir, row["media_path"])  # a tampered row can't send other files
        out.append(
            SourceMedia(
                variant_id=vid,
                path=tx.media_dir / row["media_path"],
                mime=row["mime"] or "",
                media_kind=kind,
                width=row["width"],
                height=row["height"],
                duration_ms=row["duration_ms"],
            )
        )
    return out


def _style(tx: Tx, options: c.GenerationOptions) -> StyleChoice | None:
    if options.no_style:
        return None
    row: sqlite3.Row | None
    if options.style_id is not None:
        row = tx.row("style_presets", options.style_id, "style preset")
    else:
        row = tx.one(
            "SELECT * FROM style_presets WHERE is_default = 1 AND enabled = 1 "
            "AND deleted_at IS NULL"
        )
        if row is None:
            return None
    refs: list[str] = []
    if row["collection_id"]:
        for item in tx.all(
            "SELECT i.variant_id, a.active_variant_id FROM collection_items i "
            "LEFT JOIN assets a ON a.id = i.asset_id AND a.deleted_at IS NULL "
            "WHERE i.collection_id = ? ORDER BY i.position",
            (row["collection_id"],),
        ):
            vid = item["variant_id"] or item["active_variant_id"]
            if vid and tx.scalar(
                "SELECT 1 FROM variants WHERE id = ? AND status = 'completed' "
                "AND deleted_at IS NULL",
                (vid,),
            ):
                refs.append(vid)
    return StyleChoice(row["id"], row["name"], row["prompt"], tuple(refs))


def plan(
    tx: Tx,
    *,
    op: ForgeOp,
    prompt: str,
    media_kind: str,
    asset_type: str,
    references: tuple[str, ...],
    options: c.GenerationOptions,
) -> Plan:
    """Check everything a generation needs, before anything is written."""
    if tx.providers is None:
        raise InvalidStateError("this space was opened without generation providers")
    prompt = clean_text(prompt, "prompt", max_len=MAX_PROMPT)
    audio_type = audio_type_for(asset_type) if media_kind == "audio" else None
    try:
        if options.provider is not None:
            provider = tx.providers.get(options.provider)
            model_id = options.model
            if model_id is None:
                spec = provider.capabilities().default_model(media_kind, audio_type)
                if spec is None:
                    raise ValidationError(f"{provider.name} can't make {media_kind}")
                model_id = spec.id
        else:
            provider, model_id = tx.providers.default_for(media_kind, audio_type)
            model_id = options.model or model_id
        caps = provider.capabilities()
        model = caps.model(model_id)
        sources = _sources(tx, references)
        style = _style(tx, options)
        style_ok = None
        if style is not None:
            # style references must be usable by this model
            usable = tuple(
                s.variant_id
                for s in _sources(tx, style.reference_ids)
                if model.accepts_reference(s.media_kind)
            )
            style_ok = StyleChoice(style.id, style.name, style.prompt, usable)
        injected = inject_style(prompt, references, style_ok, model.max_references)
        sent = {s.variant_id: s for s in sources}
        for s in _sources(tx, injected.style_references_sent):
            sent[s.variant_id] = s
        # style references turn a plain generate into a derive at the provider
        sent_op = op
        if op is ForgeOp.GENERATE and injected.references_sent:
            sent_op = ForgeOp.DERIVE
        request = GenerationRequest(
            operation=Operation(sent_op.value),
            media_kind=media_kind,
            prompt=injected.prompt_sent,
            model=model.id,
            audio_type=audio_type,
            size=options.size,
            aspect_ratio=options.aspect_ratio,
            duration_s=options.duration_s,
            seed=options.seed or 0,
            params=dict(options.params),
            references=tuple(sent[v] for v in injected.references_sent),
        )
        provider.validate(request)
        cost = provider.estimate_cost(request)
    except ProviderError as exc:
        raise ValidationError(exc.message) from None
    recipe = Recipe(
        operation=op.value,
        prompt=prompt,
        prompt_sent=injected.prompt_sent,
        prompt_before=None
        if options.prompt_before is None
        else clean_text(options.prompt_before, "prompt before enhancement", max_len=MAX_PROMPT),
        provider=provider.name,
        model=model.id,
        media_kind=media_kind,
        audio_type=None if audio_type is None else audio_type.value,
        size=options.size,
        aspect_ratio=options.aspect_ratio,
        duration_s=options.duration_s,
        seed=options.seed if options.seed is not None else -1,
        params=dict(options.params),
        source_variant_ids=references,
        references_sent=injected.references_sent,
        style=None
        if style_ok is None
        else {
            "id": style_ok.id,
            "name": style_ok.name,
            "prompt": style_ok.prompt,
            "references": list(injected.style_references_sent),
        },
    )
    return Plan(recipe, RELATION.get(op), cost)


def plan_request(tx: Tx, cmd: c.Command) -> tuple[Plan, int]:
    """The validated plan of a generation request and how many placeholders it makes."""
    if isinstance(cmd, c.RequestBatch):
        if not 1 <= cmd.count <= MAX_BATCH:
            raise ValidationError(f"a batch makes 1 to {MAX_BATCH} results")
        if cmd.asset_id is not None and cmd.mode is not c.BatchMode.EXPLORE:
            raise ValidationError("only an explore batch can add variants to an existing asset")
        total = cmd.count if cmd.total is None else cmd.total
        if cmd.first < 0 or not cmd.first + cmd.count <= total <= MAX_SPLIT_BATCH:
            raise ValidationError(
                f"a batch part must lie within its batch of at most {MAX_SPLIT_BATCH} results"
            )
        if cmd.continues and cmd.asset_id is None:
            raise ValidationError("a continuing batch part names the asset it adds to")
    if isinstance(cmd, c.RequestBatch) and cmd.continues:
        asset = tx.asset(cmd.asset_id or "")  # the batch's own generations, not refinements
        op = ForgeOp.DERIVE if cmd.references else ForgeOp.GENERATE
        kind, type_, refs = asset["media_kind"], asset["type"], cmd.references
    elif isinstance(cmd, c.RequestRefine | c.RequestBatch) and cmd.asset_id is not None:
        asset = tx.asset(cmd.asset_id)
        op, kind, type_ = ForgeOp.REFINE, asset["media_kind"], asset["type"]
        refs = _refine_refs(tx, asset, cmd.references)
    elif isinstance(cmd, c.RequestGeneration | c.RequestBatch):
        op = ForgeOp.DERIVE if cmd.references else ForgeOp.GENERATE
        kind, type_, refs = cmd.media_kind.value, cmd.type, cmd.references
    else:
        raise ValidationError(f"{cmd.kind} is not a generation request")
    p = plan(
        tx,
        op=op,
        prompt=cmd.prompt,
        media_kind=kind,
        asset_type=type_,
        references=refs,
        options=cmd.options,
    )
    return p, cmd.count if isinstance(cmd, c.RequestBatch) else 1


def estimate(tx: Tx, cmd: c.Command) -> CostEstimate:
    """What a generation request would cost, planned exactly as applying it would
    (validation included), without writing anything."""
    p, count = plan_request(tx, cmd)
    assert p.cost is not None
    return CostEstimate(
        usd=p.cost.usd * count, units=p.cost.units * count, unit=p.cost.unit, note=p.cost.note
    )


def _placeholder(
    tx: Tx,
    asset_id: str,
    p: Plan,
    *,
    priority: int,
    idempotency_key: str | None,
    batch: Mapping[str, object] | None = None,
) -> tuple[str, str]:
    """Insert a pending variant with its recipe, lineage and job. Returns (variant, job)."""
    vid = tx.new_id()
    recipe = p.recipe.to_json()
    if recipe["seed"] < 0:
        recipe["seed"] = _seed_for(vid)
    recipe["batch"] = batch
    tx.conn.execute(
        "INSERT INTO variants (id, asset_id, status, recipe, created_by, created_at, updated_at) "
        "VALUES (?, ?, 'pending', ?, ?, ?, ?)",
        (vid, asset_id, json.dumps(recipe), tx.actor.id, tx.now, tx.now),
    )
    tx.emit_variant("variant:created", vid)
    if p.relation is not None:
        for src in p.recipe.source_variant_ids:
            tx.emit_lineage("lineage:created", insert_lineage(tx, src, vid, p.relation))
    jid = insert_job(tx, vid, p.recipe.provider, priority, idempotency_key)
    return vid, jid


def insert_job(tx: Tx, vid: str, provider: str, priority: int, key: str | None) -> str:
    if key is not None and tx.scalar("SELECT 1 FROM jobs WHERE idempotency_key = ?", (key,)):
        raise ConflictError("this request was already accepted")
    jid = tx.new_id()
    tx.conn.execute(
        "INSERT INTO jobs (id, variant_id, provider, status, priority, max_attempts, not_before, "
        "idempotency_key, created_at, updated_at) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?, ?, ?)",
        (jid, vid, provider, priority, DEFAULT_MAX_ATTEMPTS, tx.now, key, tx.now, tx.now),
    )
    tx.emit_job("job:created", jid)
    return jid


def _key(request_id: str | None, index: int) -> str | None:
    return None if request_id is None else f"{request_id}:{index}"


def _default_name(prompt: str) -> str:
    return " ".join(prompt.split()[:6]) or "Untitled"


default_asset_name = _default_name
"""The name a generated asset gets when none is given (its prompt's first words)."""


def _new_asset(
    tx: Tx, name: str | None, prompt: str, kind: str, type_: str, x: float, y: float
) -> str:
    default = _default_name(prompt)
    aid = insert_asset(
        tx,
        name=(name or default)[:200],
        media_kind=kind,
        type_=type_,
        tags=(),
        parent_asset_id=None,
        x=x,
        y=y,
        asset_id=None,
    )
    return aid


def _activate(tx: Tx, aid: str, vid: str) -> None:
    tx.conn.execute("UPDATE assets SET active_variant_id = ? WHERE id = ?", (vid, aid))


# --------------------------------------------------------------------------- requests


def request_generation(tx: Tx, cmd: c.RequestGeneration) -> Inverse:
    p, _ = plan_request(tx, cmd)
    aid = _new_asset(tx, cmd.name, cmd.prompt, cmd.media_kind.value, cmd.type, cmd.x, cmd.y)
    first_event = len(tx.events)
    vid, jid = _placeholder(
        tx, aid, p, priority=cmd.options.priority, idempotency_key=_key(cmd.request_id, 0)
    )
    _activate(tx, aid, vid)
    tx.emit_asset("asset:created", aid, at=first_event)
    tx.created.update(asset_id=aid, variant_id=vid, job_id=jid)
    return (c.DeleteAsset(aid),)


def _refine_refs(tx: Tx, asset: sqlite3.Row, refs: tuple[str, ...]) -> tuple[str, ...]:
    if refs:
        return refs
    active = asset["active_variant_id"]
    if active is None:
        raise InvalidStateError(f"{asset['name']!r} has no variant to refine")
    return (active,)


def request_refine(tx: Tx, cmd: c.RequestRefine) -> Inverse:
    p, _ = plan_request(tx, cmd)
    vid, jid = _placeholder(
        tx, cmd.asset_id, p, priority=cmd.options.priority, idempotency_key=_key(cmd.request_id, 0)
    )
    tx.created.update(asset_id=cmd.asset_id, variant_id=vid, job_id=jid)
    return (c.DeleteVariant(vid),)


def request_batch(tx: Tx, cmd: c.RequestBatch) -> Inverse:
    p, _ = plan_request(tx, cmd)
    opts = cmd.options
    kind, type_ = p.recipe.media_kind, cmd.type
    inverse: list[c.Command] = []
    variant_ids, job_ids, asset_ids = [], [], []
    first_event = len(tx.events)
    shared_asset = cmd.asset_id
    origin = (cmd.x, cmd.y)
    if cmd.mode is c.BatchMode.SET:  # the whole grid goes to free space, as one block
        origin = free_place(tx, cmd.x, cmd.y, *grid_shape(cmd.count))
    if shared_asset is None and cmd.mode is c.BatchMode.EXPLORE:
        shared_asset = _new_asset(tx, cmd.name, cmd.prompt, kind, type_, cmd.x, cmd.y)
        asset_ids.append(shared_asset)
    total = cmd.count if cmd.total is None else cmd.total
    for i in range(cmd.count):
        index = cmd.first + i  # within the whole batch (several parts: see RequestBatch)
        batch = {"mode": cmd.mode.value, "index": index, "count": total}
        seeded = p
        if opts.seed is not None:
            seeded = Plan(_with_seed(p.recipe, opts.seed + index), p.relation)
        if cmd.mode is c.BatchMode.SET:
            x, y = grid_position(i, cmd.count, origin)
            # each asset of a set is told apart by its number: "Hero 1", "Hero 2"…
            name = f"{(cmd.name or _default_name(cmd.prompt))[:190]} {index + 1}"
            aid = _new_asset(tx, name, cmd.prompt, kind, type_, x, y)
            asset_ids.append(aid)
        else:
            assert shared_asset is not None
            aid = shared_asset
        vid, jid = _placeholder(
            tx,
            aid,
            seeded,
            priority=opts.priority,
            idempotency_key=_key(cmd.request_id, i),
            batch=batch,
        )
        activate = cmd.mode is c.BatchMode.SET or (
            (cmd.asset_id is None or cmd.continues) and index == 0
        )
        if activate:
            _activate(tx, aid, vid)
        variant_ids.append(vid)
        job_ids.append(jid)
        if cmd.asset_id is not None and not activate:  # the active one goes with its asset
            inverse.append(c.DeleteVariant(vid))
    for n, aid in enumerate(asset_ids):  # assets are announced before their variants
        tx.emit_asset("asset:created", aid, at=first_event + n)
        inverse.append(c.DeleteAsset(aid))
    tx.created.update(
        variant_ids=",".join(variant_ids), job_ids=",".join(job_ids), asset_ids=",".join(asset_ids)
    )
    return tuple(inverse)


def _with_seed(recipe: Recipe, seed: int) -> Recipe:
    import dataclasses

    return dataclasses.replace(recipe, seed=seed)


def retry_variant(tx: Tx, cmd: c.RetryVariant) -> Inverse:
    row = tx.variant(cmd.variant_id)
    if row["status"] != "failed":
        raise InvalidStateError(
            f"only a failed variant can be retried; this one is {row['status']}"
        )
    recipe = json.loads(row["recipe"])
    if recipe.get("operation") not in ("generate", "derive", "refine"):
        raise InvalidStateError("this variant was imported: import the file again instead")
    old_code, old_message = row["error_code"] or "FAILED", row["error_message"] or "failed"
    parked = True
    if cmd.job_id is not None:  # that job again, as undo and redo bring it back
        job = tx.job(cmd.job_id)
        if job["variant_id"] != cmd.variant_id:
            raise ValidationError(f"the job {cmd.job_id} is another variant's")
        if job["status"] not in ("cancelled", "parked"):
            raise InvalidStateError(f"the job is {job['status']}: only a stopped one comes back")
        parked = job["status"] == "parked"
        update_row(
            tx,
            "jobs",
            cmd.job_id,
            {
                "status": "queued",
                "not_before": tx.now,
                "lease_owner": None,
                "lease_expires_at": None,
                "progress": None,
                "error_code": None,
                "error_message": None,
                "finished_at": None,
            },
        )
        tx.emit_job("job:updated", cmd.job_id)
        jid = cmd.job_id
    update_row(
        tx,
        "variants",
        cmd.variant_id,
        {"status": "pending", "error_code": None, "error_message": None},
    )
    if cmd.job_id is None:
        jid = insert_job(tx, cmd.variant_id, recipe["provider"], 0, None)
    tx.emit_variant("variant:updated", cmd.variant_id)
    tx.created["job_id"] = jid
    # undone, a new retry's job is parked (it never was: nothing to show as cancelled)
    return (c.CancelJob(jid, old_code, old_message, park=parked),)


def regenerate_variant(tx: Tx, cmd: c.RegenerateVariant) -> Inverse:
    row = tx.variant(cmd.variant_id)
    if row["status"] != "completed":
        raise InvalidStateError("only a completed variant can be regenerated (retry a failed one)")
    raw = json.loads(row["recipe"])
    if raw.get("operation") not in ("generate", "derive", "refine"):
        raise InvalidStateError("this variant was not generated, so it has no recipe to rerun")
    recipe = Recipe.from_json(raw)
    for src in recipe.references_sent:
        tx.variant(src)  # every reference must still be there
    if tx.providers is not None:
        try:
            tx.providers.get(recipe.provider)
        except ProviderError as exc:
            raise ValidationError(exc.message) from None
    fresh = recipe if cmd.keep_seed else _with_seed(recipe, -1)
    p = Plan(fresh, RELATION.get(ForgeOp(recipe.operation)))
    vid, jid = _placeholder(tx, row["asset_id"], p, priority=0, idempotency_key=None, batch=None)
    tx.created.update(variant_id=vid, job_id=jid)
    return (c.DeleteVariant(vid),)


def cancel_job(tx: Tx, cmd: c.CancelJob) -> Inverse:
    code = clean_text(cmd.error_code, "error code", max_len=MAX_ERROR_CODE)
    message = clean_text(cmd.error_message, "error message", max_len=MAX_ERROR_MESSAGE)
    job = tx.job(cmd.job_id)
    if job["status"] not in ("queued", "running"):
        raise InvalidStateError(f"the job is already {job['status']}")
    if cmd.park:
        update_row(
            tx,
            "jobs",
            job["id"],
            {
                "status": "parked",
                "attempts": max(0, job["attempts"] - (job["status"] == "running")),
                "lease_owner": None,
                "lease_expires_at": None,
                "progress": None,
            },
        )
        tx.emit_job("job:updated", job["id"])  # a running body stops on it
    else:
        _finish_job(tx, job, "cancelled", code, message)
    _fail_variant(tx, job["variant_id"], code, message)
    return (c.RetryVariant(job["variant_id"], job_id=cmd.job_id),)


def pause_queue(tx: Tx, cmd: c.PauseQueue) -> Inverse:
    if tx.meta(PAUSED_KEY):
        raise InvalidStateError("the queue is already paused")
    tx.set_meta(PAUSED_KEY, "1")
    tx.emit("queue:paused", {})
    return (c.ResumeQueue(),)


def resume_queue(tx: Tx, cmd: c.ResumeQueue) -> Inverse:
    if not tx.meta(PAUSED_KEY):
        raise InvalidStateError("the queue is not paused")
    tx.set_meta(PAUSED_KEY, None)
    tx.emit("queue:resumed", {})
    return (c.PauseQueue(),)


# --------------------------------------------------------------------------- job transitions


def start_job(tx: Tx, cmd: c.StartJob) -> Inverse:
    job = tx.job(cmd.job_id)
    if job["status"] != "queued":
        raise InvalidStateError(f"the job is {job['status']}, not queued")
    variant = tx.variant(job["variant_id"])
    if variant["status"] != "pending":
        # it can never run: end it now rather than refuse it forever (a waiter would spin)
        message = f"its variant is already {variant['status']}"
        _finish_job(tx, job, "cancelled", "STALE", message)
        tx.created["outcome"] = "ended"
        return ()
    if cmd.limit is not None:
        _check_limit(tx, job["provider"], cmd.limit)
    attempt = job["attempts"] + 1
    update_row(
        tx,
        "jobs",
        cmd.job_id,
        {
            "status": "running",
            "attempts": attempt,
            "lease_owner": cmd.worker_id,
            "lease_expires_at": tx.now + cmd.lease_ms,
            "started_at": job["started_at"] or tx.now,
            "progress": 0.0,
        },
    )
    update_row(tx, "variants", job["variant_id"], {"status": "processing"})
    tx.emit_job("job:updated", cmd.job_id)
    tx.emit_variant("variant:updated", job["variant_id"])
    tx.created.update(outcome="started", attempt=str(attempt))
    return ()


def _check_limit(tx: Tx, provider: str, limit: int) -> None:
    """At most ``limit`` jobs of ``provider`` run at once across every process on this
    space: count running jobs whose owner is alive (or, where that can't be known,
    whose lease is current). Runs inside the claim's write transaction, so two
    processes can't both take the last slot."""
    running = 0
    for row in tx.all(
        "SELECT lease_owner, lease_expires_at FROM jobs WHERE status = 'running' AND provider = ?",
        (provider,),
    ):
        alive = tx.holder_alive(row["lease_owner"])
        if alive is None:
            alive = row["lease_expires_at"] is not None and row["lease_expires_at"] >= tx.now
        running += bool(alive)
    if running >= max(1, limit):
        raise LimitReachedError(f"{provider} already runs {running} jobs (the limit is {limit})")


def complete_job(tx: Tx, cmd: c.CompleteJob) -> Inverse:
    job = _owned(tx, cmd.job_id, cmd.worker_id, cmd.attempt)
    if cmd.result.variant_id != job["variant_id"]:
        raise ValidationError("the result is for another variant")
    variant = tx.variant(job["variant_id"], live=False)
    if variant["deleted_at"] is not None or variant["asset_deleted_at"] is not None:
        _finish_job(tx, job, "cancelled", "CANCELLED", "the variant was deleted while generating")
        _fail_variant(tx, job["variant_id"], "CANCELLED", "deleted while it was generating")
        tx.created["outcome"] = "discarded"
        return ()
    if variant["status"] != "processing":  # finished some other way meanwhile: keep that
        _finish_job(tx, job, "cancelled", "STALE", f"its variant is already {variant['status']}")
        tx.created["outcome"] = "discarded"
        return ()
    if len(cmd.extras) != len(cmd.extras_staged):
        raise ValidationError("each extra result needs its staged folder")
    if cmd.staged is not None:  # extras' moves are not redone by recovery: synced now
        _move_staged(tx, cmd.staged, cmd.result, variant, sync_later=not cmd.extras)
    _finish_job(tx, job, "succeeded", None, None)
    apply_completion(tx, cmd.result, variant)
    for extra, staged in zip(cmd.extras, cmd.extras_staged, strict=True):
        _add_extra(tx, variant, extra, staged)
    tx.created["outcome"] = "completed"
    if cmd.extras:
        tx.created["extra_variant_ids"] = ",".join(e.variant_id for e in cmd.extras)
    return ()


def _add_extra(tx: Tx, main: sqlite3.Row, extra: c.CompleteVariant, staged: str) -> None:
    """One more completed variant of ``main``'s asset for an extra result: the same
    recipe, creator and (live) lineage as ``main``."""
    vid = extra.variant_id
    if tx.exists("variants", vid):
        raise ConflictError(f"there is already a variant {vid}")
    tx.conn.execute(
        "INSERT INTO variants (id, asset_id, status, recipe, created_by, created_at, updated_at) "
        "VALUES (?, ?, 'processing', ?, ?, ?, ?)",
        (vid, main["asset_id"], main["recipe"], main["created_by"], tx.now, tx.now),
    )
    tx.emit_variant("variant:created", vid)
    parents = tx.conn.execute(
        "SELECT parent_variant_id, relation FROM lineage "
        "WHERE child_variant_id = ? AND severed_at IS NULL ORDER BY created_at, id",
        (main["id"],),
    ).fetchall()
    for parent, relation in parents:
        tx.emit_lineage("lineage:created", insert_lineage(tx, parent, vid, relation))
    row = tx.variant(vid, live=False)
    _move_staged(tx, staged, extra, row)
    apply_completion(tx, extra, tx.variant(vid, live=False))


def _move_staged(
    tx: Tx,
    staged_dir: str,
    result: c.CompleteVariant,
    variant: sqlite3.Row,
    *,
    sync_later: bool = False,
) -> None:
    """Move the staged result folder to ``<asset-slug>/<variant-id>/`` as part of this
    transaction (moved back if it does not commit).

    A folder already there is debris of an attempt that crashed between this move and
    its commit (the variant is unfinished and the folder is its own), so it goes first
    once the store confirms that no row, live or deleted, points into it; otherwise the
    completion is refused and nothing is deleted.

    The move is made durable before the commit is, unless ``sync_later``: then the
    folders are synced right after the commit, outside the write lock. That is safe
    only because the files and the staged folder's own entry were synced before the
    step, and because recovery (:func:`studio.core.import_recovery.finish_moves`)
    redoes a move a power cut took back from a committed completion. It never applies
    when debris was removed: lost, that removal could leave another attempt's files
    under the names the row points at."""
    staged = PurePosixPath(staged_dir)
    if staged.is_absolute() or ".." in staged.parts or staged.parts[:1] != (STAGING,):
        raise ValidationError("the staged result must be in the staging folder")
    rel = PurePosixPath(variant["asset_slug"]) / variant["id"]
    for path in (result.media_path, result.thumb_path, result.poster_path):
        if path is not None and PurePosixPath(path).parent != rel:
            raise ValidationError("the result's files must be in the variant's folder")
    src = tx.media_dir / staged
    dest = tx.media_dir / rel
    asset_dir = dest.parent
    try:
        asset_dir.mkdir()  # never the media folder itself (a deleted space)
        made = True
    except FileExistsError:
        made = False
    if made:  # a refusal leaves no empty asset folder behind
        tx.on_rollback(lambda: _remove_if_empty(asset_dir))
    if dest.exists():
        prefix = f"{rel.as_posix()}/"
        n = len(prefix)
        if tx.scalar(
            "SELECT 1 FROM variants WHERE substr(media_path, 1, ?) = ? "
            "OR substr(thumb_path, 1, ?) = ? OR substr(poster_path, 1, ?) = ? LIMIT 1",
            (n, prefix, n, prefix, n, prefix),
        ):  # never delete what a row (even a deleted, restorable one) points into
            raise ConflictError(f"the folder {rel} already holds another variant's files")
        debris = src.with_name(f"{src.name}.debris")
        os.replace(dest, debris)
        shutil.rmtree(debris, ignore_errors=True)
        sync_later = False
    os.replace(src, dest)

    def move_back() -> None:
        os.replace(dest, src)

    tx.on_rollback(move_back)

    def sync() -> None:
        fsync_dir(asset_dir)
        if made:
            fsync_dir(tx.media_dir)

    if sync_later:
        tx.after_commit(sync)
    else:
        sync()


def _remove_if_empty(folder: Path) -> None:
    with contextlib.suppress(OSError):
        folder.rmdir()


def fail_job(tx: Tx, cmd: c.FailJob) -> Inverse:
    job = _owned(tx, cmd.job_id, cmd.worker_id, cmd.attempt)
    code, message = normalize_error(cmd.error_code, cmd.error_message)
    if cmd.retry_at is not None and job["attempts"] < job["max_attempts"]:
        update_row(
            tx,
            "jobs",
            cmd.job_id,
            {
                "status": "queued",
                "not_before": cmd.retry_at,
                "lease_owner": None,
                "lease_expires_at": None,
                "error_code": code,
                "error_message": message,
            },
        )
        update_row(tx, "variants", job["variant_id"], {"status": "pending"})
        tx.emit_job("job:updated", cmd.job_id)
        tx.emit_variant("variant:updated", job["variant_id"])
        return ()
    _finish_job(tx, job, "failed", code, message)
    _fail_variant(tx, job["variant_id"], code, message)
    return ()


def requeue_job(tx: Tx, cmd: c.RequeueJob) -> Inverse:
    job = _running(tx, cmd.job_id)
    if cmd.owner is not None and (job["lease_owner"] or "") != cmd.owner:
        raise InvalidStateError("the job was taken over by another worker meanwhile")
    if cmd.count_attempt and job["attempts"] >= job["max_attempts"]:
        _, reason = normalize_error("INTERRUPTED", cmd.reason)
        message = f"{reason} ({job['attempts']} times); retry it when ready"
        _finish_job(tx, job, "failed", "INTERRUPTED", message)
        _fail_variant(tx, job["variant_id"], "INTERRUPTED", message)
        return ()
    update_row(
        tx,
        "jobs",
        cmd.job_id,
        {
            "status": "queued",
            "lease_owner": None,
            "lease_expires_at": None,
            "progress": None,
            "attempts": job["attempts"] if cmd.count_attempt else max(0, job["attempts"] - 1),
        },
    )
    update_row(tx, "variants", job["variant_id"], {"status": "pending"})
    tx.emit_job("job:updated", cmd.job_id)
    tx.emit_variant("variant:updated", job["variant_id"])
    return ()


def _running(tx: Tx, job_id: str) -> sqlite3.Row:
    job = tx.job(job_id)
    if job["status"] != "running":
        raise InvalidStateError(f"the job is {job['status']}, not running")
    return job


def _owned(tx: Tx, job_id: str, worker_id: str | None, attempt: int | None) -> sqlite3.Row:
    """The running job, if it is still the given run's (same owner, same attempt)."""
    job = _running(tx, job_id)
    if (worker_id is not None and job["lease_owner"] != worker_id) or (
        attempt is not None and job["attempts"] != attempt
    ):
        raise InvalidStateError("this run lost the job: it was re-queued or taken over")
    return job


def normalize_error(code: str, message: str) -> tuple[str, str]:
    """An error code and message that can always be stored: the code in ``A-Z0-9_``
    (``FAILED`` if nothing is left), the message valid UTF-8 on one line, both cut to
    their limits. Failures come from providers and the OS, so nothing here is refused:
    a failure that can't be recorded would leave its job running forever."""
    clean_code = re.sub(r"[^A-Z0-9_]+", "_", _utf8(code).upper()).strip("_")
    clean_code = clean_code[:MAX_ERROR_CODE] or "FAILED"
    text = " ".join("".join(ch if ch.isprintable() else " " for ch in _utf8(message)).split())
    if len(text) > MAX_ERROR_MESSAGE:
        text = text[: MAX_ERROR_MESSAGE - 1].rstrip() + "…"
    return clean_code, text or clean_code.lower()


def _utf8(text: object, limit: int = 4 * MAX_ERROR_MESSAGE) -> str:
    """The start of ``text`` as a str that encodes as UTF-8 (lone surrogates become
    ``?``)."""
    if not isinstance(text, str):
        text = str(text)
    return text[:limit].encode("utf-8", "replace").decode("utf-8")


def _finish_job(
    tx: Tx, job: sqlite3.Row, status: str, code: str | None, message: str | None
) -> None:
    update_row(
        tx,
        "jobs",
        job["id"],
        {
            "status": status,
            "finished_at": tx.now,
            "lease_owner": None,
            "lease_expires_at": None,
            "error_code": code,
            "error_message": message,
            "progress": 1.0 if status == "succeeded" else job["progress"],
        },
    )
    tx.emit_job("job:updated", job["id"])


def _fail_variant(tx: Tx, vid: str, code: str, message: str) -> None:
    row = tx.one("SELECT status FROM variants WHERE id = ?", (vid,))
    if row is None:
        raise NotFoundError(f"there is no variant {vid}")
    if row["status"] in UNFINISHED:
        update_row(
            tx, "variants", vid, {"status": "failed", "error_code": code, "error_message": message}
        )
        tx.emit_variant("variant:updated", vid)
