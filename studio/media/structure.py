"""Cheap structural checks of image files, without decoding pixels.

A full decode of a 4096² JPEG costs ~100 ms; walking its markers costs a few.
These walks prove the file is complete (a truncated PNG or JPEG is caught) and
read what Pillow only learns by decoding every frame (animation durations).
Pixel-level damage inside complete files is caught later, by the decode that
``render_previews`` does anyway.
"""

from __future__ import annotations

import bisect
import contextlib
import io
import mmap
import os
import re
import struct
import threading
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import BinaryIO, TypeAlias

from studio.media.kinds import MediaError, human_count

__all__ = [
    "META_CHUNK_MAX",
    "META_TOTAL_MAX",
    "Hidden",
    "ImageFacts",
    "Patches",
    "PngFacts",
    "check_image",
    "check_jpeg",
    "check_png",
    "gif_duration_ms",
    "mapped",
    "metadata_cuts",
    "pillow_view",
    "webp_duration_ms",
    "webp_is_truncated",
]

_READ = 1024 * 1024
# Metadata (PNG ancillary chunks, JPEG APPn/COM segments, GIF extensions before the
# first frame, WebP EXIF/XMP/ICCP, TIFF tag values) is read whole into memory by
# Pillow: one piece may be this large, and all of them together this large.
META_CHUNK_MAX = 16 * 1024**2
META_TOTAL_MAX = 64 * 1024**2
JPEG_MAX_SCANS = 512  # a progressive JPEG has ~10; every scan is a pass over the image
WEBP_MAX_BYTES = 512 * 1024**2  # Pillow hands libwebp the whole file in memory
TIFF_MAX_TAGS = 4096
# Walks are bounded in steps too: a file of millions of empty chunks or one-byte
# sub-blocks must not keep a pure-Python loop busy for minutes.
MAX_STRUCTURE_STEPS = 2_000_000

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


def _too_much_metadata() -> MediaError:
    return MediaError(
        "bomb",
        f"the image carries more than {META_CHUNK_MAX // 1024**2} MiB of metadata in one "
        f"piece or {META_TOTAL_MAX // 1024**2} MiB in all, over the safety limit",
    )


def _too_many_frames(frames: int, max_frames: int) -> MediaError:
    return MediaError(
        "bomb", f"the animation has more than {max_frames:,} frames, over the safety limit"
    )


def _canvas_bomb(width: int, height: int, max_pixels: int) -> MediaError:
    return MediaError(
        "bomb",
        f"the image is {width}\u00d7{height} pixels, "
        f"over the {human_count(max_pixels)} pixel safety limit",
    )


class _Steps:
    """Counts the steps of a structure walk; too many is a bomb."""

    def __init__(self) -> None:
        self.n = 0

    def step(self, n: int = 1) -> None:
        self.n += n
        if self.n > MAX_STRUCTURE_STEPS:
            raise MediaError(
                "bomb",
                f"the image is split into more than {MAX_STRUCTURE_STEPS:,} pieces, "
                "over the safety limit",
            )


class _Meta:
    """Running total of metadata bytes."""

    def __init__(self) -> None:
        self.total = 0

    def add(self, n: int) -> None:
        self.total += n
        if n > META_CHUNK_MAX or self.total > META_TOTAL_MAX:
            raise _too_much_metadata()

    def fits(self, n: int) -> bool:
        """Count a piece Pillow may read (True), or leave it out of the count (False)
        when it is over the limits: the caller hides it instead of refusing the file."""
        if n > META_CHUNK_MAX or self.total + n > META_TOTAL_MAX:
            return False
        self.total += n
        return True


Hidden: TypeAlias = tuple[tuple[int, int], ...]
Patches: TypeAlias = tuple[tuple[int, bytes], ...]
"""(offset in the file, bytes) that Pillow reads in place of the file's own: the RIFF
size and VP8X flags of a WebP whose chunks were hidden, the count of a TIFF tag whose
value is too large to read (made 0: Pillow skips the tag)."""


def _merged(ranges: list[tuple[int, int]]) -> Hidden:
    """Adjacent (offset, length) ranges joined: one range per run of hidden pieces."""
    out: list[tuple[int, int]] = []
    for start, length in sorted(ranges):
        if out and out[-1][0] + out[-1][1] == start:
            out[-1] = (out[-1][0], out[-1][1] + length)
        else:
            out.append((start, length))
    return tuple(out)


