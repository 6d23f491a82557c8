"""Generation metadata read from an imported file: what other AI tools (and Forge Studio
itself, see :mod:`studio.media.provenance`) wrote into it.

Read: AUTOMATIC1111 / Forge ``parameters`` text (PNG text chunk; JPEG/WebP EXIF
UserComment), ComfyUI ``prompt`` (API graph) and ``workflow`` (UI graph) JSON chunks,
InvokeAI ``invokeai_metadata`` (+ ``invokeai_graph`` / ``invokeai_workflow``; the legacy
2.x ``sd-metadata``), our own XMP packet / ``forge-studio:recipe`` chunk, and whether a
C2PA manifest is present. Nothing here raises on a hostile file: a text chunk larger
than :data:`MAX_CHUNK`, JSON nested too deep or too big, a value too long, are dropped
or truncated and a note says so.
"""

from __future__ import annotations

import logging
import struct
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, BinaryIO

from studio.media.metadata_c2pa import c2pa_summary
from studio.media.metadata_tools import (
    parse_a1111,
    parse_comfy_prompt,
    parse_comfy_workflow,
    parse_forge,
    parse_invoke,
    parse_invoke_legacy,
    recipe_from_xmp,
    split_params,
)
from studio.media.metadata_values import (
    AV_KEY,
    FORGE_KEY,
    MAX_CHUNK,
    MAX_CHUNKS,
    PNG_SIGNATURE,
    VORBIS_KEY,
    XMP_KEY,
    GenerationInfo,
    Notes,
    kept_raw,
    read_json,
)
from studio.media.structure import (
    META_CHUNK_MAX,
    META_TOTAL_MAX,
    Hidden,
    Patches,
    metadata_cuts,
    pillow_view,
)

__all__ = [
    "AV_KEY",
    "FORGE_KEY",
    "PNG_SIGNATURE",
    "VORBIS_KEY",
    "XMP_KEY",
    "GenerationInfo",
    "has_c2pa",
    "png_text_chunks",
    "read_container_recipe",
    "read_generation_info",
    "split_params",
]

log = logging.getLogger(__name__)

# --------------------------------------------------------------------------- containers


def png_text_chunks(f: BinaryIO, notes: Notes) -> tuple[dict[str, str], bool]:
    """The text chunks (tEXt, zTXt, iTXt) of a PNG, read chunk by chunk (never the whole
    file), and whether it carries a C2PA manifest (``caBX``)."""
    out: dict[str, str] = {}
    c2pa = False
    if f.read(8) != PNG_SIGNATURE:
        return out, c2pa
    for _ in range(MAX_CHUNKS):
        head = f.read(8)
        if len(head) < 8:
            break
        length, kind = struct.unpack(">I4s", head)
        if kind == b"IEND":
            break
        if kind == b"caBX":
            c2pa = True
        if kind not in (b"tEXt", b"zTXt", b"iTXt"):
            f.seek(length + 4, 1)
            continue
        if length > MAX_CHUNK:
            key = f.read(80).split(b"\x00", 1)[0].decode("latin-1", "replace")
            notes.add(f"the {key!r} text chunk was {length // 2**20} MiB; dropped")
            f.seek(length - 80 + 4, 1)
            continue
        data = f.read(length)
        f.seek(4, 1)
        try:
            key, text = _png_text(kind, data)
        except (ValueError, zlib.error, UnicodeDecodeError) as exc:
            notes.add(f"a {kind.decode()} chunk could not be read ({str(exc)[:60]}); dropped")
            continue
        if text is None:
            notes.add(
                f"the {key!r} text chunk inflates to more than {MAX_CHUNK // 2**20} MiB; dropped"
            )
            continue
        out.setdefault(key, text)
    return out, c2pa


def _inflate(data: bytes) -> bytes | None:
    d = zlib.decompressobj()
    out = d.decompress(data, MAX_CHUNK + 1)
    return None if len(out) > MAX_CHUNK or d.unconsumed_tail else out


def _png_text(kind: bytes, data: bytes) -> tuple[str, str | None]:
    key_raw, _, rest = data.partition(b"\x00")
    key = key_raw.decode("latin-1")
    if kind == b"tEXt":
        return key, rest.decode("latin-1")
    if kind == b"zTXt":
        raw = _inflate(rest[1:])
        return key, None if raw is None else raw.decode("latin-1")
    compressed, _method = rest[0], rest[1]
    _lang, _, rest = rest[2:].partition(b"\x00")
    _tkey, _, text = rest.partition(b"\x00")
    if compressed:
        raw = _inflate(text)
        if raw is None:
            return key, None
        text = raw
    return key, text.decode("utf-8")


