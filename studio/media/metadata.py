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

import html
import json
import logging
import re
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)

MAX_CHUNK = 4 * 1024 * 1024
"""A text chunk (or its inflated text) larger than this is dropped with a note."""
MAX_CHUNKS = 10_000
MAX_VALUE_CHARS = 8000
"""A string value longer than this is truncated (with a note)."""
MAX_DEPTH = 8
MAX_NODES = 5000
MAX_RAW_JSON = 256 * 1024
"""Raw tool metadata (a ComfyUI graph…) kept in the provenance up to this size."""
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FORGE_KEY = "forge-studio:recipe"
XMP_KEY = "XML:com.adobe.xmp"


@dataclass(frozen=True, slots=True)
class GenerationInfo:
    """What a file says about how it was made."""

    source_tool: str = ""
    """``automatic1111``, ``comfyui``, ``invokeai``, ``forge-studio`` or "" (unknown)."""
    prompt: str = ""
    negative_prompt: str = ""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    """Raw metadata worth keeping (a tool's graph, our exported recipe and lineage)."""
    notes: tuple[str, ...] = ()
    c2pa: bool = False

    def recipe_fields(self) -> dict[str, Any]:
        """The fields an import recipe takes from this (see ``ImportRecipe``)."""
        out: dict[str, Any] = {}
        if self.source_tool:
            out["source_tool"] = self.source_tool
        if self.prompt:
            out["prompt"] = self.prompt
        if self.negative_prompt:
            out["negative_prompt"] = self.negative_prompt
        if self.parameters:
            out["parameters"] = dict(self.parameters)
        if self.notes:
            out["notes"] = list(self.notes)
        return out

    def provenance_json(self) -> dict[str, Any]:
        out = dict(self.provenance)
        if self.c2pa:
            out["c2pa"] = "present"
        return out


# --------------------------------------------------------------------------- bounding


class _Notes:
    def __init__(self) -> None:
        self.items: list[str] = []

    def add(self, text: str) -> None:
        if text not in self.items and len(self.items) < 20:
            self.items.append(text)


def _text(value: str, what: str, notes: _Notes, limit: int = MAX_VALUE_CHARS) -> str:
    if len(value) > limit:
        notes.add(f"{what} was {len(value)} characters long; kept the first {limit}")
        return value[:limit]
    return value


def bounded(
    value: Any, notes: _Notes, what: str, depth: int = 0, budget: list[int] | None = None
) -> Any:
    """A JSON value cut down to :data:`MAX_DEPTH` levels, :data:`MAX_NODES` nodes and
    strings of :data:`MAX_VALUE_CHARS` (what is cut is noted)."""
    budget = budget if budget is not None else [MAX_NODES]
    budget[0] -= 1
    if budget[0] < 0:
        notes.add(f"{what} had too many values; the rest were dropped")
        return None
    if isinstance(value, str):
        return _text(value, what, notes)
    if value is None or isinstance(value, bool | int | float):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 2**63:
            return str(value)
        if isinstance(value, float) and value != value:  # NaN: not JSON
            return None
        return value
    if depth >= MAX_DEPTH:
        notes.add(f"{what} was nested too deep; the deepest levels were dropped")
        return None
    if isinstance(value, Mapping):
        return {
            _text(str(k), what, notes, 200): bounded(v, notes, what, depth + 1, budget)
            for k, v in value.items()
            if budget[0] > 0
        }
    if isinstance(value, list | tuple):
        return [bounded(v, notes, what, depth + 1, budget) for v in value if budget[0] > 0]
    return _text(str(value), what, notes)


def _json(text: str, what: str, notes: _Notes) -> Any:
    """Parsed JSON, or None (noted) when it is not JSON or nested beyond reason."""
    if len(text) > MAX_CHUNK:
        notes.add(f"{what} was too large to read; dropped")
        return None
    try:
        return json.loads(text)
    except RecursionError:
        notes.add(f"{what} was nested too deep to read; dropped")
    except ValueError:
        notes.add(f"{what} was not valid JSON; dropped")
    return None


