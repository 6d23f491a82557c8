"""Generation metadata of other tools, read on import. Every fixture is written here by
the format's own rules: A1111/Forge ``parameters`` (PNG text chunk, EXIF UserComment as
piexif writes it: ``UNICODE\\0`` + UTF-16), ComfyUI API ``prompt`` and UI ``workflow``
graphs, InvokeAI ``invokeai_metadata`` (3.x and 4.x+ shapes) and legacy ``sd-metadata``."""

from __future__ import annotations

import json
import struct
import zlib
from pathlib import Path
from typing import Any

import pytest
from PIL import Image, PngImagePlugin

from studio.core.imports import import_files
from studio.core.space import Space
from studio.media.metadata import read_generation_info, split_params
from tests.conftest import OWNER


def png(path: Path, texts: dict[str, str], *, compressed: bool = False, itxt: bool = False) -> Path:
    info = PngImagePlugin.PngInfo()
    for k, v in texts.items():
        if itxt:
            info.add_itxt(k, v, zip=compressed)
        else:
            info.add_text(k, v, zip=compressed)
    Image.new("RGB", (32, 24), (10, 20, 30)).save(path, pnginfo=info)
    return path


def user_comment(text: str, order: str = "be") -> bytes:
    return b"UNICODE\x00" + text.encode(f"utf-16-{order}")


def exif_image(path: Path, fmt: str, text: str, order: str = "be") -> Path:
    im = Image.new("RGB", (32, 24), (10, 20, 30))
    exif = im.getexif()
    exif.get_ifd(0x8769)[0x9286] = user_comment(text, order)
    im.save(path, fmt, exif=exif)
    return path


A1111 = (
    "masterpiece, a knight in silver armour,\n"
    "standing on a hill at dawn\n"
    "Negative prompt: blurry, lowres\n"
    "Steps: 28, Sampler: DPM++ 2M Karras, CFG scale: 6.5, Seed: 1234567890, "
    'Size: 832x1216, Model hash: 31e35c80fc, Model: sd_xl_base_1.0, Lora hashes: "knight: '
    'abc123, style: def456", Version: v1.9.4'
)
FORGE = (
    "a cozy cabin in the woods, snow\n"
    "Steps: 20, Sampler: Euler a, Schedule type: Automatic, CFG scale: 1, "
    "Distilled CFG Scale: 3.5, Seed: 42, Size: 896x1152, Model: flux1-dev-bnb-nf4-v2, "
    "Version: f2.0.1v1.10.1-previous-313-g8a042934"
)


def check_a1111(found: Any) -> None:
    assert found.source_tool == "automatic1111"
    assert found.prompt == "masterpiece, a knight in silver armour,\nstanding on a hill at dawn"
    assert found.negative_prompt == "blurry, lowres"
    p = found.parameters
    assert p["Steps"] == 28 and p["Seed"] == 1234567890 and p["CFG scale"] == 6.5
    assert p["Sampler"] == "DPM++ 2M Karras" and p["Model"] == "sd_xl_base_1.0"
    assert p["Lora hashes"] == "knight: abc123, style: def456"  # quoted value, commas inside
    assert (p["width"], p["height"]) == (832, 1216) and p["Size"] == "832x1216"
    assert p["Version"] == "v1.9.4"


def test_a1111_png_text_chunk(tmp_path: Path) -> None:
    check_a1111(read_generation_info(png(tmp_path / "a.png", {"parameters": A1111}), "image/png"))


def test_a1111_png_compressed_itxt(tmp_path: Path) -> None:
    path = png(tmp_path / "a.png", {"parameters": A1111}, compressed=True, itxt=True)
    check_a1111(read_generation_info(path, "image/png"))


def test_a1111_jpeg_exif_user_comment(tmp_path: Path) -> None:
    check_a1111(read_generation_info(exif_image(tmp_path / "a.jpg", "JPEG", A1111), "image/jpeg"))


def test_a1111_webp_exif_little_endian(tmp_path: Path) -> None:
    path = exif_image(tmp_path / "a.webp", "WEBP", A1111, order="le")
    check_a1111(read_generation_info(path, "image/webp"))


