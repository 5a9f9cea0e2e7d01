"""The call's STT and TTS: LiveKit's cloud plugins when configured, the offline pair otherwise."""

from __future__ import annotations

from typing import Any

from livekit.agents import stt, tts
from livekit.agents.types import NOT_GIVEN

from agent.speech.config import Language, SpeechConfig, stt_provider, tts_provider


def make_stt(config: SpeechConfig, language: Language) -> stt.STT[Any]:
    """The configured speech-to-text for a call in ``language``.

    Deepgram streams with its own PCI redaction on (ours runs on top); OpenAI and the offline
    Whisper are non-streaming and need the session's VAD.

    Raises:
        SpeechConfigError: the chosen service has no key, or the offline model cannot hear
            ``language``.
    """
    speech = config.speech
    provider = stt_provider(config)
    if provider == "deepgram":
        from livekit.plugins import deepgram

        key = config.deepgram_key
        assert key is not None
        return deepgram.STT(
            model=speech.deepgram_stt_model,
            language=speech.deepgram_language(language),
            numerals=True,
            redact=["pci"],
            api_key=key.get_secret_value(),
            base_url=speech.deepgram_base_url.rstrip("/") + "/v1/listen",
        )
    if provider == "openai":
        from livekit.plugins import openai

        key = config.openai_key
        assert key is not None
        return openai.STT(
            model=speech.openai_stt_model,
            language=language,
            api_key=key.get_secret_value(),
            base_url=speech.openai_base_url or NOT_GIVEN,
        )
    from agent.speech.whisper_stt import WhisperSTT

    return WhisperSTT(speech.offline_stt, language=language)


def make_tts(config: SpeechConfig, language: Language = "en") -> tts.TTS[Any]:
    """The configured text-to-speech for a call in ``language``.

    Raises:
        SpeechConfigError: the chosen service has no key or no voice for ``language``, or
            espeak-ng is not installed.
    """
    speech = config.speech
    provider = tts_provider(config, language)
    if provider == "openai":
        from livekit.plugins import openai

        key = config.openai_key
        assert key is not None
        return openai.TTS(
            model=speech.openai_tts_model,
            voice=speech.openai_voice(language),
            api_key=key.get_secret_value(),
            base_url=speech.openai_base_url or NOT_GIVEN,
        )
    if provider == "deepgram":
        from livekit.plugins import deepgram

        key = config.deepgram_key
        assert key is not None
        return deepgram.TTS(
            model=speech.deepgram_tts_voices[language],
            api_key=key.get_secret_value(),
            base_url=speech.deepgram_base_url.rstrip("/") + "/v1/speak",
        )
    from agent.speech.espeak_tts import EspeakTTS

    return EspeakTTS(speech.offline_tts, language=language)