def _raw(value: Any, what: str, notes: _Notes) -> Any:
    """Raw metadata for the provenance, if it is small enough once bounded."""
    kept = bounded(value, notes, what)
    if len(json.dumps(kept, ensure_ascii=False)) > MAX_RAW_JSON:
        notes.add(f"{what} was larger than {MAX_RAW_JSON // 1024} KiB; not kept")
        return None
    return kept


# --------------------------------------------------------------------------- containers


def png_text_chunks(f: BinaryIO, notes: _Notes) -> tuple[dict[str, str], bool]:
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


def _image_texts(path: Path, mime: str, notes: _Notes) -> tuple[dict[str, str], bool]:
    """Key → text of every place a tool may have written its metadata."""
    texts: dict[str, str] = {}
    with open(path, "rb") as f:
        if mime == "image/png":
            return png_text_chunks(f, notes)
        c2pa = (
            _c2pa_in_jpeg(f) if mime == "image/jpeg" else mime == "image/webp" and _c2pa_in_riff(f)
        )
    from PIL import Image

    with Image.open(path, formats=["JPEG", "WEBP"]) as im:
        xmp = im.info.get("xmp")
        if isinstance(xmp, bytes | str) and len(xmp) <= MAX_CHUNK:
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
    return texts, bool(c2pa)


# --------------------------------------------------------------------------- AUTOMATIC1111


_PARAM_KEY = re.compile(r"\s*([A-Za-z][\w \-/()+.]*?):\s")


def split_params(line: str) -> dict[str, str]:
    """``Key: value, Key: "quoted, value", …`` → ordered key → raw value text."""
    out: dict[str, str] = {}
    i, n = 0, len(line)
    while i < n:
        m = _PARAM_KEY.match(line, i)
        if m is None:
            break
        key, i = m.group(1).strip(), m.end()
        if i < n and line[i] == '"':
            j = i + 1
            while j < n and line[j] != '"':
                j += 2 if line[j] == "\\" else 1
            raw = line[i : j + 1]
            try:
                value = json.loads(raw)
            except ValueError:
                value = raw.strip('"')
            i = j + 1
        else:
            j = line.find(",", i)
            j = n if j < 0 else j
            value, i = line[i:j].strip(), j
        out[key] = str(value)
        while i < n and line[i] in ", ":
            i += 1
    return out


def _number(text: str) -> Any:
    if re.fullmatch(r"-?\d{1,18}", text):
        return int(text)
    if re.fullmatch(r"-?\d{1,18}\.\d{1,18}", text):
        return float(text)
    return text


def parse_a1111(text: str, notes: _Notes) -> GenerationInfo | None:
    """The ``parameters`` text: prompt lines, ``Negative prompt:`` lines, then one line
    of ``Key: value`` pairs (``Steps``, ``Sampler``, ``Seed``, ``Size: WxH``…)."""
    text = _text(text.replace("\r\n", "\n").strip(), "the parameters text", notes, 200_000)
    if not text:
        return None
    lines = text.split("\n")
    params = split_params(lines[-1])
    if len(params) >= 2 and {"Steps", "Seed", "Sampler", "Size", "CFG scale"} & set(params):
        lines = lines[:-1]
    else:
        params = {}
    prompt_lines: list[str] = []
    negative_lines: list[str] = []
    target = prompt_lines
    for line in lines:
        if line.startswith("Negative prompt:"):
            target = negative_lines
            line = line.removeprefix("Negative prompt:").lstrip()
        target.append(line)
    parameters: dict[str, Any] = {k: _number(_text(v, k, notes)) for k, v in params.items()}
    size = re.fullmatch(r"(\d{1,6})x(\d{1,6})", str(params.get("Size", "")))
    if size:
        parameters["width"], parameters["height"] = int(size.group(1)), int(size.group(2))
    if not params and not negative_lines:
        return None  # plain text is not a generation record
    return GenerationInfo(
        source_tool="automatic1111",
        prompt=_text("\n".join(prompt_lines).strip(), "the prompt", notes),
        negative_prompt=_text("\n".join(negative_lines).strip(), "the negative prompt", notes),
        parameters=parameters,
    )


# --------------------------------------------------------------------------- ComfyUI


