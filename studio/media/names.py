"""File names as text people can read and every layer can store."""

from __future__ import annotations

import os
import unicodedata

__all__ = ["REPLACEMENT", "printable_name"]

REPLACEMENT = "\ufffd"


def printable_name(name: str | bytes | os.PathLike[str] | os.PathLike[bytes]) -> str:
    """``name`` as valid, printable Unicode.

    File names are bytes on POSIX: Python hands us undecodable bytes as lone
    surrogates (``os.fsdecode(b"\\xff")`` is ``"\\udcff"``), which can't be encoded to
    UTF-8 for SQLite, JSON or a terminal. Every surrogate and every control
    character becomes U+FFFD (whitespace controls become a space), so the result is
    never longer than the name it came from.
    """
    text = os.fsdecode(os.fspath(name))
    out = []
    for ch in text:
        cat = unicodedata.category(ch)
        if cat == "Cs":
            out.append(REPLACEMENT)
        elif cat == "Cc":
            out.append(" " if ch.isspace() else REPLACEMENT)
        else:
            out.append(ch)
    return "".join(out)
