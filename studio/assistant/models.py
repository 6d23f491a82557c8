"""Claude's model id and the limits the assistant keeps to, each with its source.

Checked 2026-12-01:
- Model ids: the ``ModelParam`` literal of the anthropic SDK 2.14.0 installed here
  (``anthropic/types/model_param.py``) lists ``claude-sonnet-5-5``, ``claude-haiku-5-5``
  and ``claude-opus-5-5`` as the newest of each family.
- Images (platform.claude.com/docs/en/build-with-claude/vision): at most 8000 px a side
  (2000 px when a request holds more than 20 images), 5 MB each; a long edge over
  1568 px is scaled down by the API anyway, so we send at most 1568 px.
- Errors (platform.claude.com/docs/en/api/errors): 429 ``rate_limit_error`` with
  ``retry-after``; 529 ``overloaded_error``; 401 ``authentication_error``.
"""

from __future__ import annotations

DEFAULT_MODEL = "claude-sonnet-5-5"
FAST_MODEL = "claude-haiku-5-5"  # prompt enhancement: short, cheap
MAX_TOKENS = 4096
IMAGE_LONG_EDGE = 1568
IMAGE_MAX_EDGE = 8000
IMAGE_MAX_EDGE_MANY = 2000
IMAGE_MAX_BYTES = 5 * 1024 * 1024
MAX_IMAGES_PER_REQUEST = 20  # we stay at or under it, so the 8000 px limit holds
VIDEO_FRAMES = 3
TIMEOUT_S = 60.0
MAX_TOOL_ROUNDS = 8
"""Tool calls answered per message before the assistant must reply in words."""
