"""An offline LiveKit STT: faster-whisper on the CPU with a Whisper model from a PyPI package.

Non-streaming: the session wraps it with its VAD and hands over one utterance at a time. Decoding
runs in a worker thread (CTranslate2 releases the GIL), so the call's event loop keeps moving.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import stt
from livekit.agents.language import LanguageCode
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer, is_given

from agent.speech.config import Language, OfflineSTTSettings, SpeechConfigError
from agent.speech.models import LoadedModel, load_model
from payment_tools.ids import random_hex

SAMPLE_RATE = 16_000
"""The rate Whisper listens at."""

# Whisper mistakes an utterance clipped at its first phoneme for noise; a little silence on both
# sides lifted isolated spoken digits (FSDD) from 43 % to 67 % recognised with "base".
_PAD_S = 0.5
# Greedy first, then two sampled retries when the output loops or is improbable.
_TEMPERATURES = (0.0, 0.4, 0.8)
# Speech rarely exceeds 5 tokens a second: a cap stops a repetition loop from running to 448.
_TOKENS_PER_S = 8


@dataclass(frozen=True, slots=True)
class Recognition:
    """One recognised stretch of speech, times in seconds from the start of the audio."""

    start: float
    end: float
    text: str
    confidence: float


class WhisperSTT(stt.STT[Literal["metrics_collected", "error"]]):
    """Offline speech-to-text for English and French (the latter needs a multilingual model)."""

    def __init__(
        self,
        settings: OfflineSTTSettings | None = None,
        *,
        language: Language = "en",
    ) -> None:
        """Load (or reuse) the configured model; fail now if it cannot hear ``language``."""
        super().__init__(capabilities=stt.STTCapabilities(streaming=False, interim_results=False))
        self._settings = settings or OfflineSTTSettings()
        self._model: LoadedModel = load_model(self._settings)
        self._language: Language = self._check_language(language)

    @property
    def model(self) -> str:
        """The Whisper model's name."""
        return self._model.name

    @property
    def provider(self) -> str:
        """Who runs it: this process."""
        return "faster-whisper"

    @property
    def languages(self) -> tuple[Language, ...]:
        """The call languages the loaded model recognises."""
        return ("en", "fr") if self._model.multilingual else ("en",)

    @property
    def language(self) -> Language:
        """The language it recognises when a recognition names none."""
        return self._language

    def update_options(self, *, language: str) -> None:
        """Recognise ``language`` from the next utterance on (the call changed language).

        Raises:
            SpeechConfigError: the loaded model cannot hear ``language``.
        """
        self._language = self._check_language(language)

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.SpeechEvent:
        lang = self._check_language(language) if is_given(language) else self._language
        samples = frames_to_pcm16k(buffer)
        parts = await asyncio.to_thread(self.transcribe, samples, lang, pad=True)
        text = " ".join(part.text for part in parts)
        confidence = min((part.confidence for part in parts), default=0.0)
        duration = len(samples) / SAMPLE_RATE
        return stt.SpeechEvent(
            type=stt.SpeechEventType.FINAL_TRANSCRIPT,
            request_id=random_hex(16),
            alternatives=[
                stt.SpeechData(
                    language=LanguageCode(lang),
                    text=text,
                    start_time=0.0,
                    end_time=duration,
                    confidence=confidence,
                )
            ],
            recognition_usage=stt.RecognitionUsage(audio_duration=duration),
        )

    def transcribe(
        self,
        samples: npt.NDArray[np.float32],
        language: Language,
        *,
        pad: bool = False,
        segmented: bool = False,
    ) -> list[Recognition]:
        """Recognise 16 kHz mono float samples (blocking).

        Args:
            samples: the audio, -1..1, at :data:`SAMPLE_RATE`.
            language: what is spoken.
            pad: surround a short turn with silence (times stay relative to ``samples``).
            segmented: split at pauses and time each part (always done past 30 s).
        """
        offset = _PAD_S if pad else 0.0
        audio_s = len(samples) / SAMPLE_RATE
        if pad:
            silence = np.zeros(int(_PAD_S * SAMPLE_RATE), dtype=np.float32)
            samples = np.concatenate([silence, samples, silence])
        padded_s = len(samples) / SAMPLE_RATE
        segmented = segmented or padded_s > 30
        settings = self._settings
        segments, _ = self._model.whisper.transcribe(
            samples,
            language=language,
            beam_size=settings.beam_size,
            temperature=list(_TEMPERATURES),
            condition_on_previous_text=False,
            without_timestamps=not segmented,
            vad_filter=segmented,
            max_new_tokens=min(440, math.ceil(min(padded_s, 30) * _TOKENS_PER_S) + 8),
        )
        return [
            Recognition(
                start=min(max(0.0, segment.start - offset), audio_s),
                end=min(max(0.0, segment.end - offset), audio_s),
                text=segment.text.strip(),
                confidence=math.exp(segment.avg_logprob),
            )
            for segment in segments
            if segment.text.strip()
        ]

    def _check_language(self, language: str) -> Language:
        code = language.split("-")[0].lower()
        if code == "en":
            return "en"
        if code == "fr" and self._model.multilingual:
            return "fr"
        raise SpeechConfigError(f"the {self._model.name} model does not recognise {language!r}")


def frames_to_pcm16k(buffer: AudioBuffer) -> npt.NDArray[np.float32]:
    """One mono float32 array at 16 kHz from LiveKit frames of any rate and channel count."""
    frames = buffer if isinstance(buffer, list) else [buffer]
    if not frames:
        return np.zeros(0, dtype=np.float32)
    frame = rtc.combine_audio_frames(frames)
    if frame.sample_rate != SAMPLE_RATE:
        resampler = rtc.AudioResampler(
            frame.sample_rate, SAMPLE_RATE, num_channels=frame.num_channels
        )
        resampled = [*resampler.push(frame), *resampler.flush()]
        if not resampled:
            return np.zeros(0, dtype=np.float32)
        frame = rtc.combine_audio_frames(resampled)
    pcm = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels)
    return np.asarray(pcm.mean(axis=1) / 32768.0, dtype=np.float32)