_SAMPLER_KEYS = ("seed", "noise_seed", "steps", "cfg", "sampler_name", "scheduler", "denoise")
_MODEL_KEYS = ("ckpt_name", "unet_name", "model_name")
_TEXT_KEYS = ("text", "text_g", "text_l", "prompt", "string", "value")


def _is_link(value: Any) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)


def _comfy_texts(graph: Mapping[str, Any], ref: Any, depth: int = 0) -> list[str]:
    """The prompt texts feeding the input ``ref`` (a link ``[node_id, slot]``), through
    conditioning nodes (combine, concat, set-area…) up to a bounded depth."""
    if depth > 12 or not _is_link(ref):
        return []
    node = graph.get(str(ref[0]))
    if not isinstance(node, Mapping):
        return []
    inputs = node.get("inputs")
    if not isinstance(inputs, Mapping):
        return []
    out: list[str] = []
    for key in _TEXT_KEYS:
        value = inputs.get(key)
        if isinstance(value, str) and value.strip():
            out.append(value)
        elif _is_link(value):
            out += _comfy_texts(graph, value, depth + 1)
    if out:
        return list(dict.fromkeys(out))
    for key, value in inputs.items():
        if key not in ("clip", "model", "vae") and _is_link(value):
            out += _comfy_texts(graph, value, depth + 1)
    return list(dict.fromkeys(out))


def _comfy_value(graph: Mapping[str, Any], value: Any, depth: int = 0) -> Any:
    """A literal input, or the literal at the end of a link (a primitive node)."""
    if not _is_link(value):
        return value
    if depth > 8:
        return None
    node = graph.get(str(value[0]))
    inputs = node.get("inputs") if isinstance(node, Mapping) else None
    if not isinstance(inputs, Mapping):
        return None
    for key in ("seed", "noise_seed", "value", "int", "number", "steps"):
        if key in inputs:
            return _comfy_value(graph, inputs[key], depth + 1)
    return None


def _node_order(key: str) -> tuple[int, str]:
    return (int(key), key) if key.isdigit() else (2**62, key)


