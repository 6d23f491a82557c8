"""No key ever leaks: keys of every shape, echoed back by hostile gateways in headers,
JSON fields, enum values and long error bodies at every offset, reach no file under the
studio home (space DB, jobs table, change log, library, media), no log record, no
warning, no stdout or stderr — not whole, and not as any piece of 8 characters or more.

The real SDKs are driven against the fakes on 127.0.0.1, the jobs run through the
scheduler, and the CLI runs in a subprocess.
"""

from __future__ import annotations

import _warnings
import io
import logging
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from tests.fakes import echo as e
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.google import GoogleFake
from tests.workers.cloud_helpers import QUICK, generate, options
from workers.base import MAX_ERROR_MESSAGE, BasicContext, ErrorKind, ProviderError
from workers.elevenlabs import ElevenLabsProvider, map_api_error
from workers.gemini import GeminiProvider
from workers.google_common import from_status
from workers.local import LocalProvider
from workers.lyria import LyriaProvider
from workers.redaction import MIN_FRAGMENT, REDACTED, clip, install, redact, register
from workers.registry import ProviderRegistry
from workers.veo import VeoProvider

ROOT = Path(__file__).resolve().parents[2]
SHAPES = e.key_shapes()
CUTS = (200, 500, MAX_ERROR_MESSAGE)


def _leaks(text: str | bytes, *keys: str) -> list[str]:
    found = []
    for key in keys:
        found += e.leaks(text, key) + e.leaks(text, key.upper())
    return found


