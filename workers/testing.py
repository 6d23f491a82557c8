"""A scripted provider for tests and benchmarks: fixed latency, scripted failures,
tiny real media. Never registered in the app."""

from __future__ import annotations

import io
import threading
import time
from collections import deque
from collections.abc import Iterable

from workers.base import (
    ASPECT_RATIOS,
    Capabilities,
    CostEstimate,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    ProviderError,
    RunContext,
    validate_common,
)

ALL_OPS = (Operation.GENERATE, Operation.DERIVE, Operation.REFINE)


def tiny_png(seed: int, size: tuple[int, int] = (8, 8)) -> bytes:
    from PIL import Image

    colour = (seed * 37 % 256, seed * 91 % 256, seed * 53 % 256)
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, "PNG")
    return buf.getvalue()


class ScriptedProvider:
    """Returns an 8×8 PNG after ``latency_s`` (wall clock, cancellable). ``script`` is
    consumed one item per run: a ProviderError to raise, or None to succeed."""

    def __init__(
        self,
        name: str = "scripted",
        *,
        latency_s: float = 0.0,
        script: Iterable[ProviderError | None] = (),
        max_references: int = 4,
        cost_usd: float = 0.01,
    ) -> None:
        self.name = name
        self.latency_s = latency_s
        self.script: deque[ProviderError | None] = deque(script)
        self.cost_usd = cost_usd
        self.requests: list[GenerationRequest] = []
        self.concurrent = 0
        self.max_concurrent = 0
        self._lock = threading.Lock()
        self._caps = Capabilities(
            provider=name,
            label=f"Scripted ({name})",
            models=(
                ModelSpec(
                    id="scripted-image",
                    label="Scripted image",
                    media_kind="image",
                    operations=ALL_OPS,
                    max_references=max_references,
                    sizes=("small",),
                    aspect_ratios=ASPECT_RATIOS,
                ),
            ),
        )

    def capabilities(self) -> Capabilities:
        return self._caps

    def validate(self, request: GenerationRequest) -> None:
        validate_common(self._caps, request)

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        return CostEstimate(self.cost_usd, 1, "image")

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        with self._lock:
            self.requests.append(request)
            self.concurrent += 1
            self.max_concurrent = max(self.max_concurrent, self.concurrent)
            step = self.script.popleft() if self.script else None
        try:
            if self.latency_s:
                if self.latency_s < 0.05:
                    time.sleep(self.latency_s)
                else:
                    context.sleep(self.latency_s)
            context.progress(1.0, "done")
            if step is not None:
                raise step
            return GenerationOutput(
                mime="image/png",
                ext="png",
                data=tiny_png(request.seed),
                provider_metadata={"model": request.model, "seed": request.seed},
                provenance={"provider": self.name},
            )
        finally:
            with self._lock:
                self.concurrent -= 1
