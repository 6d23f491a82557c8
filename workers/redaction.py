"""One redaction function for every exit a key could leave by: provider errors, log
records, warnings, uncaught tracebacks, stored metadata and job failure texts.

:func:`redact` removes, from any text, every registered secret **and every fragment of
one at least** :data:`MIN_FRAGMENT` **characters long** — a key cut in two by a
truncation, a key's long prefix, a key split by whitespace, quotes or commas, written in
another case, URL-encoded, hex- or base64-encoded — plus anything shaped like a Google,
ElevenLabs or Anthropic key. Text is redacted *before* it is cut to a length
(:func:`clip`), so no cut can leave a key's first characters behind.

Secrets are registered once they are known (a provider is built with a key, the key
store reads or writes one): :func:`register`. :func:`install` (idempotent) puts the
redaction on the process-wide exits: a log-record factory (every logger, the records'
tracebacks included), ``warnings.warn`` / ``warn_explicit`` / ``showwarning`` and,
when asked, ``sys.excepthook``. Importing this module does nothing of the sort.
"""

from __future__ import annotations

import base64
import logging
import re
import sys
import threading
import traceback
import warnings
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
MIN_SECRET = 8  # shorter strings would redact ordinary words
MIN_FRAGMENT = 8  # a run of this many characters of a key is a leak
_GRAM = 4  # every fragment of 2 * _GRAM characters holds one aligned gram
# Characters an SDK or a formatter may put inside a key (wrapping, repr, lists): they
# are ignored when looking for a key, and swallowed with it.
_SEPARATORS = " \t\r\n\v\f\"'`,\\\u00a0\u00ad\u200b\u200c\u200d\u2060\ufeff"
_DROP = str.maketrans("", "", _SEPARATORS)
# Things shaped like API keys even when they are not ours (Google, ElevenLabs, Anthropic).
KEY_SHAPES = re.compile(
    r"AIza[0-9A-Za-z_\-]{30,}"
    r"|sk_[0-9a-f]{40,}"
    r"|sk-ant-[0-9A-Za-z_\-]{20,}"
)
_MARK = "_studio_redacting"


def _fold(text: str) -> str:
    """``text`` without separators, lower-cased character by character (so each folded
    character stands for exactly one character of the input)."""
    text = text.translate(_DROP)
    low = text.lower()
    if len(low) == len(text):
        return low
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def _forms(secret: str) -> set[str]:
    """The ways a secret may be written: as is, URL-encoded, JSON-escaped, hex and
    base64 (at each of the three byte alignments, edges trimmed)."""
    raw = secret.encode("utf-8", "surrogatepass")
    forms = {
        secret,
        quote(secret, safe=""),
        quote_plus(secret, safe=""),
        "".join(f"%{b:02x}" for b in raw),
        raw.hex(),
        secret.encode("unicode_escape").decode("ascii"),
    }
    for skip in range(3):
        chunk = raw[skip:]
        chunk = chunk[: len(chunk) - len(chunk) % 3]
        for encoded in (base64.b64encode(chunk), base64.urlsafe_b64encode(chunk)):
            forms.add(encoded.decode("ascii"))
    return {f for f in forms if len(f) >= MIN_FRAGMENT and len(_fold(f)) >= _GRAM}


class _Pattern:
    """One form of a secret, folded, indexed by its grams: every gram when the form
    holds separator characters of its own, else every aligned one (any run of
    2 * _GRAM - 1 characters holds an aligned gram)."""

    __slots__ = ("form", "grams", "hi", "lo")

    def __init__(self, raw: str) -> None:
        keep = [i for i, ch in enumerate(raw) if ch not in _SEPARATORS]
        form = self.form = _fold(raw)
        n = len(form)
        # where each folded character lies in the raw form, widened over the form's own
        # separators: a piece's length is counted in the form's raw characters
        self.lo = [keep[k - 1] + 1 if k else 0 for k in range(n)]
        self.hi = [keep[k + 1] if k + 1 < n else len(raw) for k in range(n)]
        stride = _GRAM if n == len(raw) else 1
        grams: dict[str, list[int]] = {}
        for q in range(0, n - _GRAM + 1, stride):
            grams.setdefault(form[q : q + _GRAM], []).append(q)
        last = n - _GRAM  # the tail, when the length is not a multiple
        if last not in grams.get(form[last:], ()):
            grams.setdefault(form[last:], []).append(last)
        self.grams = grams

    def spans(self, folded: str) -> list[tuple[int, int]]:
        """Where in ``folded`` runs of the form are that stand for at least MIN_FRAGMENT
        characters of it."""
        form, out = self.form, []
        done: dict[int, tuple[int, int]] = {}  # diagonal (p - q) → the run found on it
        for gram, starts in self.grams.items():
            p = folded.find(gram)
            while p >= 0:
                for q in starts:
                    seen = done.get(p - q)
                    if seen is not None and seen[0] <= p < seen[1]:
                        continue  # part of a run already found
                    lo, hi = p, p + _GRAM
                    qlo, qhi = q, q + _GRAM
                    while lo > 0 and qlo > 0 and folded[lo - 1] == form[qlo - 1]:
                        lo, qlo = lo - 1, qlo - 1
                    while hi < len(folded) and qhi < len(form) and folded[hi] == form[qhi]:
                        hi, qhi = hi + 1, qhi + 1
                    done[p - q] = (lo, hi)
                    if self.hi[qhi - 1] - self.lo[qlo] >= MIN_FRAGMENT:
                        out.append((lo, hi))
                p = folded.find(gram, p + 1)
        return out


