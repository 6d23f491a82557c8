"""Prompt enhancement through the fake Messages API; the recipe keeps both prompts."""

from __future__ import annotations

import pytest

from studio.assistant.client import ClaudeClient
from studio.assistant.enhance import enhance_prompt
from studio.core import commands as c
from studio.core.errors import StudioError
from studio.core.space import Space
from tests.conftest import OWNER
from tests.fakes.anthropic import AnthropicFake, turn

KEY = "sk-ant-api03-enhance00000000000000000000000000"


def test_a_prompt_is_rewritten_and_the_recipe_records_both(space: Space) -> None:
    with AnthropicFake(KEY) as fake:
        client = ClaudeClient(KEY, base_url=fake.url)
        fake.script("messages", turn("A red kite over  green hills,\nlate golden light."))
        better = enhance_prompt(client, "a red kite")
        assert better == "A red kite over green hills, late golden light."
        body = fake.messages()[0]
        assert (
            body["model"] == "claude-haiku-5-5" and body["messages"][0]["content"] == "a red kite"
        )
        fake.script("messages", turn(""))
        with pytest.raises(StudioError, match="no prompt back"):
            enhance_prompt(client, "a red kite")
    options = c.GenerationOptions(no_style=True, prompt_before="a red kite")
    made = space.apply(c.RequestGeneration(better, c.MediaKindName.IMAGE, options=options), OWNER)
    recipe = space.variant_detail(made.created["variant_id"]).recipe
    assert recipe["prompt"] == better and recipe["prompt_before"] == "a red kite"
    plain = space.apply(
        c.RequestGeneration(
            "a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True)
        ),
        OWNER,
    )
    assert "prompt_before" not in space.variant_detail(plain.created["variant_id"]).recipe