@dataclass(frozen=True, slots=True)
class ImageFacts:
    """What the structure walk learnt: animation length, the PNG eXIf chunk, and the
    metadata too large to hand to Pillow: byte ranges (offset, length) cut from what it
    reads, and bytes it reads patched (see :data:`Patches`)."""

    duration_ms: int | None
    exif: bytes | None
    hidden: Hidden = ()
    patches: Patches = ()


def check_image(
    f: BinaryIO, ext: str, size: int, *, max_pixels: int, max_frames: int
) -> ImageFacts:
    """Walk the file's structure before Pillow parses it (no pixel decoding).

    Refuses (MediaError) what is cut short, more frames than ``max_frames``, and
    frames or canvases larger than ``max_pixels``: every frame of an animation, not
    only the first that Pillow looks at. Metadata past the limits (PNG chunks, JPEG
    APPn/COM segments, GIF comment/application extensions, WebP EXIF/XMP/ICCP chunks,
    TIFF tag values) is not refused but hidden from Pillow (``hidden``, ``patches``).
    """
    if ext == "png":
        png = check_png(f, max_pixels=max_pixels, max_frames=max_frames)
        return ImageFacts(png.duration_ms, png.exif, png.hidden)
    if ext == "jpg":
        return ImageFacts(None, None, check_jpeg(f))
    if ext == "webp":
        if size > WEBP_MAX_BYTES:
            raise MediaError(
                "too_large",
                f"the WebP file is over the {WEBP_MAX_BYTES // 1024**2} MiB we decode",
            )
        if webp_is_truncated(f, size):
            raise _corrupt()
        with mapped(f) as data:
            duration, hidden, patches = _webp_walk(data, max_pixels, max_frames)
            return ImageFacts(duration, None, hidden, patches)
    if ext == "gif":
        with mapped(f) as data:
            duration, hidden = _gif_walk(data, max_pixels, max_frames)
            return ImageFacts(duration, None, hidden)
    if ext == "tiff":
        return ImageFacts(None, None, (), check_tiff(f, size))
    return ImageFacts(None, None)


def metadata_cuts(f: BinaryIO, ext: str) -> tuple[Hidden, Patches]:
    """What of ``f`` (a file probed before) Pillow must not read: the metadata
    :func:`check_image` hides, found again by a cheap walk (no CRCs, no pixel or
    frame limits). Raises MediaError or OSError on a file the probe would refuse."""
    if ext == "png":
        return check_png(f, verify=False).hidden, ()
    f.seek(0, io.SEEK_END)
    size = f.tell()
    f.seek(0)
    if ext == "tiff":
        return (), check_tiff(f, size)
    if ext not in ("jpg", "webp", "gif"):
        return (), ()
    if ext == "jpg":
        key = _file_key(f)
        known = _JPEG_WALKS.get(key)
        if known is not None:
            return known, ()
        with mapped(f) as data:
            hidden = _walk_jpeg(data)
        _JPEG_WALKS.put(key, hidden)
        return hidden, ()
    with mapped(f) as data:
        if ext == "gif":
            return _gif_walk(data, None, None)[1], ()
        _duration, hidden, patches = _webp_walk(data, None, None)
        return hidden, patches


@dataclass(frozen=True, slots=True)
class PngFacts:
    duration_ms: int | None  # set for animated PNG (APNG) with more than one frame
    exif: bytes | None  # the eXIf chunk, if any
    hidden: Hidden = ()  # whole chunks (offset, length) kept from Pillow: too big to read


_PNG_PIXEL_CHUNKS = (b"IDAT", b"fdAT")
# Ancillary chunks that carry pictures (APNG), never metadata: never hidden.
_PNG_NEVER_HIDDEN = (b"acTL", b"fcTL", b"fdAT")


