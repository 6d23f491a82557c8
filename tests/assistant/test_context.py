"""What Claude is told first stays small however big the space is: counts, not rows."""

from __future__ import annotations

import json

from studio.assistant import context
from studio.core import commands as c
from studio.core.space import Space
from tests.conftest import OWNER
from tests.sql import write

ASSETS = 10_000


def test_a_space_of_ten_thousand_assets_fits_in_a_small_summary(space: Space) -> None:
    space.apply(c.CreateAsset("Seed", c.MediaKindName.IMAGE), OWNER)
    # seeded behind the door: the door's layout of 10,000 new cards is not what is tested
    write(
        space,
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?) "
        "INSERT INTO assets (id, slug, name, type, media_kind, tags, created_at, updated_at) "
        "SELECT 'a' || i, 'asset-' || i, 'Asset ' || i, 'type' || (i % 40), "
        "CASE i % 3 WHEN 0 THEN 'image' WHEN 1 THEN 'audio' ELSE 'video' END, "
        "json_array('tag' || (i % 500), 'set' || (i % 7)), i, i FROM n",
        (ASSETS - 1,),
    )
    system = context.system_blocks(space, "Big", actor=True)
    tools = context.tool_list(actor=True)
    facts = json.loads(system[1]["text"].split("\n", 1)[1])
    assert facts["assets"] == ASSETS and sum(facts["by_kind"].values()) == ASSETS
    assert len(facts["top_tags"]) == 12 and len(facts["by_type"]) == 12
    size = len(json.dumps(system)) + len(json.dumps(tools))
    assert size < 16_000, size  # ~4k tokens, whatever the space's size
