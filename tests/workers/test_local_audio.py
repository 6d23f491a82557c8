"""local-audio: every type generated, refined and derived, decoded with wave/av."""

from __future__ import annotations

import io
import itertools
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from workers.base import (
    AudioType,
    BasicContext,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    ProviderError,
    SourceMedia,
)
from workers.local import LocalProvider

SR = 44_100
TOL = int(0.02 * SR)  # ±20 ms


def run(
    tmp_path: Path, prompt: str, op: Operation = Operation.GENERATE, **kw: Any
) -> GenerationOutput:
    request = GenerationRequest(
        operation=op, media_kind="audio", prompt=prompt, model="local-audio", **kw
    )
    return LocalProvider().run(request, BasicContext(tmp_path / "ctx"))


def decode(out: GenerationOutput) -> tuple[np.ndarray, int]:
    """(samples, channels) float in [-1, 1] and the channel count."""
    assert out.mime == "audio/wav" and out.ext == "wav" and out.data is not None
    with wave.open(io.BytesIO(out.data)) as w:
        assert w.getsampwidth() == 2 and w.getframerate() == SR
        channels = w.getnchannels()
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2")
    return pcm.reshape(-1, channels).astype(np.float64) / 32768, channels


def centroid(x: np.ndarray) -> float:
    mono = x.mean(axis=1)
    mag = np.abs(np.fft.rfft(mono))
    f = np.fft.rfftfreq(mono.size, 1 / SR)
    return float((mag * f).sum() / mag.sum())


def envelope(x: np.ndarray, hop: int = 2205) -> np.ndarray:
    mono = x.mean(axis=1)
    n = mono.size // hop
    return np.sqrt((mono[: n * hop].reshape(n, hop) ** 2).mean(axis=1))


def bands(x: np.ndarray) -> np.ndarray:
    """Share of energy in 12 log-spaced bands (a coarse spectral fingerprint)."""
    mag = np.abs(np.fft.rfft(x.mean(axis=1))) ** 2
    f = np.fft.rfftfreq(x.shape[0], 1 / SR)
    edges = np.geomspace(40, 16_000, 13)
    e = np.array([mag[(f >= lo) & (f < hi)].sum() for lo, hi in itertools.pairwise(edges)])
    return e / e.sum()


CASES = [
    (AudioType.SFX, "a laser blast", 1),
    (AudioType.MUSIC, "happy upbeat tune", 2),
    (AudioType.SPEECH, "Hello there, traveller. Welcome to the village!", 1),
    (AudioType.DIALOGUE, "A: hello, who goes there?\nB: only a friend.", 2),
]


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> dict[AudioType, np.ndarray]:
    tmp = tmp_path_factory.mktemp("audio")
    return {
        kind: decode(run(tmp, prompt, audio_type=kind, duration_s=3.0))[0]
        for kind, prompt, _ in CASES
    }


@pytest.mark.parametrize(("kind", "prompt", "channels"), CASES)
def test_each_type_has_length_channels_and_sound(
    tmp_path: Path, kind: AudioType, prompt: str, channels: int
) -> None:
    out = run(tmp_path, prompt, audio_type=kind, duration_s=1.5)
    x, ch = decode(out)
    assert ch == channels
    assert abs(x.shape[0] - 1.5 * SR) <= TOL
    assert np.sqrt((x**2).mean()) > 0.02
    assert 0.5 < np.abs(x).max() <= 1.0
    meta = out.provider_metadata
    assert (
        meta["audio_type"] == kind.value
        and meta["channels"] == channels
        and meta["sample_rate"] == SR
    )
    assert (out.units, out.unit) == (1.5, "second")
    assert out.provenance["model"] == "local-audio"


def test_types_sound_different(rendered: dict[AudioType, np.ndarray]) -> None:
    kinds = list(rendered)
    prints = {k: bands(rendered[k]) for k in kinds}
    for i, a in enumerate(kinds):
        for b in kinds[i + 1 :]:
            assert np.abs(prints[a] - prints[b]).sum() > 0.15, (a, b)
    speech_env = envelope(rendered[AudioType.SPEECH])
    music_env = envelope(rendered[AudioType.MUSIC])
    # Speech stops between words; music keeps going.
    assert (speech_env < 0.01).mean() > (music_env < 0.01).mean()


