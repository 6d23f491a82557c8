"""local-image: generate, refine and derive, decoded back and compared."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from workers.base import (
    BasicContext,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    ProviderError,
    SourceMedia,
    aspect_dimensions,
)
from workers.local import LocalProvider
from workers.local_image import apply_op
from workers.local_prompt import IMAGE_OPS, ImageOp


def run(
    tmp_path: Path, prompt: str, op: Operation = Operation.GENERATE, **kw: Any
) -> GenerationOutput:
    request = GenerationRequest(
        operation=op, media_kind="image", prompt=prompt, model="local-image", **kw
    )
    return LocalProvider().run(request, BasicContext(tmp_path / "ctx"))


def decode(out: GenerationOutput) -> np.ndarray:
    assert out.mime == "image/png" and out.ext == "png" and out.data is not None
    with Image.open(io.BytesIO(out.data), formats=["PNG"]) as im:
        assert im.format == "PNG"
        return np.asarray(im.convert("RGB"))


def source(
    tmp_path: Path, name: str, size: tuple[int, int], fmt: str = "PNG", seed: int = 0
) -> SourceMedia:
    """A structured test picture (gradients, blocks, noise) saved in ``fmt``."""
    w, h = size
    rng = np.random.default_rng(seed)
    ys, xs = np.mgrid[0:h, 0:w]
    arr = np.stack(
        [xs * 255 // max(1, w - 1), ys * 255 // max(1, h - 1), (xs // 16 + ys // 16) % 2 * 200], -1
    )
    arr = arr + rng.integers(0, 30, size=arr.shape)
    arr[h // 4 : h // 2, w // 5 : w // 2] = (250, 30, 30)
    img = Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB")
    path = tmp_path / name
    img.save(path, fmt)
    return SourceMedia(
        variant_id=name,
        path=path,
        mime=f"image/{fmt.lower()}",
        media_kind="image",
        width=w,
        height=h,
    )


def corr(a: np.ndarray, b: np.ndarray) -> float:
    x, y = a.astype(np.float64).ravel(), b.astype(np.float64).ravel()
    return float(np.corrcoef(x, y)[0, 1])


@pytest.mark.parametrize(
    ("size", "aspect"),
    [
        ("512", "1:1"),
        ("512", "16:9"),
        ("512", "9:16"),
        ("512", "21:9"),
        ("512", "2:3"),
        ("1K", "3:4"),
    ],
)
def test_generate_exact_size(tmp_path: Path, size: str, aspect: str) -> None:
    out = run(tmp_path, "a sunset over the sea", size=size, aspect_ratio=aspect)
    arr = decode(out)
    w, h = aspect_dimensions(aspect, {"512": 512, "1K": 1024}[size])
    assert arr.shape == (h, w, 3)
    assert out.provider_metadata["width"] == w and out.provider_metadata["height"] == h
    assert arr.std() > 10  # a picture, not a flat fill


def test_generate_default_is_1k_square_with_metadata(tmp_path: Path) -> None:
    out = run(tmp_path, "neon city at night")
    assert decode(out).shape == (1024, 1024, 3)
    meta = out.provider_metadata
    assert meta["shapes"][0] == "rect" and meta["palette_from"][0] == "neon"
    assert meta["composition"] in ("centered", "thirds", "scattered")
    assert all(c.startswith("#") for c in meta["palette"])
    assert out.provenance == {"provider": "local", "model": "local-image", "version": "1"}
    assert (out.units, out.unit) == (1.0, "image")


def test_prompts_shape_the_picture(tmp_path: Path) -> None:
    prompts = [
        "a sunset over the sea",
        "frozen ice crystals pattern",
        "deep forest with tall trees",
        "a cozy cat",
    ]
    pics = [decode(run(tmp_path, p, size="512")).astype(np.float64) for p in prompts]
    for i in range(len(pics)):
        for j in range(i + 1, len(pics)):
            assert np.abs(pics[i] - pics[j]).mean() > 20, (prompts[i], prompts[j])
    sunset, ice, forest = (p.reshape(-1, 3).mean(0) for p in pics[:3])
    assert sunset[0] > sunset[2]  # warm
    assert ice[2] > ice[0]  # cool
    assert forest[1] > forest[2]  # green


def test_same_request_same_bytes_other_seed_differs(tmp_path: Path) -> None:
    a = run(tmp_path, "planets and stars", size="512", seed=5)
    b = run(tmp_path, "planets and stars", size="512", seed=5)
    c = run(tmp_path, "planets and stars", size="512", seed=6)
    assert a.data == b.data
    assert a.data != c.data
    assert np.abs(decode(a).astype(int) - decode(c).astype(int)).mean() > 3


def test_style_references_colour_a_generate(tmp_path: Path) -> None:
    ref = source(tmp_path, "style.png", (64, 64))
    out = run(tmp_path, "a cozy cat", size="512", references=(ref,))
    assert "references" in out.provider_metadata["palette_from"]
    assert decode(out).shape == (512, 512, 3)


def test_composition_param_overrides_words(tmp_path: Path) -> None:
    out = run(tmp_path, "portrait of a wizard", size="512", params={"composition": "scattered"})
    assert out.provider_metadata["composition"] == "scattered"


# ---- refine ----------------------------------------------------------------------


def test_refine_mirror_and_invert_are_exact(tmp_path: Path) -> None:
    ref = source(tmp_path, "src.png", (512, 512))
    src = np.asarray(Image.open(ref.path).convert("RGB"))
    mirrored = decode(
        run(
            tmp_path,
            "mirror it",
            Operation.REFINE,
            references=(ref,),
            size="512",
            aspect_ratio="1:1",
        )
    )
    assert np.array_equal(mirrored, src[:, ::-1])
    inverted = decode(
        run(tmp_path, "invert", Operation.REFINE, references=(ref,), size="512", aspect_ratio="1:1")
    )
    assert np.array_equal(inverted, 255 - src)


def test_refine_jpeg_keeps_source_aspect_and_structure(tmp_path: Path) -> None:
    ref = source(tmp_path, "src.jpg", (800, 600), "JPEG")
    out = run(tmp_path, "darker and warmer", Operation.REFINE, references=(ref,))
    arr = decode(out)
    assert arr.shape == (768, 1024, 3)  # 4:3, nearest size to 800 px is 1K
    assert out.provider_metadata["transforms"] == ["darker", "warmer"]
    src = np.asarray(Image.open(ref.path).convert("RGB").resize((1024, 768)))
    assert corr(arr.mean(-1), src.mean(-1)) > 0.9
    assert arr.mean() < src.mean()


def test_refine_crops_to_a_requested_aspect(tmp_path: Path) -> None:
    ref = source(tmp_path, "src.webp", (300, 300), "WEBP")
    arr = decode(
        run(tmp_path, "sepia", Operation.REFINE, references=(ref,), size="512", aspect_ratio="16:9")
    )
    assert arr.shape == (288, 512, 3)
    r, g, b = arr.reshape(-1, 3).mean(0)
    assert r > g > b  # sepia tone


@pytest.mark.parametrize("name", IMAGE_OPS)
def test_every_refine_step_changes_but_keeps_the_picture(tmp_path: Path, name: str) -> None:
    ref = source(tmp_path, "s.png", (96, 96))
    img = Image.open(ref.path).convert("RGB")
    op = ImageOp(name, (30, 90, 220) if name == "tint" else None)
    out = apply_op(img, op)
    assert out.size == img.size and out.mode == "RGB"
    a, b = np.asarray(img, np.float64), np.asarray(out, np.float64)
    assert np.abs(a - b).mean() > 1.0
    if name not in ("mirror", "flip", "invert", "sketch"):
        assert corr(a.mean(-1), b.mean(-1)) > 0.5


def test_refine_reads_gif_bmp_tiff_and_transparency(tmp_path: Path) -> None:
    for fmt, ext in (("GIF", "gif"), ("BMP", "bmp"), ("TIFF", "tiff")):
        ref = source(tmp_path, f"s.{ext}", (64, 48), fmt)
        arr = decode(run(tmp_path, "pixelate", Operation.REFINE, references=(ref,), size="512"))
        assert arr.shape == (384, 512, 3)
    rgba = Image.new("RGBA", (40, 40), (0, 0, 0, 0))
    rgba.paste((255, 0, 0, 255), (10, 10, 30, 30))
    rgba.save(tmp_path / "t.png")
    ref = SourceMedia("t", tmp_path / "t.png", "image/png", "image")
    arr = decode(run(tmp_path, "brighter", Operation.REFINE, references=(ref,), size="512"))
    assert arr.shape == (512, 512, 3)


def test_unreadable_reference_is_an_invalid_request(tmp_path: Path) -> None:
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"not an image at all")
    ref = SourceMedia("bad", bad, "image/png", "image")
    with pytest.raises(ProviderError) as err:
        run(tmp_path, "darker", Operation.REFINE, references=(ref,))
    assert err.value.kind is ErrorKind.INVALID_REQUEST and "bad.png" in err.value.message


def test_decompression_bomb_is_refused_from_the_header(tmp_path: Path) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "PNG")
    data = bytearray(buf.getvalue())
    ihdr = struct.pack(">II", 30_000, 30_000) + bytes(data[24:29])
    data[16:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(b"IHDR" + ihdr))
    (tmp_path / "bomb.png").write_bytes(bytes(data))
    ref = SourceMedia("bomb", tmp_path / "bomb.png", "image/png", "image")
    with pytest.raises(ProviderError) as err:
        run(tmp_path, "darker", Operation.REFINE, references=(ref,))
    assert err.value.kind is ErrorKind.INVALID_REQUEST and "limit" in err.value.message


# ---- derive ----------------------------------------------------------------------


def test_derive_collage_of_three_references(tmp_path: Path) -> None:
    refs = (
        source(tmp_path, "a.png", (200, 200), seed=1),
        source(tmp_path, "b.jpg", (320, 180), "JPEG", seed=2),
        source(tmp_path, "c.webp", (150, 220), "WEBP", seed=3),
    )
    out = run(
        tmp_path,
        "a collage with stars",
        Operation.DERIVE,
        references=refs,
        size="512",
        aspect_ratio="16:9",
    )
    arr = decode(out)
    assert arr.shape == (288, 512, 3)
    meta = out.provider_metadata
    assert meta["layout"] == "grid" and meta["references"] == 3 and "star" in meta["shapes"]


def test_derive_blend_resembles_its_references(tmp_path: Path) -> None:
    refs = (
        source(tmp_path, "a.png", (256, 256), seed=1),
        source(tmp_path, "b.png", (256, 256), seed=1),
    )
    out = run(tmp_path, "blend these softly", Operation.DERIVE, references=refs, size="512")
    arr = decode(out)
    assert arr.shape == (512, 512, 3)  # 1:1 like the first reference
    src = np.asarray(Image.open(refs[0].path).convert("RGB").resize((512, 512)))
    assert corr(arr.mean(-1), src.mean(-1)) > 0.6
    again = run(tmp_path, "blend these softly", Operation.DERIVE, references=refs, size="512")
    assert again.data == out.data