def check_png(
    f: BinaryIO,
    *,
    max_pixels: int | None = None,
    max_frames: int | None = None,
    verify: bool = True,
) -> PngFacts:
    """Walk every chunk, checking lengths and (``verify``) CRCs, up to IEND.

    Metadata Pillow would read whole is bounded: an ancillary chunk over
    META_CHUNK_MAX, past META_TOTAL_MAX in all, or a compressed text past Pillow's
    own limits is not refused but *hidden* (``PngFacts.hidden``): its bytes are
    skipped, never read, and :func:`pillow_view` keeps it from Pillow. The file
    imports; its metadata reader notes what it dropped. A critical chunk over the
    limits is still refused. Every APNG frame (fcTL) must lie inside the canvas, and
    there may be at most ``max_frames``. ``verify=False`` skips pixel data and CRCs
    (a cheap walk of a file probed before).
    """
    f.seek(8)
    pos = 8
    frames = 0
    duration = 0
    exif: bytes | None = None
    first = True
    canvas = (0, 0)
    meta = _Meta()
    hidden: list[tuple[int, int]] = []
    text_memory = 0
    steps = _Steps()
    while True:
        steps.step()
        header = f.read(8)
        if len(header) < 8:
            raise _corrupt()
        length, ctype = struct.unpack(">I4s", header)
        if length > 0x7FFFFFFF or not ctype.isalpha() or (first and ctype != b"IHDR"):
            raise _corrupt()
        first = False
        critical = not (ctype[0] & 0x20)
        counted = ctype not in _PNG_PIXEL_CHUNKS
        hide = (
            counted
            and not critical
            and ctype not in _PNG_NEVER_HIDDEN
            and (length > META_CHUNK_MAX or meta.total + length > META_TOTAL_MAX)
        )
        if hide:
            hidden.append((pos, length + 12))
            _skip(f, length + 4)
            pos += length + 12
            continue
        if counted:
            meta.add(length)
        crc = zlib.crc32(ctype)
        keep = ctype in (b"fcTL", b"eXIf", b"acTL", b"IHDR", b"zTXt", b"iTXt")
        kept: list[bytes] = []
        if verify or keep or length <= 64:
            remaining = length
            while remaining:
                block = f.read(min(remaining, _READ))
                if not block:
                    raise _corrupt()
                crc = zlib.crc32(block, crc)
                if keep:
                    kept.append(block)
                remaining -= len(block)
            stored = f.read(4)
            if len(stored) < 4:
                raise _corrupt()
            if verify and critical and struct.unpack(">I", stored)[0] != crc:
                raise _corrupt()
        else:
            _skip(f, length + 4)
        body = b"".join(kept)
        if ctype == b"IHDR" and len(body) >= 8:
            canvas = struct.unpack_from(">II", body)
            if max_pixels is not None and canvas[0] * canvas[1] > max_pixels:
                raise _canvas_bomb(canvas[0], canvas[1], max_pixels)
        elif ctype == b"fcTL" and len(body) >= 26:
            width, height, x, y = struct.unpack_from(">IIII", body, 4)
            if x + width > canvas[0] or y + height > canvas[1]:
                raise _corrupt()  # APNG frames must lie inside the canvas
            num, den = struct.unpack_from(">HH", body, 20)
            duration += round(1000 * num / (den or 100))
            frames += 1
            if max_frames is not None and frames > max_frames:
                raise _too_many_frames(frames, max_frames)
        elif ctype == b"eXIf":
            exif = body
        elif ctype in (b"zTXt", b"iTXt"):
            unpacked = _png_text_size(ctype, body)
            if unpacked is None or text_memory + unpacked > META_TOTAL_MAX:
                hidden.append((pos, length + 12))  # Pillow would refuse the whole file
                meta.total -= length
            else:
                text_memory += unpacked
        elif ctype == b"IEND":
            break
        pos += length + 12
    return PngFacts(duration if frames > 1 else None, exif, tuple(hidden))


def _skip(f: BinaryIO, n: int) -> None:
    """Seek ``n`` bytes on, proving they are there (a cut file is corrupt)."""
    if n <= 0:
        return
    f.seek(n - 1, io.SEEK_CUR)
    if not f.read(1):
        raise _corrupt()


def _png_text_size(ctype: bytes, body: bytes) -> int | None:
    """Unpacked size of a compressed text chunk; None past the limit that Pillow's PNG
    reader enforces with an error of its own (the chunk must be hidden from it)."""
    from PIL import PngImagePlugin

    limit = PngImagePlugin.MAX_TEXT_CHUNK
    key_end = body.find(b"\0")
    if key_end < 0:
        return 0
    if ctype == b"iTXt":
        if body[key_end + 1 : key_end + 2] != b"\1":
            return len(body)  # stored uncompressed
        rest = body[key_end + 3 :]
        for _ in range(2):  # language tag, translated keyword
            rest = rest[rest.find(b"\0") + 1 :]
        packed = rest
    else:
        packed = body[key_end + 2 :]
    try:
        unpacked = len(zlib.decompressobj().decompress(packed, limit + 1))
    except zlib.error:
        return 0  # Pillow skips damaged text
    return None if unpacked > limit else unpacked