class SecretSet:
    """The secrets in use in this process (thread-safe), and their search patterns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._patterns: dict[str, list[_Pattern]] = {}
        self._flat: list[_Pattern] | None = None

    def add(self, secret: str) -> None:
        """Remember ``secret`` (≥ MIN_SECRET characters) and make sure the process-wide
        exits redact (:func:`install`)."""
        secret = secret.strip()
        if len(secret) >= MIN_SECRET:
            with self._lock:
                known = secret in self._patterns
            if not known:
                patterns = [_Pattern(form) for form in _forms(secret)]
                with self._lock:
                    self._patterns[secret] = patterns
                    self._flat = None
        install()

    def discard(self, secret: str) -> None:
        with self._lock:
            self._patterns.pop(secret.strip(), None)
            self._flat = None

    def patterns(self) -> list[_Pattern]:
        with self._lock:
            if self._flat is None:
                self._flat = [p for ps in self._patterns.values() for p in ps]
            return self._flat

    def __contains__(self, secret: object) -> bool:
        with self._lock:
            return isinstance(secret, str) and secret.strip() in self._patterns

    def redact(self, text: str, extra: Iterable[str] = ()) -> str:
        return redact(text, extra, _secrets=self)


SECRETS = SecretSet()


def register(secret: str | None) -> None:
    """Remember a secret (≥ 8 characters) so that :func:`redact` removes it, and put the
    redaction on the process's exits (:func:`install`)."""
    if secret:
        SECRETS.add(secret)


def _extra_patterns(secrets: Iterable[str]) -> list[_Pattern]:
    out = []
    for secret in secrets:
        secret = secret.strip() if isinstance(secret, str) else ""
        if len(secret) >= MIN_SECRET and secret not in SECRETS:
            out += [_Pattern(form) for form in _forms(secret)]
    return out


def redact(text: str, secrets: Iterable[str] = (), *, _secrets: SecretSet | None = None) -> str:
    """``text`` without any registered secret, any of ``secrets``, any fragment of one
    (≥ MIN_FRAGMENT characters, however written) or anything shaped like a key.

    Apply it before cutting a text to a length: cut first, and a key's head survives.
    """
    if not text:
        return text
    patterns = (_secrets or SECRETS).patterns() + _extra_patterns(secrets)
    if patterns:
        text = _remove(text, patterns)
    return KEY_SHAPES.sub(REDACTED, text)


def _remove(text: str, patterns: list[_Pattern]) -> str:
    folded = _fold(text)
    # fast path: no gram of any form anywhere, nothing to find
    if len(folded) <= 4096:
        seen = {folded[i : i + _GRAM] for i in range(len(folded) - _GRAM + 1)}
        patterns = [p for p in patterns if not seen.isdisjoint(p.grams)]
    else:
        patterns = [p for p in patterns if any(g in folded for g in p.grams)]
    if not patterns:
        return text
    index = [i for i, ch in enumerate(text) if ch not in _SEPARATORS]  # folded → text
    spans = sorted(s for p in patterns for s in p.spans(folded))
    if not spans:
        return text
    out, pos, cur = [], 0, None
    for lo, hi in spans:
        if cur is not None and lo <= cur[1]:
            cur = (cur[0], max(cur[1], hi))
            continue
        if cur is not None:
            out.append((cur[0], cur[1]))
        cur = (lo, hi)
    assert cur is not None
    out.append(cur)
    pieces = []
    for lo, hi in out:
        start, end = index[lo], index[hi - 1] + 1
        pieces.append(text[pos:start])
        pieces.append(REDACTED)
        pos = end
    pieces.append(text[pos:])
    return "".join(pieces)


def clip(text: str, limit: int, secrets: Iterable[str] = ()) -> str:
    """``text`` redacted, *then* cut to at most ``limit`` characters (an ellipsis marks
    the cut)."""
    text = redact(text, secrets)
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def redact_tree(value: Any, secrets: Iterable[str] = ()) -> Any:
    """``value`` (JSON-like) with every string — mapping keys included — redacted."""
    secrets = tuple(secrets)
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {
            (redact(k, secrets) if isinstance(k, str) else k): redact_tree(v, secrets)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact_tree(v, secrets) for v in value]
    return value


# ------------------------------------------------------------------ process-wide exits

_install_lock = threading.Lock()


