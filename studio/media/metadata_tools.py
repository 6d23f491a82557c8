"""Parsers of other tools' generation metadata: AUTOMATIC1111/Forge ``parameters``,
ComfyUI ``prompt``/``workflow`` graphs, InvokeAI ``invokeai_metadata`` and legacy
``sd-metadata``, and Forge Studio's own exported recipe."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Mapping
from typing import Any

from studio.media.metadata_values import (
    MAX_VALUE_CHARS,
    GenerationInfo,
    Notes,
    bounded,
    cut_text,
    read_json,
)

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


MAX_PARAMETERS_TEXT = 200_000


def _cut_keeping_last_line(text: str, notes: Notes) -> str:
    """The parameters text cut to :data:`MAX_PARAMETERS_TEXT` characters; its last line
    (the ``Key: value`` pairs) is kept when it is short, however long the prompt."""
    if len(text) <= MAX_PARAMETERS_TEXT:
        return text
    head, _, last = text.rpartition("\n")
    if not head or len(last) > MAX_VALUE_CHARS:
        return cut_text(text, "the parameters text", notes, MAX_PARAMETERS_TEXT)
    notes.add(
        f"the parameters text was {len(text)} characters long; kept the first "
        f"{MAX_PARAMETERS_TEXT} and its last line"
    )
    return head[: MAX_PARAMETERS_TEXT - len(last) - 1] + "\n" + last


def parse_a1111(text: str, notes: Notes) -> GenerationInfo | None:
    """The ``parameters`` text: prompt lines, ``Negative prompt:`` lines, then one line
    of ``Key: value`` pairs (``Steps``, ``Sampler``, ``Seed``, ``Size: WxH``…)."""
    text = _cut_keeping_last_line(text.replace("\r\n", "\n").strip(), notes)
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
    parameters: dict[str, Any] = {k: _number(cut_text(v, k, notes)) for k, v in params.items()}
    size = re.fullmatch(r"(\d{1,6})x(\d{1,6})", str(params.get("Size", "")))
    if size:
        parameters["width"], parameters["height"] = int(size.group(1)), int(size.group(2))
    if not params and not negative_lines:
        return None  # plain text is not a generation record
    return GenerationInfo(
        source_tool="automatic1111",
        prompt=cut_text("\n".join(prompt_lines).strip(), "the prompt", notes),
        negative_prompt=cut_text("\n".join(negative_lines).strip(), "the negative prompt", notes),
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


def parse_comfy_prompt(graph: Any, notes: Notes) -> GenerationInfo | None:
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
        prompt=cut_text("\n".join(positive), "the prompt", notes),
        negative_prompt=cut_text("\n".join(negative), "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


def parse_comfy_workflow(workflow: Any, notes: Notes) -> GenerationInfo | None:
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
        prompt=cut_text(positive, "the prompt", notes),
        negative_prompt=cut_text(negative, "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


# --------------------------------------------------------------------------- InvokeAI


def parse_invoke(meta: Any, notes: Notes) -> GenerationInfo | None:
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
        prompt=cut_text(positive if isinstance(positive, str) else "", "the prompt", notes),
        negative_prompt=cut_text(
            negative if isinstance(negative, str) else "", "the negative prompt", notes
        ),
        parameters=bounded(params, notes, "the parameters"),
    )


def parse_invoke_legacy(meta: Any, notes: Notes) -> GenerationInfo | None:
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
        prompt=cut_text(prompt if isinstance(prompt, str) else "", "the prompt", notes),
        negative_prompt=cut_text(negative, "the negative prompt", notes),
        parameters=bounded(params, notes, "the parameters"),
    )


# --------------------------------------------------------------------------- ours


_XMP_RECIPE = re.compile(r"<forge:recipe>(.*?)</forge:recipe>", re.S)
_XMP_RECIPE_ATTR = re.compile(r'forge:recipe="([^"]*)"')


def recipe_from_xmp(xmp: str) -> str | None:
    m = _XMP_RECIPE.search(xmp) or _XMP_RECIPE_ATTR.search(xmp)
    return html.unescape(m.group(1)) if m else None


def parse_forge(text: str, notes: Notes) -> GenerationInfo | None:
    """Our own export: ``{"app": "forge-studio", "recipe": {…}, "lineage": […], …}``."""
    obj = read_json(text, "the Forge Studio recipe", notes)
    if not isinstance(obj, Mapping) or obj.get("app") != "forge-studio":
        return None
    recipe = obj.get("recipe") if isinstance(obj.get("recipe"), Mapping) else {}
    assert isinstance(recipe, Mapping)
    prompt = recipe.get("prompt")
    params = recipe.get("parameters")
    return GenerationInfo(
        source_tool="forge-studio",
        prompt=cut_text(prompt if isinstance(prompt, str) else "", "the prompt", notes),
        negative_prompt=cut_text(
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