def test_forge_without_negative_prompt(tmp_path: Path) -> None:
    found = read_generation_info(png(tmp_path / "f.png", {"parameters": FORGE}), "image/png")
    assert found is not None and found.source_tool == "automatic1111"
    assert found.prompt == "a cozy cabin in the woods, snow" and found.negative_prompt == ""
    assert found.parameters["Distilled CFG Scale"] == 3.5
    assert found.parameters["Schedule type"] == "Automatic"
    assert found.parameters["Version"].startswith("f2.0.1")


def test_split_params_escapes() -> None:
    got = split_params(r'A: 1, B: "say \"hi\", then go", C: x y, D: "", E: 2')
    assert got == {"A": "1", "B": 'say "hi", then go', "C": "x y", "D": "", "E": "2"}


# --------------------------------------------------------------------------- ComfyUI

COMFY_TXT2IMG = {
    "4": {
        "class_type": "CheckpointLoaderSimple",
        "inputs": {"ckpt_name": "v1-5-pruned.safetensors"},
    },
    "5": {
        "class_type": "EmptyLatentImage",
        "inputs": {"width": 512, "height": 768, "batch_size": 1},
    },
    "6": {
        "class_type": "CLIPTextEncode",
        "inputs": {"text": "a red fox in snow", "clip": ["4", 1]},
    },
    "7": {"class_type": "CLIPTextEncode", "inputs": {"text": "watermark, text", "clip": ["4", 1]}},
    "3": {
        "class_type": "KSampler",
        "inputs": {
            "seed": 156680208700286,
            "steps": 20,
            "cfg": 8.0,
            "sampler_name": "euler",
            "scheduler": "normal",
            "denoise": 1.0,
            "model": ["4", 0],
            "positive": ["6", 0],
            "negative": ["7", 0],
            "latent_image": ["5", 0],
        },
    },
    "8": {"class_type": "VAEDecode", "inputs": {"samples": ["3", 0], "vae": ["4", 2]}},
    "9": {"class_type": "SaveImage", "inputs": {"filename_prefix": "ComfyUI", "images": ["8", 0]}},
}

COMFY_SDXL = {
    "10": {"class_type": "UNETLoader", "inputs": {"unet_name": "sdxl_base.safetensors"}},
    "11": {"class_type": "PrimitiveNode", "inputs": {"value": 777}},
    "12": {"class_type": "PrimitiveString", "inputs": {"value": "castle on a cliff"}},
    "13": {
        "class_type": "CLIPTextEncodeSDXL",
        "inputs": {
            "text_g": ["12", 0],
            "text_l": "castle on a cliff, painterly",
            "clip": ["10", 1],
        },
    },
    "14": {"class_type": "CLIPTextEncode", "inputs": {"text": "people", "clip": ["10", 1]}},
    "15": {"class_type": "CLIPTextEncode", "inputs": {"text": "fog", "clip": ["10", 1]}},
    "16": {
        "class_type": "ConditioningCombine",
        "inputs": {"conditioning_1": ["14", 0], "conditioning_2": ["15", 0]},
    },
    "20": {
        "class_type": "KSamplerAdvanced",
        "inputs": {
            "add_noise": "enable",
            "noise_seed": ["11", 0],
            "steps": 30,
            "cfg": 7,
            "sampler_name": "dpmpp_2m",
            "scheduler": "karras",
            "positive": ["13", 0],
            "negative": ["16", 0],
            "model": ["10", 0],
        },
    },
}

COMFY_WORKFLOW = {
    "last_node_id": 9,
    "nodes": [
        {
            "id": 4,
            "type": "CheckpointLoaderSimple",
            "widgets_values": ["dreamshaper_8.safetensors"],
        },
        {"id": 6, "type": "CLIPTextEncode", "widgets_values": ["a lighthouse at night"]},
        {"id": 7, "type": "CLIPTextEncode", "widgets_values": ["daylight"]},
        {
            "id": 3,
            "type": "KSampler",
            "inputs": [
                {"name": "model", "link": 1},
                {"name": "positive", "link": 4},
                {"name": "negative", "link": 6},
            ],
            "widgets_values": [99, "fixed", 25, 5.5, "dpmpp_2m", "karras", 1],
        },
    ],
    "links": [
        [1, 4, 0, 3, 0, "MODEL"],
        [4, 6, 0, 3, 1, "CONDITIONING"],
        [6, 7, 0, 3, 2, "CONDITIONING"],
    ],
}


