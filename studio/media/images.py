"""Pillow for untrusted images: format-restricted, bomb-guarded opening and thumbnails."""

from __future__ import annotations

import contextlib
import io
import struct
import threading
import warnings
import zlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, BinaryIO

from studio.media.kinds import MediaError, human_bytes, human_count
from studio.media.structure import Hidden, Patches, metadata_cuts, pillow_view

if TYPE_CHECKING:
    from PIL import Image, ImageFile

__all__ = [
    "PIL_FORMATS",
    "decoded_bytes",
    "decoding",
    "exif_orientation",
    "make_thumbnail",
    "open_image",
    "oriented_size",
]

PIL_FORMATS: dict[str, str] = {
    "png": "PNG",
    "jpg": "JPEG",
    "webp": "WEBP",
    "gif": "GIF",
    "bmp": "BMP",
    "tiff": "TIFF",
}

# Pillow signals a damaged file with any of these.
PIL_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    SyntaxError,
    ValueError,
    EOFError,
    IndexError,
    TypeError,
    KeyError,
    struct.error,
    zlib.error,
    MemoryError,
)

# warnings.catch_warnings() swaps a process-wide filter list; serialise our own
# users of it. The section only parses a header, so contention is negligible.
_OPEN_LOCK = threading.Lock()


def bomb_error(width: int, height: int, max_pixels: int) -> MediaError:
    return MediaError(
        "bomb",
        f"the image is {width}\u00d7{height} pixels, "  # the multiplication sign
        f"over the {human_count(max_pixels)} pixel safety limit",
    )


def open_image(
    f: BinaryIO,
    ext: str,
    max_pixels: int,
    max_decoded_bytes: int | None = None,
    hidden: Hidden | None = None,
    patches: Patches = (),
) -> ImageFile.ImageFile:
    """Open (header only) with the one Pillow plugin ``ext`` names; enforce ``max_pixels``
    and, if given, the memory a full decode would take (``max_decoded_bytes``).

    Metadata too large to read (a 50 MB PNG text chunk, a 20 MB WebP EXIF chunk) is
    kept from Pillow: the ``hidden`` ranges and ``patches`` that
    :func:`~studio.media.structure.check_image` found, or (``hidden`` None) a cheap walk
    of the file finds them here.

    Pillow's own guard reads the global ``Image.MAX_IMAGE_PIXELS``; we never change
    that global. Its warning is turned into an error for the duration of the open,
    and both warning and error are answered with our per-call limit: the header is
    re-read without the guard (still no pixel decoding) to learn the size, and the
    image is refused or accepted by ``max_pixels`` alone. Pillow raising its guard
    again in that second read (a GIF frame that grows the canvas, say) is a bomb.
    """
    from PIL import Image

    fmt = PIL_FORMATS[ext]
    if hidden is None:
        try:
            hidden, patches = metadata_cuts(f, ext)
        except (OSError, struct.error) as exc:
            raise MediaError("corrupt", "the image is truncated or corrupt") from exc
    f = pillow_view(f, hidden, patches)
    bombs = (Image.DecompressionBombError, Image.DecompressionBombWarning)
    try:
        with _OPEN_LOCK, warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # "Corrupt EXIF data" and the like
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            try:
                im = Image.open(f, formats=[fmt])
            except bombs:
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                factory, _accept = Image.OPEN[fmt]
                f.seek(0)
                im = factory(f, "")
    except bombs as exc:
        raise MediaError(
            "bomb", f"the image is larger than the {human_count(max_pixels)} pixel safety limit"
        ) from exc
    except PIL_ERRORS as exc:
        raise MediaError("corrupt", "the image is truncated or corrupt") from exc
    width, height = im.size
    if width * height > max_pixels:
        im.close()
        raise bomb_error(width, height, max_pixels)
    if width < 1 or height < 1:
        im.close()
        raise MediaError("corrupt", "the image is truncated or corrupt")
    need = decoded_bytes(im.mode, width * height)
    if max_decoded_bytes is not None and need > max_decoded_bytes:
        im.close()
        raise MediaError(
            "bomb",
            f"the image would take {human_bytes(need)} of memory to decode, over the "
            f"{human_bytes(max_decoded_bytes)} safety limit",
        )
    return im


def decoded_bytes(mode: str, pixels: int) -> int:
    """Peak memory of decoding an image of ``mode`` and making it RGB(A) for a preview.

    Pillow keeps 1 byte per pixel for 1/L/P, 2 for I;16, 4 for everything else
    (3-band images are padded to 4); a palette image is converted whole to RGB(A).
    """
    if mode in ("1", "L"):
        per = 1
    elif mode in ("P", "PA"):
        per = 1 + 4
    elif mode.startswith("I;16"):
        per = 2
    else:
        per = 4
    return pixels * per


@contextlib.contextmanager
def decoding(size: tuple[int, int]) -> Iterator[None]:
    """Wrap pixel decoding (``load``, ``thumbnail``…) of an image already opened with
    :func:`open_image` (which applied our limits).

    Pillow checks its global limit again in some decode paths (TIFF tiles, GIF
    disposal). Under it, nothing more is needed; over it (a caller raised our
    limit), its warning is silenced under the lock. An error it raises becomes
    MediaError 'bomb', never an exception that escapes the importer.
    """
    from PIL import Image

    big = Image.MAX_IMAGE_PIXELS is not None and size[0] * size[1] > Image.MAX_IMAGE_PIXELS
    try:
        if big:
            with _OPEN_LOCK, warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)
                yield
        else:
            yield
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaError(
            "bomb", "the image grows past the pixel safety limit while it decodes"
        ) from exc


