"""Decide what a file is from its bytes (never from its name)."""

from __future__ import annotations

import errno
import io
import os
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from studio.media.kinds import (
    ACCEPTED_FORMATS_TEXT,
    AUDIO_FORMATS,
    IMAGE_FORMATS,
    MIME_BY_EXT,
    MediaError,
    MediaKind,
)
from studio.media.structure import META_TOTAL_MAX

__all__ = ["IsoBmff", "open_media", "read_isobmff", "sniff", "sniff_file"]

_HEAD = 4096
_MAX_ID3_TAGS = 64
_ISO_AUDIO_BRANDS = {b"M4A ", b"M4B ", b"M4P ", b"F4A ", b"F4B "}
_ISO_MOV_BRANDS = {b"qt  "}
_ISO_NOT_OURS = {
    b"heic": "a HEIC photo",
    b"heix": "a HEIC photo",
    b"heim": "a HEIC photo",
    b"heis": "a HEIC photo",
    b"hevc": "a HEIF image sequence",
    b"mif1": "a HEIF image",
    b"msf1": "a HEIF image sequence",
    b"avif": "an AVIF image",
    b"avis": "an AVIF image sequence",
    b"crx ": "a Canon RAW photo",
    b"jp2 ": "a JPEG 2000 image",
}
_ISO_TOP_LEVEL = {b"ftyp", b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot", b"uuid"}
# Boxes that may legitimately sit at the top level; an overflowing box of another
# type is trailing junk, not truncation.
_ISO_KNOWN_TOP = _ISO_TOP_LEVEL | {
    b"moof",
    b"mfra",
    b"udta",
    b"meta",
    b"sidx",
    b"styp",
    b"emsg",
    b"pdin",
    b"prft",
    b"ssix",
}

# Things people drop by mistake, for a helpful message.
_NOT_MEDIA: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "a PDF document"),
    (b"PK\x03\x04", "a ZIP archive or an Office document"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"7z\xbc\xaf\x27\x1c", "a 7-Zip archive"),
    (b"Rar!\x1a\x07", "a RAR archive"),
    (b"\x7fELF", "a program"),
    (b"MZ", "a Windows program"),
    (b"SQLite format 3\x00", "an SQLite database"),
)
# Media (or media-ish) formats we recognise but do not take.
_REFUSED: tuple[tuple[bytes, str], ...] = (
    (b"8BPS", "a Photoshop document"),
    (b"MThd", "a MIDI file"),
    (b"#!AMR", "an AMR voice recording"),
    (b"\x30\x26\xb2\x75\x8e\x66\xcf\x11", "a Windows Media file"),
    (b"\x00\x00\x00\x0cjP  \r\n\x87\n", "a JPEG 2000 image"),
    (b"\xffO\xffQ", "a JPEG 2000 image"),
    (b"\x00\x00\x01\x00", "an icon file"),
)


def _unsupported(what: str) -> MediaError:
    return MediaError(
        "unsupported", f"it is not an image, audio or video file we can read (looks like {what})"
    )


def _refused(what: str) -> MediaError:
    return MediaError(
        "unsupported", f"it is {what}, which we can't import (we take {ACCEPTED_FORMATS_TEXT})"
    )


def unreadable(exc: OSError, path: Path) -> MediaError:
    """Turn an OSError from opening/reading ``path`` into a readable MediaError."""
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        msg = "it is a folder, not a file"
    elif isinstance(exc, FileNotFoundError):
        msg = "the file does not exist (it may have been moved or deleted)"
    elif isinstance(exc, PermissionError):
        msg = "we are not allowed to read the file (permission denied)"
    else:
        reason = (exc.strerror or type(exc).__name__).rstrip(".").lower()
        msg = f"the file could not be read ({reason})"
    return MediaError("unreadable", msg)


