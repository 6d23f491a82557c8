"""Validation shared by the handlers."""

from __future__ import annotations

import math
import os
import stat
from collections.abc import Iterable
from pathlib import Path, PurePosixPath

from studio.clock import slugify, unique_slug
from studio.core.errors import ConflictError, InvalidStateError, ValidationError
from studio.core.limits import (
    MAX_COORDINATE,
    MAX_NAME,
    MAX_NOTE,
    MAX_PATH,
    MAX_PROMPT,
    MAX_TAGS,
    RAW_SLACK,
    check_text,
    shown,
)
from studio.core.limits import MAX_TAG_LEN as MAX_TAG
from studio.core.tx import Tx

__all__ = ["MAX_NAME", "MAX_NOTE", "MAX_PROMPT", "MAX_TAG", "MAX_TAGS"]


def clean_text(value: str, what: str, *, max_len: int = MAX_NAME, required: bool = True) -> str:
    check_text(value, f"the {what}", max_len, slack=RAW_SLACK)  # whitespace folds away
    text = " ".join(value.split())
    if required and not text:
        raise ValidationError(f"the {what} can't be empty")
    if len(text) > max_len:
        raise ValidationError(f"the {what} is {len(text)} characters long; the limit is {max_len}")
    return text


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    """Tags folded to lower case with single spaces, empty ones dropped, duplicates
    removed keeping the first (linear: a dict, never a list scan), at most MAX_TAGS."""
    tags = tuple(tags)
    if len(tags) > MAX_TAGS:
        raise ValidationError(f"an asset can have at most {MAX_TAGS} tags; {len(tags)} were given")
    out: dict[str, None] = {}
    for tag in tags:
        check_text(tag, "a tag", MAX_TAG, slack=RAW_SLACK)
        t = " ".join(tag.split()).lower()
        if not t:
            continue
        if len(t) > MAX_TAG:
            raise ValidationError(f"the tag {shown(t, 20)!r} is longer than {MAX_TAG} characters")
        out[t] = None
    return tuple(out)


def coordinate(value: float, what: str) -> float:
    if not math.isfinite(value) or abs(value) > MAX_COORDINATE:
        raise ValidationError(f"{what} must be a finite number")
    return float(value)


def media_file(media_dir: Path, rel: str) -> Path:
    """The file a stored media path names, refused unless it is a plain relative POSIX
    path (no absolute path, ``..``, backslash or NUL) that resolves — symlinks followed —
    inside ``media_dir``."""
    check_text(rel, "a media path", MAX_PATH)
    parts = PurePosixPath(rel).parts
    if (
        not rel
        or rel.startswith("/")
        or "\\" in rel
        or ":" in rel.split("/", 1)[0]
        or any(p in ("..", ".") for p in rel.split("/"))
        or not parts
    ):
        raise ValidationError(f"the media path {shown(rel)!r} is not a path inside the space")
    root = os.path.realpath(media_dir)
    plain = _no_links_below(root, rel) if os.name == "posix" else None
    if plain is not None:
        return Path(plain)
    target = Path(os.path.realpath(os.path.join(root, rel)))
    if target == Path(root) or not target.is_relative_to(root):
        raise ValidationError(f"the media path {shown(rel)!r} leads outside the space's media")
    return target


def _no_links_below(root: str, rel: str) -> str | None:
    """``root/rel`` when no part of ``rel`` is a symbolic link (``root`` is resolved,
    ``rel`` checked to hold no ``..`` or ``.``): it can't lead out then. None when one
    is (:func:`os.path.realpath` decides). An lstat per part of ``rel`` only, where a
    realpath walks every part of the whole path again (a completion checks two or
    three files: ~20 % of the step's CPU)."""
    path = root
    for part in rel.split("/"):
        path = f"{path}/{part}"
        try:
            mode = os.lstat(path).st_mode
        except OSError:  # missing: what follows can't be a link either
            return f"{root}/{rel}"
        if stat.S_ISLNK(mode):
            return None
    return path


def fresh_id(tx: Tx, table: str, given: str | None) -> str:
    if given is None:
        return tx.new_id()
    if not given or len(given) > 64 or not given.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("ids are 1–64 letters, digits, dashes or underscores")
    if tx.exists(table, given):
        raise ConflictError(f"the id {given} is already taken")
    return given


def asset_slug(tx: Tx, name: str) -> str:
    return unique_slug(
        slugify(name, fallback="asset"),
        lambda s: tx.scalar("SELECT 1 FROM assets WHERE slug = ?", (s,)) is not None,
    )


def update_row(tx: Tx, table: str, key: str, sets: dict[str, object]) -> None:
    """``UPDATE table SET …, updated_at = now WHERE id = key``."""
    cols = ", ".join(f"{k} = ?" for k in sets)
    tx.conn.execute(
        f"UPDATE {table} SET {cols}, updated_at = ? WHERE id = ?",
        (*sets.values(), tx.now, key),
    )


LIVE_JOB = ("queued", "running")


def park_jobs(tx: Tx, variant_ids: Iterable[str]) -> tuple[str, ...]:
    """Set aside the queued and running jobs of variants being deleted: a parked job
    never runs (a running one is told to stop by its ``job:updated`` event and its
    attempt is not counted) and comes back queued when its variant is restored.
    Returns the jobs parked, for the restore that undoes the delete."""
    parked: list[str] = []
    for vid in variant_ids:
        for job in tx.all(
            "SELECT id, status, attempts FROM jobs WHERE variant_id = ? "
            "AND status IN ('queued', 'running') ORDER BY created_at, id",
            (vid,),
        ):
            attempts = job["attempts"] - 1 if job["status"] == "running" else job["attempts"]
            update_row(
                tx,
                "jobs",
                job["id"],
                {
                    "status": "parked",
                    "attempts": max(0, attempts),
                    "lease_owner": None,
                    "lease_expires_at": None,
                    "progress": None,
                },
            )
            tx.emit_job("job:updated", job["id"])
            parked.append(job["id"])
            if job["status"] == "running":  # nothing works on it any more
                tx.conn.execute(
                    "UPDATE variants SET status = 'pending' WHERE id = ? AND status = 'processing'",
                    (vid,),
                )
    return tuple(parked)


def unpark_jobs(tx: Tx, variant_ids: Iterable[str], job_ids: tuple[str, ...] | None) -> None:
    """Queue again, for variants being restored, the parked ``job_ids`` (those the
    delete parked), or — not named — the last parked job of each pending variant that
    has no live job (a job parked by undoing a retry stays parked: its variant is
    failed)."""
    variants = tuple(variant_ids)
    if job_ids is None:
        chosen: list[str] = []
        for vid in variants:
            jid = tx.scalar(
                "SELECT j.id FROM jobs j JOIN variants v ON v.id = j.variant_id "
                "WHERE j.variant_id = ? AND j.status = 'parked' AND v.status = 'pending' "
                "AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.variant_id = j.variant_id "
                "AND k.status IN ('queued', 'running')) "
                "ORDER BY j.updated_at DESC, j.id DESC LIMIT 1",
                (vid,),
            )
            if jid is not None:
                chosen.append(str(jid))
        job_ids = tuple(chosen)
    for jid in job_ids:
        job = tx.job(jid)
        if job["variant_id"] not in variants or job["status"] != "parked":
            raise InvalidStateError(f"the job {jid} is not a parked job of what comes back")
        update_row(tx, "jobs", jid, {"status": "queued", "not_before": tx.now})
        tx.emit_job("job:updated", jid)