def test_comfy_api_prompt_with_workflow(tmp_path: Path) -> None:
    path = png(
        tmp_path / "c.png",
        {"prompt": json.dumps(COMFY_TXT2IMG), "workflow": json.dumps(COMFY_WORKFLOW)},
    )
    found = read_generation_info(path, "image/png")
    assert found is not None and found.source_tool == "comfyui"
    assert (found.prompt, found.negative_prompt) == ("a red fox in snow", "watermark, text")
    p = found.parameters
    assert p["seed"] == 156680208700286 and p["steps"] == 20 and p["cfg"] == 8.0
    assert (p["sampler_name"], p["scheduler"]) == ("euler", "normal")
    assert p["model"] == "v1-5-pruned.safetensors" and (p["width"], p["height"]) == (512, 768)
    assert found.provenance["comfyui"]["prompt"]["3"]["class_type"] == "KSampler"
    assert found.provenance["comfyui"]["workflow"]["nodes"][0]["id"] == 4


def test_comfy_sdxl_links_and_combined_conditioning(tmp_path: Path) -> None:
    found = read_generation_info(
        png(tmp_path / "c.png", {"prompt": json.dumps(COMFY_SDXL)}, itxt=True), "image/png"
    )
    assert found is not None and found.source_tool == "comfyui"
    assert found.prompt == "castle on a cliff\ncastle on a cliff, painterly"
    assert found.negative_prompt == "people\nfog"
    assert found.parameters["seed"] == 777 and found.parameters["steps"] == 30
    assert found.parameters["model"] == "sdxl_base.safetensors"
    assert found.parameters["sampler_node"] == "KSamplerAdvanced"


def test_comfy_workflow_only(tmp_path: Path) -> None:
    found = read_generation_info(
        png(tmp_path / "c.png", {"workflow": json.dumps(COMFY_WORKFLOW)}), "image/png"
    )
    assert found is not None and found.source_tool == "comfyui"
    assert (found.prompt, found.negative_prompt) == ("a lighthouse at night", "daylight")
    p = found.parameters
    assert (p["seed"], p["steps"], p["cfg"], p["sampler_name"]) == (99, 25, 5.5, "dpmpp_2m")
    assert p["model"] == "dreamshaper_8.safetensors" and "control" not in p


# --------------------------------------------------------------------------- InvokeAI

INVOKE_V3 = {
    "generation_mode": "txt2img",
    "positive_prompt": "portrait of an astronaut, studio light",
    "negative_prompt": "cartoon",
    "width": 768,
    "height": 768,
    "seed": 3141592653,
    "rand_device": "cpu",
    "cfg_scale": 7.5,
    "steps": 30,
    "scheduler": "euler_a",
    "model": {"model_name": "stable-diffusion-v1-5", "base_model": "sd-1", "model_type": "main"},
    "app_version": "3.4.0",
}
INVOKE_V5 = {
    "app_version": "5.6.0",
    "generation_mode": "sdxl_txt2img",
    "positive_prompt": "a bonsai tree on a desk",
    "negative_prompt": "",
    "width": 1024,
    "height": 1024,
    "seed": 12,
    "cfg_scale": 5,
    "cfg_rescale_multiplier": 0,
    "steps": 25,
    "scheduler": "dpmpp_2m_k",
    "model": {
        "key": "2f1c",
        "hash": "blake3:ab12",
        "name": "Juggernaut XL v9",
        "base": "sdxl",
        "type": "main",
    },
    "loras": [{"model": {"key": "9e", "name": "detail", "base": "sdxl"}, "weight": 0.6}],
}
INVOKE_GRAPH = {"id": "g1", "nodes": {"noise": {"type": "noise", "seed": 12}}, "edges": []}
INVOKE_LEGACY = {
    "model": "stable diffusion",
    "model_weights": "stable-diffusion-1.5",
    "app_id": "invoke-ai/InvokeAI",
    "app_version": "2.3.5",
    "image": {
        "prompt": [{"prompt": "a watercolor city skyline [people, cars]", "weight": 1.0}],
        "steps": 50,
        "cfg_scale": 7.5,
        "seed": 2718,
        "width": 512,
        "height": 512,
        "sampler": "k_lms",
        "type": "txt2img",
    },
}


