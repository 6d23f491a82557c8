"""The core command a forge tray state becomes, its undo step's name, and the estimate
in words (plain data, no Qt; the rules it follows are in ``state``)."""

from __future__ import annotations

from studio.core import commands as c
from studio.core.forge import ForgeOp
from studio.ui.tray.state import (
    MODE_NOUNS,
    STYLE_DEFAULT,
    STYLE_NONE,
    TrayState,
    asset_type_for,
    judge,
    mode_kind,
    quote,
)
from workers.base import CostEstimate, ModelSpec


def generation_options(state: TrayState) -> c.GenerationOptions:
    s = state.settings
    return c.GenerationOptions(
        provider=s.provider,
        model=s.model,
        size=s.size,
        aspect_ratio=s.aspect_ratio,
        duration_s=s.duration_s,
        params=dict(s.params),
        style_id=None if state.style in (STYLE_DEFAULT, STYLE_NONE) else state.style,
        no_style=state.style == STYLE_NONE,
    )


def build_command(
    state: TrayState, model: ModelSpec | None, at: tuple[float, float] = (0.0, 0.0)
) -> c.Command:
    """The core command the tray sends. Raises ValueError (the verdict's reason) when
    the tray can't run."""
    verdict = judge(state, model)
    if verdict.op is None:
        raise ValueError(verdict.message)
    x, y = at
    refs = tuple(s.variant_id for s in state.slots)
    if verdict.op is ForgeOp.FORK:
        return c.ForkVariant(refs[0], x=x, y=y)
    options = generation_options(state)
    prompt = state.prompt.strip()
    kind = c.MediaKindName(mode_kind(state.mode))
    if verdict.op is ForgeOp.REFINE:
        assert state.destination is not None
        dest = state.destination.asset_id
        if state.count == 1:
            return c.RequestRefine(dest, prompt, references=refs, options=options)
        return c.RequestBatch(
            prompt,
            c.MediaKindName(state.destination.media_kind),
            state.count,
            c.BatchMode.EXPLORE,
            asset_id=dest,
            references=refs,
            options=options,
        )
    type_ = asset_type_for(state.mode, state.image_type)
    if state.count == 1:
        return c.RequestGeneration(
            prompt, kind, type=type_, references=refs, options=options, x=x, y=y
        )
    return c.RequestBatch(
        prompt,
        kind,
        state.count,
        c.BatchMode(state.batch_mode),
        type=type_,
        references=refs,
        options=options,
        x=x,
        y=y,
    )


def undo_text(op: ForgeOp, state: TrayState) -> str:
    """The undo step's name."""
    if op is ForgeOp.FORK:
        return f"Fork {quote(state.slots[0].asset_name)}"
    if op is ForgeOp.REFINE:
        assert state.destination is not None
        return f"Refine {quote(state.destination.name)}"
    noun = MODE_NOUNS.get(state.mode, state.mode)
    return f"{'Generate' if op is ForgeOp.GENERATE else 'Derive'} {noun}"


def format_estimate(estimate: CostEstimate, provider: str | None) -> str:
    if estimate.usd <= 0:
        return "free (offline)" if provider in (None, "local") else "free"
    units = f"{estimate.units:g}"
    unit = estimate.unit if estimate.units == 1 else f"{estimate.unit}s"
    return f"\u2248 ${estimate.usd:.4f} \u00b7 {units} {unit}"