def _user_comment(raw: bytes | str) -> str:
    """EXIF UserComment: an 8-byte charset code, then the text."""
    if isinstance(raw, str):
        return raw
    code, body = raw[:8], raw[8:]
    if code.startswith(b"UNICODE"):  # UTF-16; writers disagree on the byte order
        be, le = body.decode("utf-16-be", "replace"), body.decode("utf-16-le", "replace")
        ascii_be = sum(ch.isascii() for ch in be[:200])
        ascii_le = sum(ch.isascii() for ch in le[:200])
        return (be if ascii_be >= ascii_le else le).rstrip("\x00")
    if code.startswith(b"ASCII") or code == b"\x00" * 8:
        return body.decode("latin-1").rstrip("\x00")
    return raw.decode("utf-8", "replace").rstrip("\x00")


def _c2pa_in_jpeg(f: BinaryIO) -> bool:
    """An APP11 segment holding a JUMBF box labelled ``c2pa``."""
    f.seek(0)
    if f.read(2) != b"\xff\xd8":
        return False
    for _ in range(1000):
        marker = f.read(2)
        if len(marker) < 2 or marker[0] != 0xFF or marker[1] in (0xDA, 0xD9):
            return False
        size = struct.unpack(">H", f.read(2) or b"\x00\x02")[0]
        if marker[1] == 0xEB:
            body = f.read(min(size - 2, 64))
            if b"jumb" in body or b"c2pa" in body:
                return True
            f.seek(size - 2 - len(body), 1)
        else:
            f.seek(size - 2, 1)
    return False


def _c2pa_in_riff(f: BinaryIO) -> bool:
    f.seek(12)
    for _ in range(1000):
        head = f.read(8)
        if len(head) < 8:
            return False
        kind, size = head[:4], struct.unpack("<I", head[4:])[0]
        if kind == b"C2PA":
            return True
        f.seek(size + (size & 1), 1)
    return False


_EXTS = {"image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif", "image/tiff": "tiff"}


def _cuts(f: BinaryIO, mime: str, notes: Notes) -> tuple[Hidden, Patches]:
    """The metadata too large to read (see :func:`studio.media.structure.check_image`),
    with a note of what is dropped."""
    hidden, patches = metadata_cuts(f, _EXTS[mime])
    dropped = sum(n for _at, n in hidden)
    if hidden or patches:
        what = (
            f"{dropped / 2**20:.1f} MiB" if dropped else "a value too large to read, or cut short"
        )
        notes.add(
            f"the file's metadata is over the safety limit ({META_CHUNK_MAX // 2**20} MiB "
            f"a piece, {META_TOTAL_MAX // 2**20} MiB in all): {what} dropped; the file is "
            "kept as it came"
        )
    return hidden, patches


def _image_texts(path: Path, mime: str, notes: Notes) -> tuple[dict[str, str], bool]:
    """Key → text of every place a tool may have written its metadata."""
    texts: dict[str, str] = {}
    from PIL import Image

    with open(path, "rb") as f:
        if mime == "image/png":
            return png_text_chunks(f, notes)
        c2pa = (
            _c2pa_in_jpeg(f) if mime == "image/jpeg" else mime == "image/webp" and _c2pa_in_riff(f)
        )
        hidden, patches = _cuts(f, mime, notes)
        with Image.open(pillow_view(f, hidden, patches), formats=["JPEG", "WEBP"]) as im:
            _pillow_texts(im, texts, notes)
    return texts, bool(c2pa)


def _pillow_texts(im: Any, texts: dict[str, str], notes: Notes) -> None:
    """The texts Pillow found in a JPEG or WebP (XMP, EXIF, COM segment)."""
    xmp = im.info.get("xmp")
    if isinstance(xmp, bytes | str) and len(xmp) > MAX_CHUNK:
        notes.add(f"the XMP packet was {len(xmp) // 2**20} MiB; dropped")
    elif isinstance(xmp, bytes | str):
        texts[XMP_KEY] = xmp.decode("utf-8", "replace") if isinstance(xmp, bytes) else xmp
    exif = im.getexif()
    comment = exif.get_ifd(0x8769).get(0x9286)
    if isinstance(comment, bytes | str) and comment:
        texts["parameters"] = _user_comment(comment)
    description = exif.get(0x010E)
    if isinstance(description, str) and description and "parameters" not in texts:
        texts["ImageDescription"] = description
    comment_segment = im.info.get("comment")
    if isinstance(comment_segment, bytes) and "parameters" not in texts:
        texts["parameters"] = comment_segment.decode("utf-8", "replace")


# --------------------------------------------------------------------------- entry


