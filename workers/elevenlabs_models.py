"""The ElevenLabs models this app offers, with their limits and the dated source of each."""

from __future__ import annotations

import dataclasses

from workers.base import AudioType, Capabilities, ModelSpec, Operation, ParamSpec
from workers.elevenlabs_voices import DEFAULT_VOICE

CHECKED = "2026-11-30"
SDK = "elevenlabs 2.78.0"
# Characters per speech request. v4: 2,000 per a reseller's page (muapi.ai elevenlabs-v4,
# 2026-11-30) — secondary, so the conservative figure is used for both v4 models.
TEXT_LIMITS = {
    "eleven_multilingual_v2": 10_000,
    "eleven_v3": 5_000,
    "eleven_flash_v2_5": 40_000,
    "eleven_v4": 2_000,
    "eleven_v4_turbo": 2_000,
}
# Model ids: the SDK's own enums (elevenlabs 2.78.0 types/sfx_model_id.py,
# types/music_model_id.py, types/tts_conversational_model.py,
# text_to_dialogue_tts_model_id.py), read 2026-11-30.
SDK_TYPES = f"{SDK} types/*_model_id.py"
MUSIC_DEFAULT_S = 30.0
GEN = (Operation.GENERATE,)

VOICE = ParamSpec(
    "voice_id", "str", DEFAULT_VOICE, help="ElevenLabs voice: its id or its name (studio voices)"
)
VOICES = ParamSpec(
    "voices", "str", "", help='Dialogue voices: "Name=voice, Name=voice" (ids or voice names)'
)

SFX_MODEL = ModelSpec(
    id="eleven_text_to_sound_v2",
    label="ElevenLabs sound effects v2",
    media_kind="audio",
    operations=GEN,
    min_duration_s=0.5,
    max_duration_s=30.0,
    audio_types=(AudioType.SFX,),
    params=(
        ParamSpec("prompt_influence", "float", 0.3, minimum=0.0, maximum=1.0),
        ParamSpec("loop", "bool", False, help="Make a seamless loop"),
    ),
    source=SDK_TYPES,
    checked=CHECKED,
)
SPEECH_MODEL = ModelSpec(
    id="eleven_multilingual_v2",
    label="ElevenLabs Multilingual v2 (speech)",
    media_kind="audio",
    operations=GEN,
    audio_types=(AudioType.SPEECH,),
    params=(VOICE,),
    source=SDK_TYPES,
    checked=CHECKED,
)
V3_MODEL = ModelSpec(
    id="eleven_v3",
    label="ElevenLabs v3 (speech, dialogue)",
    media_kind="audio",
    operations=GEN,
    audio_types=(AudioType.SPEECH, AudioType.DIALOGUE),
    params=(VOICE, VOICES),
    source=SDK_TYPES,
    checked=CHECKED,
)
FLASH_MODEL = ModelSpec(
    id="eleven_flash_v2_5",
    label="ElevenLabs Flash v2.5 (speech)",
    media_kind="audio",
    operations=GEN,
    audio_types=(AudioType.SPEECH,),
    params=(VOICE,),
    source=SDK_TYPES,
    checked=CHECKED,
)
MUSIC_MODEL = ModelSpec(
    id="music_v1",
    label="Eleven Music v1",
    media_kind="audio",
    operations=GEN,
    min_duration_s=3.0,
    max_duration_s=600.0,
    default_duration_s=MUSIC_DEFAULT_S,
    audio_types=(AudioType.MUSIC,),
    params=(ParamSpec("force_instrumental", "bool", False, help="No vocals"),),
    source=SDK_TYPES,
    checked=CHECKED,
)
SFX_V3_MODEL = dataclasses.replace(
    SFX_MODEL, id="eleven_text_to_sound_v3", label="ElevenLabs sound effects v3"
)
V4_MODEL = dataclasses.replace(
    SPEECH_MODEL, id="eleven_v4", label="ElevenLabs v4 (speech)", params=(VOICE,)
)
V4_TURBO_MODEL = dataclasses.replace(
    V3_MODEL, id="eleven_v4_turbo", label="ElevenLabs v4 Turbo (speech, dialogue)"
)
MUSIC_V25_MODEL = dataclasses.replace(MUSIC_MODEL, id="music_v2_5", label="Eleven Music v2.5")
CAPABILITIES = Capabilities(
    provider="elevenlabs",
    label="ElevenLabs (sound effects, speech, dialogue, music)",
    # The first of each kind is the default: the models whose limits and prices are
    # documented in the stored sources; the newer ones (same SDK enums) follow.
    models=(
        SFX_MODEL,
        SPEECH_MODEL,
        V3_MODEL,
        FLASH_MODEL,
        MUSIC_MODEL,
        SFX_V3_MODEL,
        V4_MODEL,
        V4_TURBO_MODEL,
        MUSIC_V25_MODEL,
    ),
    needs_key=True,
)
