"""What went wrong with a job, in words, and the one action that helps.

Pure functions of a :class:`~studio.store.records.JobRow` and the time: no Qt, no
database. The panel shows :attr:`Advice.text` and a button for :attr:`Advice.action`.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from enum import StrEnum

from studio.keys import KEY_FOR
from studio.store.records import JobRow
from workers.base import ERROR_WORDS, ErrorKind


class Action(StrEnum):
    NONE = "none"
    RETRY = "retry"
    ADD_KEY = "add_key"  # open Preferences on the keys page
    EDIT_PROMPT = "edit_prompt"  # show the asset, whose recipe the user can change


BUTTON_LABELS = {
    Action.RETRY: "Retry",
    Action.ADD_KEY: "Add key…",
    Action.EDIT_PROMPT: "Edit prompt…",
}


@dataclass(frozen=True, slots=True)
class Advice:
    text: str  # what happened and what to do, one or two sentences
    action: Action
    detail: str = ""  # the provider's own message, when it adds anything

    @property
    def button(self) -> str:
        return BUTTON_LABELS.get(self.action, "")

    @property
    def full(self) -> str:
        return f"{self.text}\n\nThe provider said: {self.detail}" if self.detail else self.text


def _code(kind: ErrorKind) -> str:
    return kind.value.upper()


# Final outcomes (the job stopped): words and the action that helps.
_FINAL: dict[str, tuple[str, Action]] = {
    _code(ErrorKind.AUTH): (ERROR_WORDS[ErrorKind.AUTH], Action.ADD_KEY),
    _code(ErrorKind.RATE_LIMITED): (
        "The provider kept rate limiting this job, so it stopped trying. "
        "Wait a minute, then retry.",
        Action.RETRY,
    ),
    _code(ErrorKind.QUOTA): (ERROR_WORDS[ErrorKind.QUOTA], Action.RETRY),
    _code(ErrorKind.SAFETY_BLOCKED): (ERROR_WORDS[ErrorKind.SAFETY_BLOCKED], Action.EDIT_PROMPT),
    _code(ErrorKind.INVALID_REQUEST): (
        "The provider rejected the request. Change the prompt or its settings.",
        Action.EDIT_PROMPT,
    ),
    _code(ErrorKind.TRANSIENT): (
        "A network or server problem outlasted the retries. Retry when it is back.",
        Action.RETRY,
    ),
    _code(ErrorKind.PROVIDER_DOWN): (
        "The provider is not answering. Retry later.",
        Action.RETRY,
    ),
    _code(ErrorKind.MALFORMED): (
        "The provider's answer could not be read. Retry, or try another model.",
        Action.RETRY,
    ),
    _code(ErrorKind.CANCELLED): ("Cancelled.", Action.RETRY),
    "INTERRUPTED": ("Forge Studio closed while this job was running.", Action.RETRY),
    "INTERNAL": ("Something went wrong inside Forge Studio (details in the log).", Action.RETRY),
    "STORAGE_ERROR": (
        "The result could not be saved. Check the free disk space and the data folder.",
        Action.RETRY,
    ),
    "IMPORT_INTERRUPTED": ("The import was interrupted. Import the file again.", Action.NONE),
}

# While a job waits to try again (still queued, with the last error kept).
_WAITING: dict[str, str] = {
    _code(ErrorKind.RATE_LIMITED): "The provider is rate limiting us.",
    _code(ErrorKind.TRANSIENT): "A temporary network or server problem.",
    _code(ErrorKind.PROVIDER_DOWN): "The provider is not answering.",
}


def clock_time(ms: int) -> str:
    """``HH:MM:SS`` in local time."""
    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%H:%M:%S")


def duration(ms: int | None) -> str:
    """``0:07``, ``12:30``, ``1:02:03``; empty for None."""
    if ms is None:
        return ""
    s = max(0, ms) // 1000
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _detail(job: JobRow) -> str:
    message = " ".join((job.error_message or "").split())
    trivial = {"", (job.error_code or "").lower(), "cancelled", "failed"}
    return "" if message.lower() in trivial else message


def advise(job: JobRow, now: int, *, provider_available: bool = True) -> Advice | None:
    """Words for a job that failed, was cancelled, or waits to retry; None otherwise.

    ``provider_available``: the job's provider is registered here. A cloud provider is
    registered only with a key, so a job for a missing one is a missing key."""
    if job.status == "queued":
        if not job.error_code:
            return None
        words = _WAITING.get(job.error_code) or _FINAL.get(job.error_code, ("", Action.NONE))[0]
        when = (
            f"retries at {clock_time(job.not_before)}" if job.not_before > now else "retries soon"
        )
        prefix = "Waiting" if job.error_code == _code(ErrorKind.RATE_LIMITED) else "Retrying"
        text = f"{prefix} — {when}. {words}".rstrip()
        return Advice(text, Action.NONE, _detail(job))
    if job.status not in ("failed", "cancelled"):
        return None
    if not provider_available and job.provider in KEY_FOR:
        return Advice(
            f"There is no key for {job.provider} here. Add one in Preferences, then retry.",
            Action.ADD_KEY,
            _detail(job),
        )
    code = job.error_code or ("CANCELLED" if job.status == "cancelled" else "")
    text, action = _FINAL.get(code, ("The job failed.", Action.RETRY))
    return Advice(text, action, _detail(job))