def test_invoke_v3(tmp_path: Path) -> None:
    found = read_generation_info(
        png(tmp_path / "i.png", {"invokeai_metadata": json.dumps(INVOKE_V3)}), "image/png"
    )
    assert found is not None and found.source_tool == "invokeai"
    assert found.prompt == "portrait of an astronaut, studio light"
    assert found.negative_prompt == "cartoon"
    p = found.parameters
    assert p["seed"] == 3141592653 and p["steps"] == 30 and p["cfg_scale"] == 7.5
    assert p["model"] == "stable-diffusion-v1-5" and p["model_base"] == "sd-1"


def test_invoke_v5_with_graph_and_workflow(tmp_path: Path) -> None:
    path = png(
        tmp_path / "i.png",
        {
            "invokeai_metadata": json.dumps(INVOKE_V5),
            "invokeai_graph": json.dumps(INVOKE_GRAPH),
            "invokeai_workflow": json.dumps({"name": "my flow", "nodes": []}),
        },
        itxt=True,
    )
    found = read_generation_info(path, "image/png")
    assert found is not None and found.source_tool == "invokeai"
    assert found.prompt == "a bonsai tree on a desk" and found.negative_prompt == ""
    assert found.parameters["model"] == "Juggernaut XL v9"
    assert found.parameters["loras"][0]["weight"] == 0.6  # every parameter kept
    assert found.provenance["invokeai"]["invokeai_graph"]["id"] == "g1"
    assert found.provenance["invokeai"]["invokeai_workflow"]["name"] == "my flow"


def test_invoke_legacy_sd_metadata(tmp_path: Path) -> None:
    path = png(
        tmp_path / "i.png",
        {"sd-metadata": json.dumps(INVOKE_LEGACY), "Dream": '"a watercolor city skyline" -s 50'},
    )
    found = read_generation_info(path, "image/png")
    assert found is not None and found.source_tool == "invokeai"
    assert found.prompt == "a watercolor city skyline" and found.negative_prompt == "people, cars"
    assert found.parameters["seed"] == 2718 and found.parameters["model"] == "stable-diffusion-1.5"


# --------------------------------------------------------------------------- hostile


def _insert_chunk(path: Path, kind: bytes, data: bytes) -> None:
    raw = path.read_bytes()
    at = raw.index(b"IDAT") - 4
    chunk = struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    path.write_bytes(raw[:at] + chunk + raw[at:])


def test_nothing_to_read_is_none(tmp_path: Path) -> None:
    assert read_generation_info(png(tmp_path / "n.png", {"Software": "GIMP"}), "image/png") is None
    assert (
        read_generation_info(png(tmp_path / "t.png", {"parameters": "just a title"}), "image/png")
        is None
    )


def test_50_mib_text_chunk_is_dropped_with_a_note(tmp_path: Path) -> None:
    path = png(tmp_path / "big.png", {"parameters": A1111})
    _insert_chunk(path, b"tEXt", b"comment\x00" + b"x" * (50 * 2**20))
    found = read_generation_info(path, "image/png")
    assert found is not None and found.source_tool == "automatic1111"
    assert any("'comment' text chunk was 50 MiB; dropped" in n for n in found.notes)


def test_inflating_chunk_is_capped(tmp_path: Path) -> None:
    path = png(tmp_path / "z.png", {})
    _insert_chunk(path, b"zTXt", b"parameters\x00\x00" + zlib.compress(b"a" * (20 * 2**20), 9))
    found = read_generation_info(path, "image/png")
    assert found is not None and found.source_tool == ""
    assert any("inflates to more than" in n for n in found.notes)


def test_deeply_nested_json_is_dropped_with_a_note(tmp_path: Path) -> None:
    deep = "[" * 200_000 + "]" * 200_000
    found = read_generation_info(
        png(tmp_path / "d.png", {"prompt": deep, "parameters": A1111}), "image/png"
    )
    assert found is not None and found.source_tool == "automatic1111"
    assert any("nested too deep" in n for n in found.notes)