def parse_comfy_prompt(graph: Any, notes: _Notes) -> GenerationInfo | None:
    """The API-format graph (``prompt`` chunk): ``{node_id: {class_type, inputs}}``."""
    if not isinstance(graph, Mapping):
        return None
    nodes = {str(k): v for k, v in graph.items() if isinstance(v, Mapping)}
    params: dict[str, Any] = {}
    positive: list[str] = []
    negative: list[str] = []
    for key in sorted(nodes, key=_node_order):
        node = nodes[key]
        inputs = node.get("inputs")
        kind = str(node.get("class_type", ""))
        if not isinstance(inputs, Mapping):
            continue
        if "positive" in inputs and ("steps" in inputs or "sampler" in kind.lower()):
            positive = _comfy_texts(nodes, inputs.get("positive"))
            negative = _comfy_texts(nodes, inputs.get("negative"))
            params["sampler_node"] = kind
            for name in _SAMPLER_KEYS:
                if name in inputs:
                    value = _comfy_value(nodes, inputs[name])
                    if value is not None:
                        params["seed" if name == "noise_seed" else name] = value
            break
    for key in sorted(nodes, key=_node_order):
        inputs = nodes[key].get("inputs")
        if isinstance(inputs, Mapping):
            for name in _MODEL_KEYS:
                if isinstance(inputs.get(name), str):
                    params.setdefault("model", inputs[name])
            if isinstance(inputs.get("width"), int) and isinstance(inputs.get("height"), int):
                params.setdefault("width", inputs["width"])
                params.setdefault("height", inputs["height"])
    if not params and not positive:
        return None
    return GenerationInfo(
        source_tool="comfyui",
        prompt=_text("\n".join(positive), "the prompt", notes),
        negative_prompt=_text("\n".join(negative), "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


def parse_comfy_workflow(workflow: Any, notes: _Notes) -> GenerationInfo | None:
    """The UI-format graph (``workflow`` chunk): ``{nodes: [{id, type, inputs,
    widgets_values}], links: [[id, from, slot, to, slot, type]]}``, used when there is
    no API graph."""
    if not isinstance(workflow, Mapping) or not isinstance(workflow.get("nodes"), list):
        return None
    nodes = {n.get("id"): n for n in workflow["nodes"] if isinstance(n, Mapping)}
    links = {
        link[0]: link[1]
        for link in workflow.get("links") or []
        if isinstance(link, list) and len(link) >= 2
    }

    def text_of(node_id: Any) -> str:
        node = nodes.get(node_id)
        widgets = node.get("widgets_values") if isinstance(node, Mapping) else None
        if isinstance(widgets, list) and widgets and isinstance(widgets[0], str):
            return widgets[0]
        return ""

    params: dict[str, Any] = {}
    positive = negative = ""
    for node in nodes.values():
        kind = str(node.get("type", ""))
        widgets = node.get("widgets_values")
        if kind in ("KSampler", "KSamplerAdvanced") and isinstance(widgets, list):
            names = (
                ["seed", "control", "steps", "cfg", "sampler_name", "scheduler", "denoise"]
                if kind == "KSampler"
                else ["add_noise", "seed", "control", "steps", "cfg", "sampler_name", "scheduler"]
            )
            params.update({k: v for k, v in zip(names, widgets, strict=False) if k != "control"})
            params["sampler_node"] = kind
            for slot in node.get("inputs") or []:
                if isinstance(slot, Mapping) and slot.get("name") in ("positive", "negative"):
                    text = text_of(links.get(slot.get("link")))
                    if slot["name"] == "positive":
                        positive = text
                    else:
                        negative = text
        elif (
            kind in ("CheckpointLoaderSimple", "UNETLoader")
            and isinstance(widgets, list)
            and widgets
            and isinstance(widgets[0], str)
        ):
            params.setdefault("model", widgets[0])
    if not params and not positive:
        return None
    return GenerationInfo(
        source_tool="comfyui",
        prompt=_text(positive, "the prompt", notes),
        negative_prompt=_text(negative, "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


# --------------------------------------------------------------------------- InvokeAI


def parse_invoke(meta: Any, notes: _Notes) -> GenerationInfo | None:
    """``invokeai_metadata`` (3.x and later): a flat object of the generation's fields."""
    if not isinstance(meta, Mapping):
        return None
    params: dict[str, Any] = {}
    for key, value in meta.items():
        if key in ("positive_prompt", "negative_prompt"):
            continue
        if key == "model" and isinstance(value, Mapping):
            name = value.get("name") or value.get("model_name")
            if isinstance(name, str):
                params["model"] = name
            base = value.get("base") or value.get("base_model")
            if isinstance(base, str):
                params["model_base"] = base
            continue
        params[str(key)] = value
    positive = meta.get("positive_prompt")
    negative = meta.get("negative_prompt")
    return GenerationInfo(
        source_tool="invokeai",
        prompt=_text(positive if isinstance(positive, str) else "", "the prompt", notes),
        negative_prompt=_text(
            negative if isinstance(negative, str) else "", "the negative prompt", notes
        ),
        parameters=bounded(params, notes, "the parameters"),
    )


def parse_invoke_legacy(meta: Any, notes: _Notes) -> GenerationInfo | None:
    """``sd-metadata`` of InvokeAI 2.x: ``{model_weights, image: {prompt, seed, …}}``."""
    if not isinstance(meta, Mapping) or not isinstance(meta.get("image"), Mapping):
        return None
    image = meta["image"]
    prompt = image.get("prompt")
    if isinstance(prompt, list):
        prompt = " ".join(
            str(p.get("prompt", "")) for p in prompt if isinstance(p, Mapping)
        ).strip()
    negative = ""
    if isinstance(prompt, str):  # 2.x keeps the negative prompt in [brackets]
        found = re.findall(r"\[([^\]]*)\]", prompt)
        if found:
            negative = ", ".join(f.strip() for f in found)
            prompt = re.sub(r"\s*\[[^\]]*\]", "", prompt).strip()
    params = {str(k): v for k, v in image.items() if k != "prompt"}
    if isinstance(meta.get("model_weights"), str):
        params["model"] = meta["model_weights"]
    return GenerationInfo(
        source_tool="invokeai",
        prompt=_text(prompt if isinstance(prompt, str) else "", "the prompt", notes),
        negative_prompt=_text(negative, "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


# --------------------------------------------------------------------------- ours


_XMP_RECIPE = re.compile(r"<forge:recipe>(.*?)</forge:recipe>", re.S)
_XMP_RECIPE_ATTR = re.compile(r'forge:recipe="([^"]*)"')


def recipe_from_xmp(xmp: str) -> str | None:
    m = _XMP_RECIPE.search(xmp) or _XMP_RECIPE_ATTR.search(xmp)
    return html.unescape(m.group(1)) if m else None


def parse_forge(text: str, notes: _Notes) -> GenerationInfo | None:
    """Our own export: ``{"app": "forge-studio", "recipe": {…}, "lineage": […], …}``."""
    obj = _json(text, "the Forge Studio recipe", notes)
    if not isinstance(obj, Mapping) or obj.get("app") != "forge-studio":
        return None
    recipe = obj.get("recipe") if isinstance(obj.get("recipe"), Mapping) else {}
    assert isinstance(recipe, Mapping)
    prompt = recipe.get("prompt")
    params = recipe.get("parameters")
    return GenerationInfo(
        source_tool="forge-studio",
        prompt=_text(prompt if isinstance(prompt, str) else "", "the prompt", notes),
        negative_prompt=_text(
            str(recipe.get("negative_prompt") or ""), "the negative prompt", notes
        ),
        parameters=bounded(
            {
                **(params if isinstance(params, Mapping) else {}),
                **{
                    k: recipe[k]
                    for k in ("operation", "provider", "model")
                    if isinstance(recipe.get(k), str)
                },
            },
            notes,
            "the parameters",
        ),
        provenance={"forge-studio": bounded(dict(obj), notes, "the Forge Studio recipe")},
    )


# --------------------------------------------------------------------------- entry


def _pick(texts: Mapping[str, str], notes: _Notes) -> GenerationInfo | None:
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
        found = parse_invoke(_json(texts["invokeai_metadata"], "invokeai_metadata", notes), notes)
        if found:
            raw = {
                k: _raw(_json(texts[k], k, notes), k, notes)
                for k in ("invokeai_graph", "invokeai_workflow")
                if k in texts
            }
            return _with(found, {"invokeai": {k: v for k, v in raw.items() if v is not None}})
    if "prompt" in texts or "workflow" in texts:
        graph = _json(texts["prompt"], "the ComfyUI prompt", notes) if "prompt" in texts else None
        flow = (
            _json(texts["workflow"], "the ComfyUI workflow", notes) if "workflow" in texts else None
        )
        found = parse_comfy_prompt(graph, notes) or parse_comfy_workflow(flow, notes)
        if found:
            raw = {"prompt": _raw(graph, "the ComfyUI prompt", notes)} if graph else {}
            if flow is not None:
                raw["workflow"] = _raw(flow, "the ComfyUI workflow", notes)
            return _with(found, {"comfyui": {k: v for k, v in raw.items() if v is not None}})
    if "sd-metadata" in texts:
        found = parse_invoke_legacy(_json(texts["sd-metadata"], "sd-metadata", notes), notes)
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
    notes = _Notes()
    c2pa = False
    found: GenerationInfo | None = None
    try:
        if mime in ("image/png", "image/jpeg", "image/webp"):
            texts, c2pa = _image_texts(path, mime, notes)
            found = _pick(texts, notes)
        elif mime.startswith(("audio/", "video/")):
            from studio.media.provenance import read_container_recipe

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
    )


def has_c2pa(path: Path, mime: str) -> bool:
    """Whether the image at ``path`` carries a C2PA manifest (PNG ``caBX``, JPEG APP11
    JUMBF, WebP ``C2PA`` chunk). False when it cannot be read."""
    try:
        with open(path, "rb") as f:
            if mime == "image/png":
                return png_text_chunks(f, _Notes())[1]
            if mime == "image/jpeg":
                return _c2pa_in_jpeg(f)
            if mime == "image/webp":
                return _c2pa_in_riff(f)
    except (OSError, struct.error, ValueError):
        return False
    return False