class _Without(io.RawIOBase):
    """A read-only view of a file with some byte ranges cut out and some bytes patched
    (never copied)."""

    def __init__(self, f: BinaryIO, hidden: Hidden, patches: Patches = ()) -> None:
        super().__init__()
        self._f = f
        self._patches = patches
        f.seek(0, io.SEEK_END)
        size = f.tell()
        # (start in the view, start in the file, length) of every piece that is kept
        self._pieces: list[tuple[int, int, int]] = []
        view = real = 0
        for start, length in sorted(hidden):
            if start > real:
                self._pieces.append((view, real, start - real))
                view += start - real
            real = max(real, start + length)
        if size > real:
            self._pieces.append((view, real, size - real))
            view += size - real
        self._starts = [p[0] for p in self._pieces]
        self._size = view
        self._pos = 0

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self._size}[whence]
        if base + offset < 0:
            raise OSError("negative seek position")
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._pos >= self._size or not len(buffer):
            return 0
        i = bisect.bisect_right(self._starts, self._pos) - 1
        view, real, length = self._pieces[i]
        into = self._pos - view
        n = min(len(buffer), length - into)
        self._f.seek(real + into)
        data = self._f.read(n)
        buffer[: len(data)] = data
        start = real + into
        for at, new in self._patches:  # a handful at most
            lo, hi = max(at, start), min(at + len(new), start + len(data))
            if lo < hi:
                buffer[lo - start : hi - start] = new[lo - at : hi - at]
        self._pos += len(data)
        return len(data)


def pillow_view(f: BinaryIO, hidden: Hidden, patches: Patches = ()) -> BinaryIO:
    """``f`` as Pillow may read it: without the ``hidden`` ranges (oversized metadata
    the structure walk found) and with the ``patches`` applied, from the start. ``f``
    itself when there is nothing to hide."""
    f.seek(0)
    if not hidden and not patches:
        return f
    return io.BufferedReader(_Without(f, hidden, patches), _READ)


# A marker that ends entropy-coded data: FF followed by anything but a stuffed
# 00, a restart marker (D0-D7) or another FF (fill byte).
_JPEG_MARKER = re.compile(rb"\xff[\x01-\xcf\xd8-\xfe]")
_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def check_jpeg(f: BinaryIO) -> Hidden:
    """Walk segments and scans from SOI to EOI; raise 'corrupt' if the file is cut short.
    Returns the metadata segments past :data:`META_TOTAL_MAX` (to hide from Pillow)."""
    key = _file_key(f)
    with mapped(f) as data:
        hidden = _walk_jpeg(data)
    _JPEG_WALKS.put(key, hidden)
    return hidden


def _file_key(f: BinaryIO) -> tuple[int, ...] | None:
    """Which file, at which version, ``f`` is (None: not a file on disk)."""
    try:
        st = os.fstat(f.fileno())
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return None
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


class _Walks:
    """The last few JPEG walks by file version: an import walks one file for its probe,
    its thumbnail and its metadata (each walk scans the whole file for markers, ~1 ms
    per MB); a file changed since (size, mtime or ctime) is walked again."""

    SIZE = 16

    def __init__(self) -> None:
        self._walks: dict[tuple[int, ...], Hidden] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[int, ...] | None) -> Hidden | None:
        if key is None:
            return None
        with self._lock:
            return self._walks.get(key)

    def put(self, key: tuple[int, ...] | None, hidden: Hidden) -> None:
        if key is None:
            return
        with self._lock:
            self._walks.pop(key, None)
            self._walks[key] = hidden
            while len(self._walks) > self.SIZE:
                del self._walks[next(iter(self._walks))]


_JPEG_WALKS = _Walks()


def _walk_jpeg(data: Buffer) -> Hidden:
    end = len(data)
    pos = 2
    seen_sof = seen_sos = False
    meta = _Meta()
    hidden: list[tuple[int, int]] = []
    scans = 0
    steps = _Steps()
    while True:
        steps.step()
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
            return _merged(hidden)
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
        elif (0xE0 <= marker <= 0xEF or marker == 0xFE) and not meta.fits(length):
            hidden.append((pos, 2 + length))  # APPn, COM: Pillow keeps every one
        pos += 2 + length
        if marker == 0xDA:  # SOS: entropy-coded data follows until the next marker
            seen_sos = True
            scans += 1
            if scans > JPEG_MAX_SCANS:
                raise MediaError(
                    "bomb",
                    f"the JPEG has more than {JPEG_MAX_SCANS} scans, over the safety limit",
                )
            m = _JPEG_MARKER.search(data, pos)
            if m is None:
                raise _corrupt()
            pos = m.start()