def exif_orientation(im: Image.Image, ext: str, png_exif: bytes | None = None) -> int:
    """EXIF orientation 1..8 (1 when absent), read without decoding pixels."""
    from PIL import Image

    try:
        if ext == "png":
            if not png_exif:
                return 1
            exif = Image.Exif()
            exif.load(png_exif)
        elif ext in ("jpg", "webp", "tiff"):
            exif = im.getexif()
        else:
            return 1
        value = exif.get(0x0112, 1)
    except PIL_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def oriented_size(size: tuple[int, int], orientation: int) -> tuple[int, int]:
    width, height = size
    return (height, width) if orientation in (5, 6, 7, 8) else (width, height)


def _transpose(im: Image.Image, orientation: int) -> Image.Image:
    from PIL import Image

    method = {
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    return im.transpose(method) if method is not None else im


def _has_alpha(im: Image.Image) -> bool:
    return im.mode in ("RGBA", "RGBa", "LA", "La", "PA") or (
        im.mode == "P" and "transparency" in im.info
    )


def _to_8bit(im: Image.Image) -> Image.Image:
    """Modes that resize badly or not at all (palette, 1-bit, 16/32-bit, float) -> 8-bit."""
    mode = im.mode
    if mode in ("L", "LA", "RGB", "RGBA", "CMYK"):
        return im
    if mode in ("P", "PA"):
        return im.convert("RGBA" if _has_alpha(im) else "RGB")
    if mode == "1":
        return im.convert("L")
    if mode.startswith("I") or mode == "F":
        import numpy as np
        from PIL import Image

        arr = np.asarray(im)
        if mode.startswith("I;16"):
            out = (arr.astype(np.uint32) >> 8).astype(np.uint8)
        else:
            lo, hi = float(arr.min()), float(arr.max())
            scale = 255.0 / (hi - lo) if hi > lo else 0.0
            out = ((arr.astype(np.float64) - lo) * scale).clip(0, 255).astype(np.uint8)
        return Image.fromarray(out, "L")
    return im.convert("RGBA" if _has_alpha(im) else "RGB")


def _to_srgb(im: Image.Image) -> Image.Image:
    """Apply an embedded ICC profile (Adobe RGB, CMYK print profiles…) into sRGB."""
    icc = im.info.get("icc_profile")
    if not icc or im.mode not in ("RGB", "RGBA", "CMYK", "L"):
        return im
    from PIL import ImageCms

    out_mode = "RGBA" if im.mode == "RGBA" else "RGB"
    try:
        src = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        dst = ImageCms.createProfile("sRGB")
        converted = ImageCms.profileToProfile(im, src, dst, outputMode=out_mode)
    except (ImageCms.PyCMSError, *PIL_ERRORS):  # type: ignore[misc]
        return im
    return converted if converted is not None else im


def make_thumbnail(im: ImageFile.ImageFile, box: int) -> Image.Image:
    """Fit within ``box`` x ``box`` (never upscale), upright, as RGB or RGBA.

    ``im`` must be freshly opened and not loaded: ``thumbnail()`` then lets the
    JPEG decoder scale down by 2/4/8 while decoding (draft mode), which is most
    of the speed of a JPEG thumbnail. Nothing here may call ``load()`` first.
    """
    work: Image.Image = im
    if im.mode.startswith("I") or im.mode == "F":
        # 16/32-bit and float pixels: shrink in their own mode, then map the few left
        # to 8 bits (mapping the full image first costs ~5x its size in float64).
        im.thumbnail((box, box), reducing_gap=None if im.mode.startswith("I;16") else 2.0)
        im.load()  # Pillow can't reduce() 16-bit modes: those are resampled in one go
        work = _to_8bit(im)
    else:
        if im.format != "JPEG":
            work = _to_8bit(im)  # may load; there is no draft mode to lose
        else:
            # Decode at the smallest DCT scale (1/2, 1/4, 1/8) still covering the box:
            # thumbnail() alone keeps twice the box (its reducing gap), four times
            # the pixels to decode. Measured here: a 2048² photo to 512 px in ~6 ms
            # instead of ~36 ms.
            im.draft(None, (box, box))
        work.thumbnail((box, box))
        work.load()  # a small image skips thumbnail(); read it before the file closes
    orientation = _loaded_orientation(im)  # pixels are loaded now: EXIF is at hand
    out = _to_srgb(work)
    if out.mode not in ("RGB", "RGBA"):
        out = out.convert("RGBA" if _has_alpha(out) else "RGB")
    return _transpose(out, orientation)


def _loaded_orientation(im: Image.Image) -> int:
    if im.format not in ("JPEG", "PNG", "WEBP", "TIFF"):
        return 1
    try:
        value = im.getexif().get(0x0112, 1)
    except PIL_ERRORS:
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1