def _pick(texts: Mapping[str, str], notes: Notes) -> GenerationInfo | None:
    if FORGE_KEY in texts:
        found = parse_forge(texts[FORGE_KEY], notes)
        if found:
            return found
    if XMP_KEY in texts:
        inner = recipe_from_xmp(texts[XMP_KEY])
        found = parse_forge(inner, notes) if inner else None
        if found:
            return found
    if "invokeai_metadata" in texts:
        found = parse_invoke(
            read_json(texts["invokeai_metadata"], "invokeai_metadata", notes), notes
        )
        if found:
            raw = {
                k: kept_raw(read_json(texts[k], k, notes), k, notes)
                for k in ("invokeai_graph", "invokeai_workflow")
                if k in texts
            }
            return _with(found, {"invokeai": {k: v for k, v in raw.items() if v is not None}})
    if "prompt" in texts or "workflow" in texts:
        graph = (
            read_json(texts["prompt"], "the ComfyUI prompt", notes) if "prompt" in texts else None
        )
        flow = (
            read_json(texts["workflow"], "the ComfyUI workflow", notes)
            if "workflow" in texts
            else None
        )
        found = parse_comfy_prompt(graph, notes) or parse_comfy_workflow(flow, notes)
        if found:
            raw = {"prompt": kept_raw(graph, "the ComfyUI prompt", notes)} if graph else {}
            if flow is not None:
                raw["workflow"] = kept_raw(flow, "the ComfyUI workflow", notes)
            return _with(found, {"comfyui": {k: v for k, v in raw.items() if v is not None}})
    if "sd-metadata" in texts:
        found = parse_invoke_legacy(read_json(texts["sd-metadata"], "sd-metadata", notes), notes)
        if found:
            return found
    for key in ("parameters", "Parameters", "ImageDescription", "Comment"):
        if key in texts:
            found = parse_a1111(texts[key], notes)
            if found:
                return found
    return None


def _with(info: GenerationInfo, provenance: Mapping[str, Any]) -> GenerationInfo:
    return GenerationInfo(
        info.source_tool,
        info.prompt,
        info.negative_prompt,
        info.parameters,
        {**info.provenance, **{k: v for k, v in provenance.items() if v}},
        info.notes,
        info.c2pa,
    )


def read_generation_info(path: Path, mime: str) -> GenerationInfo | None:
    """What ``path`` (a probed file of type ``mime``) says about how it was made, or None
    when it says nothing. Never raises: an unreadable part becomes a note."""
    notes = Notes()
    c2pa = False
    found: GenerationInfo | None = None
    try:
        if mime in ("image/png", "image/jpeg", "image/webp"):
            texts, c2pa = _image_texts(path, mime, notes)
            found = _pick(texts, notes)
        elif mime in _EXTS:  # GIF, TIFF: no tool metadata read, but what is dropped is said
            with open(path, "rb") as f:
                _cuts(f, mime, notes)
        elif mime.startswith(("audio/", "video/")):
            text = read_container_recipe(path, mime)
            found = parse_forge(text, notes) if text else None
    except RecursionError:
        notes.add("the metadata was nested too deep to read; dropped")
    except Exception as exc:  # a hostile file must cost its metadata, never the import
        log.debug("reading metadata of %s failed", path, exc_info=True)
        notes.add(f"the file's metadata could not be read ({type(exc).__name__}); dropped")
    if found is None and not notes.items and not c2pa:
        return None
    base = found or GenerationInfo()
    return GenerationInfo(
        base.source_tool,
        base.prompt,
        base.negative_prompt,
        base.parameters,
        base.provenance,
        tuple(notes.items),
        c2pa,
        c2pa_summary(path, mime) if c2pa else "",
    )


def has_c2pa(path: Path, mime: str) -> bool:
    """Whether the image at ``path`` carries a C2PA manifest (PNG ``caBX``, JPEG APP11
    JUMBF, WebP ``C2PA`` chunk). False when it cannot be read."""
    try:
        with open(path, "rb") as f:
            if mime == "image/png":
                return png_text_chunks(f, Notes())[1]
            if mime == "image/jpeg":
                return _c2pa_in_jpeg(f)
            if mime == "image/webp":
                return _c2pa_in_riff(f)
    except (OSError, struct.error, ValueError):
        return False
    return False


def read_container_recipe(path: Path, mime: str) -> str | None:
    """The recipe an exported audio or video file carries, or None."""
    if mime.startswith("video/"):
        import av

        with av.open(str(path)) as c:  # Matroska upper-cases tag names
            value = c.metadata.get(AV_KEY) or c.metadata.get(AV_KEY.upper())
            return value if isinstance(value, str) else None
    import mutagen

    f = mutagen.File(path)
    if f is None or f.tags is None:
        return None
    tags = f.tags
    for key in (
        f"TXXX:{FORGE_KEY}",
        "----:com.forge-studio:recipe",
        VORBIS_KEY,
        VORBIS_KEY.lower(),
    ):
        try:
            value = tags[key]
        except (KeyError, ValueError, TypeError):
            continue
        if hasattr(value, "text"):
            value = value.text
        if isinstance(value, list) and value:
            value = value[0]
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if isinstance(value, str):
            return value
    return None