def gif_duration_ms(data: Buffer) -> int | None:
    """Sum of frame delays of an animated GIF (None for a still one).

    Delays of 0 or 1 centisecond play as 100 ms in browsers; we count them so.
    """
    return _gif_walk(data, None, None)[0]


_GIF_META_LABELS = (0x01, 0xFE, 0xFF)  # plain text, comment, application


def _gif_walk(
    data: Buffer, max_pixels: int | None, max_frames: int | None
) -> tuple[int | None, Hidden]:
    """Walk every block: frame delays, the canvas every frame needs (Pillow grows the
    canvas to hold a frame that sticks out of the logical screen), and the metadata
    extensions past the limits (whole blocks, to hide from Pillow)."""
    if len(data) < 13:
        return None, ()
    width, height = struct.unpack_from("<HH", data, 6)
    pos = 13
    flags = data[10]
    if flags & 0x80:
        pos += 3 << ((flags & 7) + 1)
    frames = 0
    total = 0
    delay = 0
    end = len(data)
    meta = _Meta()
    hidden: list[tuple[int, int]] = []
    steps = _Steps()
    while pos < end:
        steps.step()
        block = data[pos]
        if block == 0x3B:  # trailer
            break
        if block == 0x21 and pos + 1 < end:  # extension
            label = data[pos + 1]
            if label == 0xF9 and pos + 8 <= end:
                delay = struct.unpack_from("<H", data, pos + 4)[0]
            start = pos
            pos, nbytes = _skip_sub_blocks(data, pos + 2, steps)
            if label in _GIF_META_LABELS and not meta.fits(nbytes):
                hidden.append((start, min(pos, end) - start))
        elif block == 0x2C and pos + 10 <= end:  # image descriptor
            x, y, w, h = struct.unpack_from("<HHHH", data, pos + 1)
            width, height = max(width, x + w), max(height, y + h)
            if max_pixels is not None and width * height > max_pixels:
                raise _canvas_bomb(width, height, max_pixels)
            lflags = data[pos + 9]
            pos += 10
            if lflags & 0x80:
                pos += 3 << ((lflags & 7) + 1)
            pos, _n = _skip_sub_blocks(data, pos + 1, steps)  # +1: LZW minimum code size
            frames += 1
            if max_frames is not None and frames > max_frames:
                raise _too_many_frames(frames, max_frames)
            total += 100 if delay <= 1 else delay * 10
            delay = 0
        else:
            break  # garbage or truncation: count what we saw
    return (total if frames > 1 else None), _merged(hidden)


def _skip_sub_blocks(data: Buffer, pos: int, steps: _Steps | None = None) -> tuple[int, int]:
    """Position after a run of data sub-blocks, and the bytes they held."""
    end = len(data)
    nbytes = 0
    count = 0
    while pos < end:
        n = data[pos]
        pos += 1 + n
        nbytes += n
        count += 1
        if n == 0:
            break
        if steps is not None and count & 0xFFF == 0:
            steps.step(0x1000)
    if steps is not None:
        steps.step(count & 0xFFF)
    return pos, nbytes


def webp_duration_ms(data: Buffer) -> int | None:
    """Sum of ANMF frame durations of an animated WebP (None for a still one)."""
    return _webp_walk(data, None, None)[0]


# Metadata chunks and the VP8X flag that announces each.
_WEBP_META = {b"EXIF": 0x08, b"XMP ": 0x04, b"ICCP": 0x20}