def install(*, excepthook: bool = False) -> None:
    """Redact every log record (any logger), every warning and — with ``excepthook`` —
    the tracebacks Python prints itself (uncaught, in a thread, unraisable). Idempotent; safe to call again after something (a test
    harness's ``catch_warnings``) restored the hooks it saved."""
    with _install_lock:
        _install_logging()
        _install_warnings()
        if excepthook and not getattr(sys.excepthook, _MARK, False):
            sys.excepthook = _marked(_redacting_excepthook(sys.excepthook))
        if excepthook and not getattr(threading.excepthook, _MARK, False):
            threading.excepthook = _marked(_redacting_thread_hook(threading.excepthook))
        if excepthook and not getattr(sys.unraisablehook, _MARK, False):
            sys.unraisablehook = _marked(_redacting_unraisable_hook(sys.unraisablehook))


def _marked(fn: Callable[..., Any]) -> Callable[..., Any]:
    setattr(fn, _MARK, True)
    return fn


def _install_logging() -> None:
    previous = logging.getLogRecordFactory()
    if getattr(previous, _MARK, False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        clean_record(record)
        return record

    logging.setLogRecordFactory(_marked(factory))


def clean_record(record: logging.LogRecord) -> None:
    """Redact a log record in place: its message, traceback and stack."""
    try:
        message = record.getMessage()
    except Exception:  # a broken record is the logging module's business
        message = None
    if message is not None:
        clean = redact(message)
        if clean != message:
            record.msg, record.args = clean, None
    if record.exc_info and record.exc_info[1] is not None:
        text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        record.exc_text = redact(text)
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def _clean_warning(message: Any) -> Any:
    if isinstance(message, Warning):
        text = str(message)
        clean = redact(text)
        if clean == text:
            return message
        try:
            return type(message)(clean)
        except Exception:
            return UserWarning(clean)
    if isinstance(message, str):
        return redact(message)
    return message


def _install_warnings() -> None:
    warn = warnings.warn
    if not getattr(warn, _MARK, False):

        def redacting_warn(
            message: Any, category: Any = None, stacklevel: int = 1, *args: Any, **kw: Any
        ) -> None:
            warn(_clean_warning(message), category, stacklevel + 1, *args, **kw)

        warnings.warn = _marked(redacting_warn)
    warn_explicit = warnings.warn_explicit
    if not getattr(warn_explicit, _MARK, False):

        def redacting_warn_explicit(message: Any, *args: Any, **kw: Any) -> None:
            warn_explicit(_clean_warning(message), *args, **kw)

        warnings.warn_explicit = _marked(redacting_warn_explicit)
    # Every warning shown or recorded — those raised in C (pydantic-core) included —
    # passes through warnings._showwarnmsg, which catch_warnings leaves in place.
    show_msg = getattr(warnings, "_showwarnmsg", None)
    if show_msg is not None and not getattr(show_msg, _MARK, False):

        def redacting_showwarnmsg(msg: Any) -> None:
            msg.message = _clean_warning(msg.message)
            if msg.line:
                msg.line = redact(msg.line)
            show_msg(msg)

        setattr(warnings, "_showwarnmsg", _marked(redacting_showwarnmsg))  # noqa: B010
    show = warnings.showwarning
    if not getattr(show, _MARK, False):

        def redacting_showwarning(
            message: Any,
            category: Any,
            filename: str,
            lineno: int,
            file: Any = None,
            line: str | None = None,
        ) -> None:
            show(
                _clean_warning(message),
                category,
                filename,
                lineno,
                file,
                redact(line) if line else line,
            )

        warnings.showwarning = _marked(redacting_showwarning)


def _redacting_excepthook(previous: Callable[..., Any]) -> Callable[..., Any]:
    def hook(exc_type: Any, exc: BaseException | None, tb: Any) -> None:
        if exc is None or isinstance(exc, KeyboardInterrupt):
            previous(exc_type, exc, tb)
            return
        text = "".join(traceback.format_exception(exc_type, exc, tb))
        if sys.stderr is not None:
            sys.stderr.write(redact(text))
            sys.stderr.flush()

    return hook


def _redacting_thread_hook(previous: Callable[..., Any]) -> Callable[..., Any]:
    """Python's own report of an exception that ended a thread, redacted. A hook some
    harness installed (a test runner's) is left to do its own reporting."""

    def hook(args: Any) -> None:
        if previous is not threading.__excepthook__ or args.exc_type is SystemExit:
            previous(args)
            return
        name = args.thread.name if args.thread is not None else threading.get_ident()
        text = "".join(
            traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback)
        )
        if sys.stderr is not None:
            sys.stderr.write(redact(f"Exception in thread {name}:\n{text}"))
            sys.stderr.flush()

    return hook


def _redacting_unraisable_hook(previous: Callable[..., Any]) -> Callable[..., Any]:
    """Python's report of an exception it could not raise (in ``__del__``, a
    finaliser…), redacted; a harness's own hook is left alone."""

    def hook(unraisable: Any) -> None:
        if previous is not sys.__unraisablehook__ or unraisable.exc_value is None:
            previous(unraisable)
            return
        what = unraisable.err_msg or "Exception ignored in"
        text = "".join(
            traceback.format_exception(
                unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback
            )
        )
        if sys.stderr is not None:
            sys.stderr.write(redact(f"{what}: {unraisable.object!r}\n{text}"))
            sys.stderr.flush()

    return hook