def test_music_is_stereo_and_speech_follows_its_words(
    rendered: dict[AudioType, np.ndarray],
) -> None:
    music = rendered[AudioType.MUSIC]
    assert np.abs(music[:, 0] - music[:, 1]).mean() > 0.001
    dialogue = rendered[AudioType.DIALOGUE]
    # Speaker A sits left, speaker B right: the first line is louder on the left.
    first = dialogue[: SR // 2]
    assert np.abs(first[:, 0]).mean() > np.abs(first[:, 1]).mean()


def test_default_durations_per_type(tmp_path: Path) -> None:
    sfx, _ = decode(run(tmp_path, "coin pickup"))  # no type → sfx
    assert abs(sfx.shape[0] - 2 * SR) <= TOL
    short = run(tmp_path, "Hi.", audio_type=AudioType.SPEECH)
    long = run(
        tmp_path,
        "Hi there. This line is rather longer than the first one.",
        audio_type=AudioType.SPEECH,
    )
    assert 0.5 <= short.units < long.units
    assert abs(decode(long)[0].shape[0] - long.units * SR) <= TOL


@pytest.mark.parametrize("text", ["...?!", "日本語のテキスト", "42"])
def test_speech_of_any_text_is_audible(tmp_path: Path, text: str) -> None:
    x, _ = decode(run(tmp_path, text, audio_type=AudioType.SPEECH))
    assert x.shape[0] >= 0.5 * SR - TOL and np.sqrt((x**2).mean()) > 0.02


def test_music_default_is_fifteen_seconds(tmp_path: Path) -> None:
    out = run(tmp_path, "calm ambient", audio_type=AudioType.MUSIC)
    x, ch = decode(out)
    assert ch == 2 and abs(x.shape[0] - 15 * SR) <= TOL
    assert out.provider_metadata["drums"] is False


def test_deterministic_and_seeded(tmp_path: Path) -> None:
    a = run(tmp_path, "explosion", duration_s=1.0, seed=1)
    b = run(tmp_path, "explosion", duration_s=1.0, seed=1)
    c = run(tmp_path, "explosion", duration_s=1.0, seed=2)
    assert a.data == b.data and a.data != c.data
    m1 = run(tmp_path, "tune", audio_type=AudioType.MUSIC, duration_s=2.0, seed=1)
    assert m1.data == run(tmp_path, "tune", audio_type=AudioType.MUSIC, duration_s=2.0, seed=1).data


def test_voice_choice_sets_pitch(tmp_path: Path) -> None:
    text = "Good morning to you all."
    low, _ = decode(
        run(tmp_path, text, audio_type=AudioType.SPEECH, params={"voice": "low"}, duration_s=2.0)
    )
    high, _ = decode(
        run(tmp_path, text, audio_type=AudioType.SPEECH, params={"voice": "high"}, duration_s=2.0)
    )

    def f0(x: np.ndarray) -> float:
        """The strongest period between 2.5 and 14 ms (autocorrelation)."""
        mono = x[:, 0]
        spec = np.fft.rfft(mono, 2 * mono.size)
        ac = np.fft.irfft(np.abs(spec) ** 2)[: mono.size]
        lo, hi = SR // 400, SR // 70
        return SR / (lo + int(np.argmax(ac[lo:hi])))

    assert f0(low) < f0(high)


def test_sfx_words_pick_effects(tmp_path: Path) -> None:
    laser, _ = decode(run(tmp_path, "laser zap", duration_s=1.0))
    boom, _ = decode(run(tmp_path, "explosion", duration_s=1.0))
    assert centroid(laser) > centroid(boom)  # zaps are bright, booms are low
    assert run(tmp_path, "footsteps", duration_s=1.0).provider_metadata["effects"] == ["footstep"]


# ---- refine and derive from encoded references -------------------------------------


def encode_with_av(path: Path, codec: str, fmt: str, signal: np.ndarray) -> SourceMedia:
    """Write a mono float signal to ``path`` with PyAV (as a user's file would be)."""
    import av

    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=SR, layout="mono")
        sample_fmt = stream.codec_context.codec.audio_formats[0].name
        scale = {"s16": 32767, "s16p": 32767, "s32": 2**31 - 1, "s32p": 2**31 - 1}
        dtype = {"s16": np.int16, "s16p": np.int16, "s32": np.int32, "s32p": np.int32}
        data = signal[None, :] * scale.get(sample_fmt, 1)
        data = data.astype(dtype.get(sample_fmt, np.float32))
        step = 1152
        for start in range(0, signal.size, step):
            chunk = np.ascontiguousarray(data[:, start : start + step])
            frame = av.AudioFrame.from_ndarray(chunk, format=sample_fmt, layout="mono")
            frame.sample_rate = SR
            frame.pts = start
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return SourceMedia(
        path.stem, path, f"audio/{fmt}", "audio", duration_ms=int(signal.size / SR * 1000)
    )


def front_loaded(seconds: float = 1.0) -> np.ndarray:
    """A loud tone for the first 30 %, then near silence."""
    t = np.arange(int(seconds * SR)) / SR
    x = 0.8 * np.sin(2 * np.pi * 440 * t)
    x[t > 0.3 * seconds] *= 0.02
    return x