def _webp_walk(
    data: Buffer, max_pixels: int | None, max_frames: int | None
) -> tuple[int | None, Hidden, Patches]:
    """Frame durations, canvas and frame bounds, and the metadata chunks past the
    limits: hidden from Pillow, with the RIFF size and VP8X flags patched to match."""
    if len(data) < 12:
        return None, (), ()
    pos = 12
    frames = 0
    total = 0
    end = len(data)
    meta = _Meta()
    hidden: list[tuple[int, int]] = []
    flags = kept = 0  # VP8X flags of the hidden chunks, of the kept ones
    steps = _Steps()
    while pos + 8 <= end:
        steps.step()
        ctype = bytes(data[pos : pos + 4])
        (size,) = struct.unpack_from("<I", data, pos + 4)
        if ctype in _WEBP_META:
            if meta.fits(size):
                kept |= _WEBP_META[ctype]
            else:
                hidden.append((pos, min(8 + size + (size & 1), end - pos)))
                flags |= _WEBP_META[ctype]
        elif ctype == b"VP8X" and pos + 8 + 10 <= end and max_pixels is not None:
            w = 1 + int.from_bytes(data[pos + 12 : pos + 15], "little")
            h = 1 + int.from_bytes(data[pos + 15 : pos + 18], "little")
            if w * h > max_pixels:
                raise _canvas_bomb(w, h, max_pixels)
        elif ctype == b"ANMF" and pos + 8 + 16 <= end:
            total += int.from_bytes(data[pos + 8 + 12 : pos + 8 + 15], "little")
            frames += 1
            if max_frames is not None and frames > max_frames:
                raise _too_many_frames(frames, max_frames)
        pos += 8 + size + (size & 1)
    duration = total if frames > 1 else None
    if not hidden:
        return duration, (), ()
    (riff,) = struct.unpack_from("<I", data, 4)
    patches: list[tuple[int, bytes]] = [
        (4, struct.pack("<I", max(4, riff - sum(n for _s, n in hidden))))
    ]
    if data[12:16] == b"VP8X" and end > 20:
        patches.append((20, bytes([data[20] & ~(flags & ~kept) & 0xFF])))
    return duration, _merged(hidden), tuple(patches)


# --------------------------------------------------------------------------- TIFF

_TIFF_TYPE_SIZES = {
    1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 6: 1, 7: 1, 8: 2, 9: 4, 10: 8,
    11: 4, 12: 8, 13: 4, 16: 8, 17: 8, 18: 8,
}  # fmt: skip


# Tags that describe the pixels: too large a value is refused, never hidden.
_TIFF_STRUCTURAL = frozenset(
    {256, 257, 258, 259, 262, 273, 277, 278, 279, 284, 320, 322, 323, 324, 325, 330, 338, 339}
)


def check_tiff(f: BinaryIO, size: int) -> Patches:
    """Bound the first directory (the one Pillow reads whole): its tag count and the
    bytes its tag values take. A metadata tag whose value is past the limits is
    hidden: its count patched to 0, so Pillow skips it (see :data:`Patches`)."""
    f.seek(0)
    head = f.read(16)
    if len(head) < 8:
        raise _corrupt()
    order = "<" if head[:2] == b"II" else ">"
    (magic,) = struct.unpack_from(order + "H", head, 2)
    big = magic == 43
    if big:
        if len(head) < 16:
            raise _corrupt()
        (offset,) = struct.unpack_from(order + "Q", head, 8)
        count_fmt, entry_size, inline = "Q", 20, 8
        entry_fmt = order + "HHQQ"
    else:
        (offset,) = struct.unpack_from(order + "I", head, 4)
        count_fmt, entry_size, inline = "H", 12, 4
        entry_fmt = order + "HHII"
    if offset >= size:
        raise _corrupt()
    f.seek(offset)
    raw = f.read(struct.calcsize(count_fmt))
    if len(raw) < struct.calcsize(count_fmt):
        raise _corrupt()
    (count,) = struct.unpack(order + count_fmt, raw)
    if count > TIFF_MAX_TAGS:
        raise MediaError("bomb", f"the TIFF has more than {TIFF_MAX_TAGS:,} tags in one directory")
    entries = f.read(count * entry_size)
    first = offset + struct.calcsize(count_fmt)
    meta = _Meta()
    patches: list[tuple[int, bytes]] = []
    for i in range(len(entries) // entry_size):
        tag, typ, n, at = struct.unpack_from(entry_fmt, entries, i * entry_size)
        nbytes = n * _TIFF_TYPE_SIZES.get(typ, 0)
        if nbytes <= inline:
            continue
        if tag in _TIFF_STRUCTURAL:
            meta.add(nbytes)
        elif at + nbytes > size or not meta.fits(nbytes):
            # too large, or cut short (Pillow would stop reading the directory there)
            patches.append((first + i * entry_size + 4, bytes(inline)))  # count := 0
    return tuple(patches)


def webp_is_truncated(f: BinaryIO, file_size: int) -> bool:
    """True if the RIFF header promises more bytes than the file holds."""
    f.seek(4)
    raw = f.read(4)
    return len(raw) < 4 or struct.unpack("<I", raw)[0] + 8 > file_size
