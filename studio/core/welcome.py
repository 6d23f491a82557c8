"""The "Welcome" space a new user finds on first start, filled by the offline provider."""

from __future__ import annotations

from studio.core import commands as c
from studio.core import settings
from studio.core.actor import Actor
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.library import SpaceEntry

WELCOME_DONE_KEY = settings.WELCOME_DONE

_IMAGE = c.MediaKindName.IMAGE
_AUDIO = c.MediaKindName.AUDIO
_VIDEO = c.MediaKindName.VIDEO

# (prompt, kind, type, name, x, y, options)
_STARTERS: tuple[tuple[str, c.MediaKindName, str, str, float, float, c.GenerationOptions], ...] = (
    (
        "a friendly robot character, portrait, teal and orange",
        _IMAGE,
        "character",
        "Robot",
        40,
        80,
        c.GenerationOptions(size="512"),
    ),
    (
        "a cozy cabin in a snowy forest at night",
        _IMAGE,
        "scene",
        "Cabin",
        320,
        80,
        c.GenerationOptions(size="512", aspect_ratio="4:3"),
    ),
    (
        "a golden key, item icon",
        _IMAGE,
        "item",
        "Golden key",
        600,
        80,
        c.GenerationOptions(size="512"),
    ),
    (
        "a wooden door creaking open",
        _AUDIO,
        "sfx",
        "Door creak",
        40,
        360,
        c.GenerationOptions(duration_s=2.0),
    ),
    (
        "upbeat chiptune adventure theme",
        _AUDIO,
        "music",
        "Theme",
        320,
        360,
        c.GenerationOptions(duration_s=8.0),
    ),
    (
        "a paper boat drifting on a calm river at sunset",
        _VIDEO,
        "animation",
        "Paper boat",
        600,
        360,
        c.GenerationOptions(duration_s=3.0),
    ),
)


def create_welcome_space(studio: Studio, actor: Actor) -> SpaceEntry:
    """Create the Welcome space and queue its starter generations (the app's scheduler
    then fills them). Marks the library so it happens once."""
    entry = studio.create_space("Welcome")
    with studio.open_space(entry.slug) as space:
        fill_welcome(space, actor)
    settings.put(studio.library, WELCOME_DONE_KEY, "1")
    return entry


def fill_welcome(space: Space, actor: Actor) -> None:
    space.apply(
        c.CreateFrame(
            "Start here: drop files, generate, drag to arrange", 0, 0, 900, 620, color="#3a7bd5"
        ),
        actor,
    )
    for prompt, kind, type_, name, x, y, opts in _STARTERS:
        space.apply(
            c.RequestGeneration(prompt, kind, type=type_, name=name, x=x, y=y, options=opts),
            actor,
        )


def needs_welcome(studio: Studio) -> bool:
    return studio.library.setting(WELCOME_DONE_KEY) is None and not studio.spaces()