@pytest.mark.parametrize(
    ("codec", "fmt", "ext"), [("libmp3lame", "mp3", "mp3"), ("flac", "flac", "flac")]
)
def test_refine_reverse_of_encoded_reference(
    tmp_path: Path, codec: str, fmt: str, ext: str
) -> None:
    ref = encode_with_av(tmp_path / f"src.{ext}", codec, fmt, front_loaded())
    out = run(tmp_path, "reverse it", Operation.REFINE, references=(ref,))
    x, ch = decode(out)
    assert ch == 1  # no type → sfx → mono
    assert abs(x.shape[0] - SR) <= int(0.06 * SR)  # the source length (mp3 pads a little)
    env = envelope(x)
    assert env[-5:].mean() > 5 * env[:5].mean()
    assert out.provider_metadata["transforms"] == ["reverse"]


def test_refine_speed_changes_length(tmp_path: Path) -> None:
    ref = encode_with_av(tmp_path / "src.flac", "flac", "flac", front_loaded(2.0))
    faster = run(tmp_path, "faster", Operation.REFINE, references=(ref,))
    slower = run(tmp_path, "slower", Operation.REFINE, references=(ref,))
    assert faster.units < 1.7 < 2.3 < slower.units
    exact = run(tmp_path, "echo, lower pitch", Operation.REFINE, references=(ref,), duration_s=1.0)
    assert abs(decode(exact)[0].shape[0] - SR) <= TOL


def test_refine_wav_keeps_stereo_for_music(tmp_path: Path) -> None:
    song = run(tmp_path, "song", audio_type=AudioType.MUSIC, duration_s=1.0)
    (tmp_path / "song.wav").write_bytes(song.data or b"")
    ref = SourceMedia("song", tmp_path / "song.wav", "audio/wav", "audio")
    out = run(
        tmp_path, "lofi radio", Operation.REFINE, references=(ref,), audio_type=AudioType.MUSIC
    )
    x, ch = decode(out)
    assert ch == 2 and abs(x.shape[0] - SR) <= TOL
    assert centroid(x) < centroid(decode(song)[0])  # band-limited like a radio


def test_derive_chains_or_mixes_references(tmp_path: Path) -> None:
    a = encode_with_av(tmp_path / "a.flac", "flac", "flac", front_loaded(1.0))
    b = encode_with_av(tmp_path / "b.mp3", "libmp3lame", "mp3", front_loaded(0.6))
    chained = run(tmp_path, "first a then b", Operation.DERIVE, references=(a, b))
    mixed = run(tmp_path, "", Operation.DERIVE, references=(a, b))
    assert chained.provider_metadata["mix"] == "chain" and mixed.provider_metadata["mix"] == "mix"
    assert 1.5 < chained.units < 1.7
    assert 0.95 < mixed.units < 1.1
    assert "layer" in chained.provider_metadata and "layer" not in mixed.provider_metadata
    x, _ = decode(chained)
    assert np.sqrt((x**2).mean()) > 0.02


def test_unreadable_audio_reference(tmp_path: Path) -> None:
    (tmp_path / "x.mp3").write_bytes(b"\x00" * 100)
    ref = SourceMedia("x", tmp_path / "x.mp3", "audio/mpeg", "audio")
    with pytest.raises(ProviderError) as err:
        run(tmp_path, "echo", Operation.REFINE, references=(ref,))
    assert err.value.kind is ErrorKind.INVALID_REQUEST and "x.mp3" in err.value.message


def test_refine_takes_the_soundtrack_of_a_video(tmp_path: Path) -> None:
    clip = LocalProvider().run(
        GenerationRequest(
            operation=Operation.GENERATE,
            media_kind="video",
            prompt="tune",
            model="local-video",
            duration_s=1.0,
        ),
        BasicContext(tmp_path / "video"),
    )
    assert clip.path is not None
    ref = SourceMedia("clip", clip.path, "video/mp4", "video")
    out = run(tmp_path, "echo", Operation.REFINE, references=(ref,), audio_type=AudioType.MUSIC)
    x, ch = decode(out)
    assert ch == 2 and x.shape[0] > SR and np.sqrt((x**2).mean()) > 0.02
    silent = LocalProvider().run(
        GenerationRequest(operation=Operation.GENERATE, media_kind="video", prompt="tune", model="local-video",
                          duration_s=1.0, params={"audio": False}),
        BasicContext(tmp_path / "video"),
    )  # fmt: skip
    assert silent.path is not None
    with pytest.raises(ProviderError) as err:
        run(
            tmp_path,
            "echo",
            Operation.REFINE,
            references=(SourceMedia("s", silent.path, "video/mp4", "video"),),
        )
    assert err.value.kind is ErrorKind.INVALID_REQUEST and "no audio" in err.value.message
