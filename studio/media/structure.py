"""Cheap structural checks of image files, without decoding pixels.

A full decode of a 4096² JPEG costs ~100 ms; walking its markers costs a few.
These walks prove the file is complete (a truncated PNG or JPEG is caught) and
read what Pillow only learns by decoding every frame (animation durations).
Pixel-level damage inside complete files is caught later, by the decode that
``render_previews`` does anyway.
"""

from __future__ import annotations

import contextlib
import mmap
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

from studio.media.kinds import MediaError

__all__ = [
    "PngFacts",
    "check_jpeg",
    "check_png",
    "gif_duration_ms",
    "mapped",
    "webp_duration_ms",
    "webp_is_truncated",
]

_READ = 1024 * 1024

Buffer: TypeAlias = "bytes | mmap.mmap"


@contextlib.contextmanager
def mapped(f: BinaryIO) -> Iterator[Buffer]:
    """The whole file as a read-only buffer (memory-mapped where possible)."""
    try:
        data: Buffer = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except (OSError, ValueError, AttributeError):
        f.seek(0)
        data = f.read()
    try:
        yield data
    finally:
        if isinstance(data, mmap.mmap):
            data.close()


def _corrupt(what: str = "image") -> MediaError:
    return MediaError("corrupt", f"the {what} is truncated or corrupt")


@dataclass(frozen=True, slots=True)
class PngFacts:
    duration_ms: int | None  # set for animated PNG (APNG) with more than one frame
    exif: bytes | None  # the eXIf chunk, if any


def check_png(f: BinaryIO) -> PngFacts:
    """Walk every chunk, checking lengths and CRCs, up to IEND."""
    f.seek(8)
    frames = 0
    duration = 0
    exif: bytes | None = None
    first = True
    while True:
        header = f.read(8)
        if len(header) < 8:
            raise _corrupt()
        length, ctype = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not ctype.isalpha() or (first and ctype != b"IHDR"):
            raise _corrupt()
        first = False
        crc = zlib.crc32(ctype)
        keep = ctype in (b"fcTL", b"eXIf", b"acTL")
        kept = b""
        remaining = length
        while remaining:
            block = f.read(min(remaining, _READ))
            if not block:
                raise _corrupt()
            crc = zlib.crc32(block, crc)
            if keep:
                kept += block
            remaining -= len(block)
        stored = f.read(4)
        if len(stored) < 4:
            raise _corrupt()
        critical = not (ctype[0] & 0x20)
        if critical and struct.unpack(">I", stored)[0] != crc:
            raise _corrupt()
        if ctype == b"fcTL" and len(kept) >= 26:
            num, den = struct.unpack_from(">HH", kept, 20)
            duration += round(1000 * num / (den or 100))
            frames += 1
        elif ctype == b"eXIf":
            exif = kept
        elif ctype == b"IEND":
            break
    return PngFacts(duration if frames > 1 else None, exif)


# A marker that ends entropy-coded data: FF followed by anything but a stuffed
# 00, a restart marker (D0-D7) or another FF (fill byte).
_JPEG_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def check_jpeg(f: BinaryIO) -> None:
    """Walk segments and scans from SOI to EOI; raise 'corrupt' if the file is cut short."""
    with mapped(f) as data:
        _walk_jpeg(data)


def _walk_jpeg(data: Buffer) -> None:
    end = len(data)
    pos = 2
    seen_sof = seen_sos = False
    while True:
        if pos + 2 > end:
            raise _corrupt()
        if data[pos] != 0xFF or data[pos + 1] in (0x00, 0xFF):
            # Stray bytes between segments (tolerated by libjpeg): skip to the next marker.
            m = _JPEG_MARKER.search(data, pos)
            if m is None:
                raise _corrupt()
            pos = m.start()
            continue
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI
            if not (seen_sof and seen_sos):
                raise _corrupt()
            return
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # standalone markers
            pos += 2
            continue
        if pos + 4 > end:
            raise _corrupt()
        (length,) = struct.unpack_from(">H", data, pos + 2)
        if length < 2 or pos + 2 + length > end:
            raise _corrupt()
        if marker in _SOF:
            seen_sof = True
        pos += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data follows until the next marker
            seen_sos = True
            m = _JPEG_MARKER.search(data, pos)
            if m is None:
                raise _corrupt()
            pos = m.start()


def gif_duration_ms(data: Buffer) -> int | None:
    """Sum of frame delays of an animated GIF (None for a still one).

    Delays of 0 or 1 centisecond play as 100 ms in browsers; we count them so.
    """
    if len(data) < 13:
        return None
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    frames = 0
    total = 0
    delay = 0
    end = len(data)
    while pos < end:
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21 and pos + 1 < end:  # extension
            label = data[pos + 1]
            if label == 0xF9 and pos + 8 <= end:
                delay = struct.unpack_from("<H", data, pos + 4)[0]
            pos = _skip_sub_blocks(data, pos + 2)
        elif block == 0x2C and pos + 10 <= end:  # image descriptor
            lflags = data[pos + 9]
            pos += 10
            if lflags & 0x80:
                pos += 3 << ((lflags & 7) + 1)
            pos = _skip_sub_blocks(data, pos + 1)  # +1: LZW minimum code size
            frames += 1
            total += 100 if delay <= 1 else delay * 10
            delay = 0
        else:
            break  # garbage or truncation: count what we saw
    return total if frames > 1 else None


def _skip_sub_blocks(data: Buffer, pos: int) -> int:
    end = len(data)
    while pos < end:
        n = data[pos]
        pos += 1 + n
        if n == 0:
            break
    return pos


def webp_duration_ms(data: Buffer) -> int | None:
    """Sum of ANMF frame durations of an animated WebP (None for a still one)."""
    if len(data) < 12:
        return None
    pos = 12
    frames = 0
    total = 0
    end = len(data)
    while pos + 8 <= end:
        ctype = data[pos : pos + 4]
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if ctype == b"ANMF" and pos + 8 + 16 <= end:
            total += int.from_bytes(data[pos + 8 + 12 : pos + 8 + 15], "little")
            frames += 1
        pos += 8 + size + (size & 1)
    return total if frames > 1 else None


def webp_is_truncated(f: BinaryIO, file_size: int) -> bool:
    """True if the RIFF header promises more bytes than the file holds."""
    f.seek(4)
    raw = f.read(4)
    return len(raw) < 4 or struct.unpack("<I", raw)[0] + 8 > file_size