def _straddling(key: str) -> list[int]:
    """Offsets that put the key across each cut (half on each side), and at the start."""
    return [0, *(max(0, cut - len(key) // 2) for cut in CUTS)]


@pytest.fixture(autouse=True)
def _registered() -> None:
    for key in SHAPES.values():
        register(key)


# ------------------------------------------------------------------ the function itself


def _offsets(key: str, every: bool) -> list[int]:
    """Every offset that puts the key across a cut (or at its edge), and every 5th
    elsewhere; with ``every``, each offset up to 2200."""
    if every:
        return list(range(0, 2200))
    near = {o for cut in CUTS for o in range(cut - len(key) - 2, cut + 3)}
    return sorted({o for o in near if o >= 0} | set(range(0, 1100, 5)))


def _check_offsets(key: str, offsets: list[int]) -> None:
    for offset in offsets:
        text = e.padded(key, offset, max(1200, offset + len(key) + 200))
        assert _leaks(redact(text), key) == [], offset
        for cut in CUTS[:-1]:
            assert _leaks(clip(text, cut), key) == [], (offset, cut)
        message = ProviderError(ErrorKind.INVALID_REQUEST, text).message  # cut at the last
        assert len(message) <= MAX_ERROR_MESSAGE and message.endswith("…")
        assert _leaks(message, key) == [], offset


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_keys_across_every_cut_leave_no_piece(shape: str) -> None:
    _check_offsets(SHAPES[shape], _offsets(SHAPES[shape], every=False))


@pytest.mark.slow
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_keys_at_every_offset_leave_no_piece(shape: str) -> None:
    _check_offsets(SHAPES[shape], _offsets(SHAPES[shape], every=True))


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_provider_error_mappers_redact_before_they_cut(shape: str) -> None:
    """ElevenLabs' and Google's error mappers, fed whole bodies with the key anywhere
    (ElevenLabs used to cut the body to 500 characters before redacting)."""
    key = SHAPES[shape]
    for offset in _offsets(key, every=False):
        text = e.padded(key, offset, 1200)
        got = [
            map_api_error(400, {"detail": {"status": "bad", "message": text}}, {}),
            map_api_error(500, text, {}),
            from_status("gemini", 400, "INVALID_ARGUMENT", text),
        ]
        for err in got:
            assert _leaks(err.message, key) == [], (offset, err.message)


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_disguised_and_partial_keys_are_found(shape: str) -> None:
    key = SHAPES[shape]
    pieces = [
        *e.disguises(key),
        key[: len(key) * 2 // 3],  # a long prefix
        key[len(key) // 3 :],  # a long suffix
        '{"apiKey": "' + key.replace("/", "\\/") + '"}',  # JSON-escaped
    ]
    for piece in pieces:
        if len(piece) < MIN_FRAGMENT:
            continue  # shorter pieces of a short key can't be told from ordinary text
        out = redact(f"the gateway said: {piece} (400)")
        assert _leaks(out, key) == [], (piece, out)
        assert REDACTED in out and out.startswith("the gateway said: ")


def test_a_secret_passed_in_is_redacted_even_when_unregistered() -> None:
    key = "zQ4" + os.urandom(12).hex()
    assert redact(f"x {key} y", [key]) == f"x {REDACTED} y"
    assert redact(f"x {key[:9]}", [key]) == f"x {REDACTED}"


def test_ordinary_text_is_left_alone() -> None:
    texts = [
        "HTTP Request: POST http://127.0.0.1:5555/v1beta/models/gemini-2.5-flash-image:"
        'generateContent "HTTP/1.1 200 OK"',
        "gemini: API key not valid. Please pass a valid API key. (400 INVALID_ARGUMENT)",
        "elevenlabs: Too many concurrent requests for your plan. (429 too_many_requests)",
        "variant 0f3c2a1e-5b7d-4c1a-9e2f-3a4b5c6d7e8f failed after 3 attempts",
    ]
    for text in texts:
        assert redact(text) == text


# ------------------------------------------------------------------ logs, warnings, tracebacks


def test_every_logger_loses_the_key_in_messages_and_tracebacks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    key = SHAPES["eleven-hex"]
    caplog.set_level(logging.DEBUG)
    own = io.StringIO()
    lonely = logging.getLogger("some.library.without.handlers")
    handler = logging.StreamHandler(own)
    lonely.addHandler(handler)
    try:
        logging.getLogger("studio.jobs.scheduler").warning("job failed: %s", e.padded(key, 190))
        lonely.error("echo %r", {"key": key})
        try:
            raise RuntimeError(f"boom {key}")
        except RuntimeError:
            logging.getLogger("google_genai.models").exception("call failed")
        logging.getLogger("elsewhere").info("where %s", key, stack_info=True)
    finally:
        lonely.removeHandler(handler)
    assert "boom [redacted]" in caplog.text and "job failed" in caplog.text
    assert _leaks(caplog.text, key) == [] and _leaks(own.getvalue(), key) == []


def test_warnings_are_redacted_when_made_recorded_and_shown() -> None:
    key = SHAPES["gemini"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.warn(f"{key} is not a valid FinishReason", stacklevel=1)
        warnings.warn(UserWarning(f"field {key!r}"), stacklevel=1)
        warnings.warn_explicit(f"explicit {key}", UserWarning, "sdk.py", 7)
    assert len(caught) == 3
    assert all(_leaks(str(w.message), key) == [] for w in caught)
    assert str(caught[0].message) == f"{REDACTED} is not a valid FinishReason"
    assert caught[0].filename == __file__  # the caller, not the redacting wrapper
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _warnings.warn(f"from C: {key}", UserWarning)  # as pydantic-core warns
    assert [str(w.message) for w in caught] == [f"from C: {REDACTED}"]
    # shown on stderr: see test_the_cli_prints_and_stores_no_key (a real process)


def test_an_uncaught_traceback_is_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SHAPES["anthropic"]
    monkeypatch.setattr(sys, "excepthook", sys.__excepthook__)
    install(excepthook=True)
    try:
        raise ValueError(f"gateway answered {key}")
    except ValueError as exc:
        sys.excepthook(type(exc), exc, exc.__traceback__)
    err = capsys.readouterr().err
    assert "ValueError: gateway answered [redacted]" in err and _leaks(err, key) == []


def test_an_exception_python_could_not_raise_is_reported_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SHAPES["gemini"]
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    install(excepthook=True)

    class Session:
        def __del__(self) -> None:
            raise RuntimeError(f"closing the session for {key}")

    Session()  # dropped at once: __del__ raises where nobody can catch it
    err = capsys.readouterr().err
    assert "closing the session for [redacted]" in err and _leaks(err, key) == []


def test_a_thread_ended_by_an_exception_is_reported_redacted(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    key = SHAPES["custom"]
    monkeypatch.setattr(threading, "excepthook", threading.__excepthook__)
    install(excepthook=True)

    def body() -> None:
        raise RuntimeError(f"sdk thread saw {key}")

    thread = threading.Thread(target=body, name="sdk-worker")
    thread.start()
    thread.join(10)
    err = capsys.readouterr().err
    assert "Exception in thread sdk-worker" in err and "saw [redacted]" in err
    assert _leaks(err, key) == []


def test_progress_messages_and_provider_errors_made_anywhere_are_redacted(tmp_path: Path) -> None:
    key = SHAPES["eleven-sk"]
    seen: list[str] = []
    ctx = BasicContext(tmp_path / "ctx", on_progress=lambda f, m: seen.append(m))
    ctx.progress(0.5, f"gateway status: {key}")
    assert seen == [f"gateway status: {REDACTED}"]
    err = ProviderError(ErrorKind.AUTH, f"refused\n  {key[:20]}\n  {key[20:]}")
    assert err.message == f"refused {REDACTED}" and str(err) == err.message


def test_a_keyring_error_quoting_the_key_is_redacted_before_it_is_cut() -> None:
    """The key store cuts a backend's reason to 120 characters: after redacting."""
    from keyring.errors import KeyringError

    from studio.keys import KeyStore, KeyStoreError
    from tests.workers.cloud_helpers import MemoryKeyring, using_keyring

    class Echoing(MemoryKeyring):
        offset = 0

        def set_password(self, service: str, username: str, password: str) -> None:
            raise KeyringError(e.padded(password, self.offset, 300))

    backend = Echoing()
    for shape in ("gemini", "anthropic", "eleven-hex"):
        key = SHAPES[shape]
        for offset in range(60, 125):
            backend.offset = offset
            with using_keyring(backend), pytest.raises(KeyStoreError) as info:
                KeyStore(env={}).set("gemini", key)
            assert "KeyringError" in str(info.value)
            assert _leaks(str(info.value), key) == [], (shape, offset)


# ------------------------------------------------------------------ through the scheduler


def _files_leak(home: Path, *keys: str) -> dict[str, list[str]]:
    found = {}
    files = [p for p in home.rglob("*") if p.is_file()]
    assert files
    for path in files:
        hits = _leaks(path.read_bytes(), *keys)
        if hits:
            found[str(path.relative_to(home))] = hits
    return found


@pytest.fixture
def fakes() -> Iterator[Callable[[str, str], tuple[GoogleFake, ElevenLabsFake]]]:
    started: list[GoogleFake | ElevenLabsFake] = []

    def start(google_key: str, eleven_key: str) -> tuple[GoogleFake, ElevenLabsFake]:
        google, eleven = GoogleFake(google_key).start(), ElevenLabsFake(eleven_key).start()
        started.extend((google, eleven))
        return google, eleven

    yield start
    for fake in started:
        fake.stop()


def _script(
    google: GoogleFake, eleven: ElevenLabsFake, offsets: list[int], gk: str, ek: str
) -> dict[str, int]:
    """Hostile answers on every route; returns how many jobs each provider needs."""
    google.script("generateContent", e.gemini_image(gk), e.gemini_no_image(gk, offsets[-1]))
    google.script("generateContent", *(e.google_error(gk, o) for o in offsets))
    google.script(
        "predictLongRunning",
        e.veo_done(gk, "clip1"),
        e.veo_failed(gk, offsets[1]),
        e.google_error(gk, offsets[2], 403),
    )
    google.script("download", e.mp4())
    google.script(
        "interactions",
        e.lyria_song(gk),
        e.lyria_failed(gk, offsets[1]),
        e.google_error(gk, offsets[-1], 403),
    )
    eleven.script("sfx", e.eleven_audio(ek), *(e.eleven_error(ek, o) for o in offsets))
    eleven.script(
        "sfx",
        e.eleven_plain_error(ek, offsets[1]),
        e.eleven_validation(ek, offsets[2]),
        *(e.eleven_not_audio(ek, o) for o in offsets),
    )
    return {
        "gemini": 2 + len(offsets),
        "veo": 3,
        "lyria": 3,
        "elevenlabs": 3 + 2 * len(offsets),
    }


def _run_hostile(
    home: Path, google: GoogleFake, eleven: ElevenLabsFake, jobs: dict[str, int]
) -> list[tuple[str, str]]:
    """One job per hostile answer, run through the scheduler; (status, error) per job."""
    gk, ek = google.api_key, eleven.api_key
    registry = ProviderRegistry(
        [
            LocalProvider(),
            GeminiProvider(gk, base_url=google.url, timeout_s=5),
            VeoProvider(gk, base_url=google.url, timeout_s=5, poll_s=0.02),
            LyriaProvider(gk, base_url=google.url, timeout_s=5),
            ElevenLabsProvider(ek, base_url=eleven.url, timeout_s=5),
        ]
    )
    kinds = {  # media kind, asset type, options
        "gemini": ("image", "", {}),
        "veo": ("video", "", {"duration_s": 4.0}),
        "lyria": ("audio", "music", {}),
        "elevenlabs": ("audio", "sfx", {}),
    }
    with Studio(home, providers=registry) as studio:
        entry = studio.create_space("Leaks")
        with studio.open_space(entry.slug) as space:
            for provider, count in jobs.items():
                kind, asset_type, extra = kinds[provider]
                for i in range(count):
                    opts = options(provider, **extra)
                    generate(space, f"thing {i}", kind, opts, type=asset_type)
            scheduler = Scheduler(space, InlineExecutor(), config=QUICK, usage=studio.library)
            try:
                assert scheduler.run_until_idle(timeout_s=60)
            finally:
                scheduler.close()
            return [(j.status, j.error_message or "") for j in space.jobs(limit=1000)]


PAIRS = [("gemini", "eleven-hex"), ("anthropic", "eleven-sk"), ("custom", "custom-short")]


@pytest.mark.parametrize(("google_shape", "eleven_shape"), PAIRS)
def test_hostile_gateways_leave_no_key_anywhere(
    tmp_path: Path,
    fakes: Callable[[str, str], tuple[GoogleFake, ElevenLabsFake]],
    google_shape: str,
    eleven_shape: str,
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
    capsys: pytest.CaptureFixture[str],
) -> None:
    gk, ek = SHAPES[google_shape], SHAPES[eleven_shape]
    caplog.set_level(logging.DEBUG)
    warnings.simplefilter("always")
    google, eleven = fakes(gk, ek)
    offsets = sorted({*_straddling(gk), *_straddling(ek)})[:5]
    jobs = _script(google, eleven, offsets, gk, ek)
    results = _run_hostile(tmp_path / "home", google, eleven, jobs)
    _check_nothing_leaked(tmp_path / "home", gk, ek, google, eleven, results, caplog, recwarn)
    out, err = capsys.readouterr()
    assert _leaks(out + err, gk, ek) == []


def _check_nothing_leaked(
    home: Path,
    gk: str,
    ek: str,
    google: GoogleFake,
    eleven: ElevenLabsFake,
    results: list[tuple[str, str]],
    caplog: pytest.LogCaptureFixture,
    recwarn: pytest.WarningsRecorder,
) -> None:
    statuses = sorted({status for status, _ in results})
    assert statuses == ["failed", "succeeded"], results
    failures = [m for status, m in results if status == "failed"]
    assert len(failures) >= 8 and sum(REDACTED in m for m in failures) >= 6, failures
    # the hostile answers really were served, to callers holding the keys
    assert {r.headers.get("x-goog-api-key") for r in google.requests} == {gk}
    assert {r.headers.get("xi-api-key") for r in eleven.requests} == {ek}
    assert any("is not a valid" in str(w.message) for w in recwarn.list)  # enum echoes
    assert "HTTP Request" in caplog.text
    assert _files_leak(home, gk, ek) == {}
    assert _leaks(caplog.text, gk, ek) == []
    assert [str(w.message) for w in recwarn.list if _leaks(str(w.message), gk, ek)] == []


# ------------------------------------------------------------------ the CLI, in a subprocess


def test_the_cli_prints_and_stores_no_key(
    tmp_path: Path,
    fakes: Callable[[str, str], tuple[GoogleFake, ElevenLabsFake]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    gk, ek = SHAPES["gemini"], SHAPES["eleven-sk"]
    google, eleven = fakes(gk, ek)
    google.script("generateContent", e.gemini_image(gk), e.google_error(gk, 200 - 20))
    eleven.script("sfx", e.eleven_not_audio(ek, 200 - 25))
    home = tmp_path / "home"
    env = {
        **os.environ,
        "GEMINI_API_KEY": gk,
        "ELEVENLABS_API_KEY": ek,
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
        "PYTHONPATH": str(ROOT),
        "PYTHONWARNINGS": "default",
    }

    def studio(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "studio", "--home", str(home), *args],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=120,
        )

    with Studio(
        home, providers=build_providers
    ) as setup:  # the space and the gateways' URLs (no key involved)
        setup.create_space("Leak")
        setup.library.set_setting("providers.gemini.base_url", google.url)
        setup.library.set_setting("providers.elevenlabs.base_url", eleven.url)
    sfx = ("--kind", "audio", "--type", "sfx", "--provider", "elevenlabs", "--wait")
    runs = [
        studio("generate", "leak", "a cat", "--provider", "gemini", "--wait"),
        studio("generate", "leak", "a dog", "--provider", "gemini", "--wait"),
        studio("generate", "leak", "a door slams", *sfx),
    ]
    # the log shows what the space stored: read here (no key in this process's
    # environment, and no interpreter start)
    from studio.cli.main import main

    capsys.readouterr()
    code = main(["--home", str(home), "log", "leak", "--json"])
    out, err = capsys.readouterr()
    runs.append(subprocess.CompletedProcess(["log"], code, out, err))
    assert [r.returncode for r in runs] == [0, 1, 1, 0], [r.stderr for r in runs]
    assert "is not a valid" in runs[0].stderr  # the SDK's enum warning, shown redacted
    assert REDACTED in runs[1].stderr and REDACTED in runs[2].stderr
    assert "job:fail" in runs[3].stdout
    generated = [r for r in google.requests if r.route != "models"]  # models.list: no prompt
    sounds = [r for r in eleven.requests if r.route != "voices"]  # the voice list: no prompt
    assert len(generated) == 2 and len(sounds) == 1
    for run in runs:
        assert _leaks(run.stdout + run.stderr, gk, ek) == [], run.args
    assert _files_leak(home, gk, ek) == {}