def test_broken_and_huge_values_are_bounded(tmp_path: Path) -> None:
    meta = dict(
        INVOKE_V3,
        positive_prompt="p" * 100_000,
        extra={"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}},
    )
    path = png(tmp_path / "b.png", {"invokeai_metadata": json.dumps(meta), "workflow": "{not json"})
    found = read_generation_info(path, "image/png")
    assert found is not None and len(found.prompt) == 8000
    assert any("kept the first 8000" in n for n in found.notes)
    assert any("nested too deep" in n for n in found.notes)


@pytest.mark.parametrize(("cut", "tool"), [(20, None), (60, None), (200, "automatic1111")])
def test_truncated_png_never_raises(tmp_path: Path, cut: int, tool: str | None) -> None:
    """Cut before the text chunk: nothing found; cut after it: what it says is kept."""
    path = png(tmp_path / "t.png", {"parameters": A1111})
    path.write_bytes(path.read_bytes()[:cut])
    found = read_generation_info(path, "image/png")
    assert (found and found.source_tool) == tool


# --------------------------------------------------------------------------- import


def test_import_keeps_the_recipe(space: Space, tmp_path: Path) -> None:
    files = [
        png(tmp_path / "a1111.png", {"parameters": A1111}),
        png(tmp_path / "comfy.png", {"prompt": json.dumps(COMFY_TXT2IMG)}),
        png(tmp_path / "invoke.png", {"invokeai_metadata": json.dumps(INVOKE_V5)}),
        png(tmp_path / "plain.png", {}),
    ]
    big = png(tmp_path / "huge.png", {"parameters": A1111})
    # 12 MiB: over our 4 MiB reading limit (for 16 MiB and more, see below)
    _insert_chunk(big, b"tEXt", b"comment\x00" + b"y" * (12 * 2**20))
    report = import_files(space, [*files, big], OWNER)
    assert not report.refused
    recipes = [space.variant_detail(i.variant_id).recipe for i in report.imported]
    assert [r.get("source_tool") for r in recipes] == [
        "automatic1111",
        "comfyui",
        "invokeai",
        None,
        "automatic1111",
    ]
    assert recipes[0]["operation"] == "import" and recipes[0]["original_name"] == "a1111.png"
    assert (
        recipes[0]["prompt"].startswith("masterpiece") and recipes[0]["parameters"]["Steps"] == 28
    )
    assert recipes[1]["parameters"]["seed"] == 156680208700286
    assert recipes[3] == {"operation": "import", "original_name": "plain.png"}  # as before
    assert any("12 MiB; dropped" in n for n in recipes[4]["notes"])
    comfy = space.variant_detail(report.imported[1].variant_id)
    assert comfy.generation_provenance["comfyui"]["prompt"]["3"]["inputs"]["steps"] == 20


def test_a_50_mib_text_chunk_never_blocks_an_import(space: Space, tmp_path: Path) -> None:
    tool = png(tmp_path / "tool.png", {"parameters": A1111})
    plain = png(tmp_path / "plain.png", {})
    for path in (tool, plain):
        _insert_chunk(path, b"tEXt", b"comment\x00" + b"z" * (50 * 2**20))
    report = import_files(space, [tool, plain], OWNER)
    assert not report.refused and len(report.imported) == 2
    details = [space.variant_detail(i.variant_id) for i in report.imported]
    assert details[0].recipe["source_tool"] == "automatic1111"
    assert details[0].recipe["prompt"].startswith("masterpiece")
    for detail in details:
        assert any("'comment' text chunk was 50 MiB; dropped" in n for n in detail.recipe["notes"])
        assert detail.row.width == 32 and detail.row.thumb_path  # a thumbnail was made
        stored = space.media_dir / (detail.row.media_path or "")
        assert stored.stat().st_size > 50 * 2**20  # the file itself is kept as it came


@pytest.mark.parametrize(
    "source",
    [{"prompt": 5}, {"operation": "generate"}, {"parameters": []}, {"notes": "x"}, {"seed": 1}],
)
def test_an_import_source_is_checked_against_the_recipe_type(space: Space, source: dict) -> None:
    from studio.core import commands as c
    from studio.core.errors import ValidationError

    before = space.last_seq()
    with pytest.raises(ValidationError):
        space.apply(c.BeginUpload(c.MediaKindName.IMAGE, "x.png", source=source), OWNER)
    assert space.last_seq() == before
