"""Keeps the running session's speech recognition and synthesis in the call's language.

:func:`agent.language.switch_language` emits a ``language`` event when the caller moves the call
to English or French; :func:`follow_language` subscribes to it and retunes, in place, whatever STT
and TTS the session runs: the offline Whisper recogniser and espeak-ng voice, Deepgram's live
recogniser (language and model, which reconnects its open stream), OpenAI's recogniser, and
OpenAI's or Deepgram's voice. The engines are retuned rather than replaced, so an utterance under
way finishes as it started and the next one is heard and spoken in the new language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from livekit.agents import stt, tts
from livekit.plugins import deepgram, openai

from agent.call_context import CallContext
from agent.events import CallEvent
from agent.speech.config import Language, SpeechConfig, SpeechConfigError
from agent.speech.espeak_tts import EspeakTTS
from agent.speech.whisper_stt import WhisperSTT

logger = logging.getLogger(__name__)


class SpeechPipeline(Protocol):
    """What holds the call's engines: an ``AgentSession``, or anything with ``stt`` and ``tts``."""

    @property
    def stt(self) -> stt.STT[Any] | None:
        """The speech recogniser, if any."""
        ...

    @property
    def tts(self) -> tts.TTS[Any] | None:
        """The speech synthesiser, if any."""
        ...


class SpeechLanguage:
    """A call-event listener that retunes a pipeline's STT and TTS on each ``language`` event.

    Args:
        pipeline: the session whose engines are retuned (read at each switch).
        config: the speech configuration (per-language codes and voices).
        language: the language the engines were built for.
    """

    def __init__(self, pipeline: SpeechPipeline, config: SpeechConfig, language: str) -> None:
        self._pipeline = pipeline
        self._config = config
        self.language: Language = "fr" if language == "fr" else "en"

    def __call__(self, event: CallEvent) -> None:
        """Take one call event; only ``language`` events matter."""
        if event.kind == "language":
            self.retune(str(event.data.get("target", "")))

    def retune(self, language: str) -> bool:
        """Move both engines to ``language``; returns whether it was a change.

        The same language, or one the call cannot speak, changes nothing. An engine that cannot
        follow (an English-only Whisper model, no Deepgram voice for the language) keeps its
        language and says so in the log: the call goes on, misheard or in the wrong accent,
        rather than failing.
        """
        if language not in ("en", "fr") or language == self.language:
            return False
        target: Language = "fr" if language == "fr" else "en"
        self.language = target
        config, recogniser, synthesiser = self._config, self._pipeline.stt, self._pipeline.tts
        if recogniser is not None:
            _apply("stt", target, recogniser, lambda: retune_stt(recogniser, target, config))
        if synthesiser is not None:
            _apply("tts", target, synthesiser, lambda: retune_tts(synthesiser, target, config))
        return True


def follow_language(call: CallContext, pipeline: SpeechPipeline) -> SpeechLanguage:
    """Retune ``pipeline``'s STT and TTS whenever ``call`` changes language.

    Args:
        call: the call whose ``language`` events are followed (its settings give the codes and
            voices per language).
        pipeline: the call's session.

    Returns:
        The subscribed listener (its ``language`` is the one the engines were last set to).
    """
    listener = SpeechLanguage(pipeline, call.settings, call.language)
    call.events.subscribe(listener, details=False)
    return listener


def retune_stt(engine: stt.STT[Any], language: Language, config: SpeechConfig) -> bool:
    """Set a recogniser's language; returns ``False`` for an engine it does not know.

    Raises:
        SpeechConfigError: the engine cannot recognise ``language``.
    """
    speech = config.speech
    if isinstance(engine, WhisperSTT):
        engine.update_options(language=language)
    elif isinstance(engine, deepgram.STT):
        # The model is passed again so that the plugin swaps an English-only model for a general
        # one in French, and back to the configured one in English.
        engine.update_options(
            language=speech.deepgram_language(language), model=speech.deepgram_stt_model
        )
    elif isinstance(engine, openai.STT):
        engine.update_options(language=language)
    else:
        return False
    return True


def retune_tts(engine: tts.TTS[Any], language: Language, config: SpeechConfig) -> bool:
    """Set a synthesiser's voice for ``language``; returns ``False`` for an engine it does not know.

    Raises:
        SpeechConfigError: no voice is configured for ``language``.
    """
    speech = config.speech
    if isinstance(engine, EspeakTTS):
        engine.update_options(language=language)
    elif isinstance(engine, openai.TTS):
        engine.update_options(voice=speech.openai_voice(language))
    elif isinstance(engine, deepgram.TTS):
        if language not in speech.deepgram_tts_voices:
            raise SpeechConfigError(f"no Deepgram voice configured for language {language!r}")
        engine.update_options(model=speech.deepgram_tts_voices[language])
    else:
        return False
    return True


def _apply(
    role: str,
    language: Language,
    engine: stt.STT[Any] | tts.TTS[Any],
    retune: Callable[[], bool],
) -> None:
    extra = {"engine": role, "language": language, "provider": engine.provider}
    try:
        retuned = retune()
    except SpeechConfigError as error:
        logger.warning("speech engine kept its language: %s", error, extra=extra)
        return
    if retuned:
        logger.info("speech engine retuned", extra=extra)
    else:
        logger.warning("speech engine cannot change language", extra=extra)