def open_media(path: Path) -> io.BufferedReader:
    """Open a regular file for reading; every OS failure becomes MediaError('unreadable').

    The file is opened once, without blocking (a FIFO would otherwise wait for a
    writer forever), and the *opened* descriptor is checked to be a regular file, so
    a path swapped for a pipe or device after an earlier look is refused, not read.
    A symlink the user chose is followed; what it points at must be a regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    flags |= getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise unreadable(exc, path) from exc
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
        if not stat.S_ISREG(mode):  # a FIFO would block, a device would never end
            raise MediaError("unreadable", "it is not a regular file (a device, pipe or socket)")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except OSError as exc:
        os.close(fd)
        raise unreadable(exc, path) from exc
    except BaseException:
        os.close(fd)
        raise


def sniff(path: Path) -> tuple[MediaKind, str, str]:
    """Return ``(kind, mime, ext)`` decided by content.

    Raises MediaError ``unreadable`` (missing, folder, permission), ``empty`` or
    ``unsupported`` (with what the file looks like, when we can tell).
    """
    with open_media(path) as f:
        return sniff_file(f, path)


def sniff_file(f: BinaryIO, path: Path) -> tuple[MediaKind, str, str]:
    """:func:`sniff` on an open file (read from its start; ``path`` only names it)."""
    try:
        f.seek(0)
        head = f.read(_HEAD)
        if not head:
            raise MediaError("empty", "the file is empty")
        ext = _sniff_open_file(f, head)
    except OSError as exc:
        raise unreadable(exc, path) from exc
    return _kind_of(ext), MIME_BY_EXT[ext], ext


def _kind_of(ext: str) -> MediaKind:
    if ext in IMAGE_FORMATS:
        return MediaKind.IMAGE
    if ext in AUDIO_FORMATS:
        return MediaKind.AUDIO
    return MediaKind.VIDEO


def _sniff_open_file(f: BinaryIO, head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if head[:4] in (b"RIFF", b"RF64", b"BW64") and len(head) >= 12:
        form = head[8:12]
        if form == b"WEBP" and head[:4] == b"RIFF":
            return "webp"
        if form == b"WAVE":
            return "wav"
        if form == b"AVI ":
            raise _refused("an AVI video")
        raise _unsupported("a RIFF file of an unknown kind")
    if head.startswith(b"BM") and len(head) >= 18:
        (dib_size,) = struct.unpack_from("<I", head, 14)
        if dib_size in (12, 16, 40, 52, 56, 64, 108, 124):
            return "bmp"
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        if head[8:10] == b"CR":
            raise _refused("a Canon RAW photo")
        return "tiff"
    if head.startswith(b"fLaC"):
        return "flac"
    if head.startswith(b"OggS"):
        return _sniff_ogg(head)
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return _sniff_ebml(head)
    if head.startswith(b"FORM") and head[8:12] in (b"AIFF", b"AIFC"):
        raise _refused("an AIFF audio file")
    if head[4:8] in _ISO_TOP_LEVEL:
        ext = _sniff_isobmff(f)
        if ext:
            return ext
    if head.startswith(b"ID3") or _is_mpeg_audio(head, 0):
        return _sniff_id3_or_mp3(f, head)
    if head[:2] == b"\xff\xf1" or head[:2] == b"\xff\xf9":
        raise _refused("a raw AAC stream")
    for magic, what in _NOT_MEDIA:
        if head.startswith(magic):
            raise _unsupported(what)
    for magic, what in _REFUSED:
        if head.startswith(magic):
            raise _refused(what)
    text = _describe_text(head)
    if text == "svg":
        raise _refused("an SVG drawing")
    raise _unsupported(text or "data of an unknown kind")


# --------------------------------------------------------------------------- text


def _describe_text(head: bytes) -> str | None:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return "text"
    if b"\x00" in head:
        return None
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # A multi-byte character may be cut at the end of our sample.
        if exc.start < len(head) - 4:
            return None
        text = head[: exc.start].decode("utf-8")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n\f")
    if controls > len(text) // 50:
        return None
    low = text.lstrip().lower()
    if low.startswith("<svg") or (low.startswith("<?xml") and "<svg" in low):
        return "svg"
    if low.startswith(("<!doctype html", "<html")):
        return "a web page (HTML)"
    return "text"


# --------------------------------------------------------------------------- audio


_MPEG_BITRATES_L3 = {
    3: (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320),  # MPEG-1
    2: (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160),  # MPEG-2
}
_MPEG_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


def _mpeg_frame_len(buf: bytes, pos: int) -> int:
    """Length of the MPEG layer III frame starting at ``pos``, or 0 if none."""
    if pos + 4 > len(buf) or buf[pos] != 0xFF or (buf[pos + 1] & 0xE0) != 0xE0:
        return 0
    version = (buf[pos + 1] >> 3) & 3
    layer = (buf[pos + 1] >> 1) & 3
    bitrate_idx = buf[pos + 2] >> 4
    rate_idx = (buf[pos + 2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_idx in (0, 15) or rate_idx == 3:
        return 0
    padding = (buf[pos + 2] >> 1) & 1
    kbps = _MPEG_BITRATES_L3[3 if version == 3 else 2][bitrate_idx]
    rate = _MPEG_RATES[version][rate_idx]
    coeff = 144 if version == 3 else 72
    return coeff * kbps * 1000 // rate + padding


def _is_mpeg_audio(buf: bytes, pos: int) -> bool:
    """A layer III frame header at ``pos``, confirmed by the next frame when in view."""
    n = _mpeg_frame_len(buf, pos)
    if not n:
        return False
    if pos + n + 4 <= len(buf):
        return _mpeg_frame_len(buf, pos + n) > 0
    return True


def _sniff_id3_or_mp3(f: BinaryIO, head: bytes) -> str:
    offset = 0
    buf = head
    tags = 0
    while buf.startswith(b"ID3") and len(buf) >= 10:
        tags += 1
        if tags > _MAX_ID3_TAGS or offset > META_TOTAL_MAX:
            raise MediaError(
                "bomb",
                f"the file carries more than {_MAX_ID3_TAGS} tags or "
                f"{META_TOTAL_MAX // 1024**2} MiB of tags, over the safety limit",
            )
        size = (buf[6] << 21) | (buf[7] << 14) | (buf[8] << 7) | buf[9]
        offset += 10 + size + (10 if buf[5] & 0x10 else 0)
        f.seek(offset)
        buf = f.read(_HEAD)
    if offset > META_TOTAL_MAX:  # FFmpeg reads tags (cover art…) whole into memory
        raise MediaError(
            "bomb",
            f"the file carries {offset // 1024**2} MiB of tags, over the "
            f"{META_TOTAL_MAX // 1024**2} MiB safety limit",
        )
    # Some taggers pad with zeros after the tag.
    stripped = buf.lstrip(b"\x00")
    if stripped.startswith(b"fLaC"):
        return "flac"
    if _is_mpeg_audio(stripped, 0):
        return "mp3"
    if offset and buf:
        sync = stripped.find(b"\xff")
        if 0 <= sync < 512 and _is_mpeg_audio(stripped, sync):
            return "mp3"
    if offset:
        raise _unsupported("a tagged file without MP3 audio")
    raise _unsupported("data of an unknown kind")


def _sniff_ogg(head: bytes) -> str:
    if len(head) < 27:
        raise _unsupported("a damaged Ogg file")
    nseg = head[26]
    packet = head[27 + nseg : 27 + nseg + 16]
    if packet.startswith((b"\x01vorbis", b"OpusHead")):
        return "ogg"
    if packet.startswith(b"\x80theora"):
        raise _refused("an Ogg Theora video")
    if packet.startswith(b"\x7fFLAC"):
        raise _refused("FLAC inside Ogg (use plain .flac)")
    if packet.startswith(b"Speex"):
        raise _refused("an Ogg Speex recording")
    raise _refused("an Ogg file with an unknown codec")


# --------------------------------------------------------------------------- video


def _sniff_ebml(head: bytes) -> str:
    pos = head.find(b"\x42\x82", 4, 64)
    if pos < 0 or pos + 3 > len(head):
        raise _unsupported("a damaged Matroska/WebM file")
    length = head[pos + 2] & 0x7F if head[pos + 2] & 0x80 else 0
    doctype = head[pos + 3 : pos + 3 + length]
    if doctype == b"webm":
        return "webm"
    if doctype == b"matroska":
        raise _refused("a Matroska (MKV) video")
    raise _unsupported("a Matroska-family file of an unknown kind")


@dataclass(slots=True)
class IsoBmff:
    """What a walk over an ISO base media file (MP4/MOV/M4A) found."""

    major: bytes = b""
    brands: set[bytes] = field(default_factory=set)
    handlers: set[bytes] = field(default_factory=set)
    has_moov: bool = False
    truncated: bool = False
    boxes: int = 0
    meta_bytes: int = 0  # moov, moof and other non-media boxes: what demuxers index


def read_isobmff(f: BinaryIO, max_moov: int = 64 * 1024**2) -> IsoBmff:
    """Walk the top-level boxes; look into ``moov`` for track handler types."""
    f.seek(0, os.SEEK_END)
    end = f.tell()
    info = IsoBmff()
    pos = 0
    while pos + 8 <= end and info.boxes < 10_000:
        f.seek(pos)
        header = f.read(16)
        size, kind = struct.unpack_from(">I4s", header)
        hdr = 8
        if size == 1 and len(header) >= 16:
            (size,) = struct.unpack_from(">Q", header, 8)
            hdr = 16
        elif size == 0:
            size = end - pos
        if size < hdr:
            info.truncated = kind in _ISO_KNOWN_TOP  # nonsense size: damage, or junk
            break
        info.boxes += 1
        if kind in _ISO_KNOWN_TOP and kind not in (b"mdat", b"free", b"skip", b"wide"):
            info.meta_bytes += min(size, end - pos)
        if pos + size > end:
            info.truncated = kind in _ISO_KNOWN_TOP
            if not info.truncated:
                break
        if kind == b"ftyp":
            f.seek(pos + hdr)
            body = f.read(min(size - hdr, 256))
            info.major = body[:4]
            info.brands = {body[i : i + 4] for i in range(8, len(body) - 3, 4)} | {body[:4]}
        elif kind == b"moov" and size - hdr <= max_moov:
            info.has_moov = True
            f.seek(pos + hdr)
            _walk_moov(f.read(size - hdr), info)
        pos += size
    return info


def _walk_moov(data: bytes, info: IsoBmff) -> None:
    """Collect ``hdlr`` handler types of moov/trak/mdia."""
    stack = [(0, len(data), 0)]
    while stack:
        pos, end, depth = stack.pop()
        while pos + 8 <= end:
            size, kind = struct.unpack_from(">I4s", data, pos)
            if size < 8 or pos + size > end:
                break
            if kind in (b"trak", b"mdia") and depth < 3:
                stack.append((pos + 8, pos + size, depth + 1))
            elif kind == b"hdlr" and size >= 20:
                info.handlers.add(data[pos + 16 : pos + 20])
            pos += size


def _sniff_isobmff(f: BinaryIO) -> str | None:
    info = read_isobmff(f)
    if not info.major and not info.has_moov:
        return None  # e.g. random bytes that happened to say "free"
    for brand in (info.major, *sorted(info.brands)):
        if brand in _ISO_NOT_OURS and b"vide" not in info.handlers:
            raise _refused(_ISO_NOT_OURS[brand])
    is_qt = info.major in _ISO_MOV_BRANDS or (not info.major and info.has_moov)
    if b"vide" in info.handlers:
        return "mov" if is_qt else "mp4"
    if b"soun" in info.handlers:
        return "m4a"
    if info.major in _ISO_AUDIO_BRANDS:
        return "m4a"
    # No readable moov yet (it may be missing or damaged): trust the brand;
    # probe() will find out whether it really decodes.
    return "mov" if is_qt else "mp4"
