"""The simulated caller's audio: synthesised speech, recorded clips and keypad tones.

Speech is synthesised offline with espeak-ng (through the same LiveKit TTS the agent uses, with a
slower caller voice); recordings are resampled to the line's rate; keypad keys become in-band DTMF
tones as a phone sends them (70 ms tone, 70 ms gap, low group at -8 dBm0 with the high group
2 dB louder, as most handsets transmit).
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
from livekit import rtc

from agent.speech.config import Language, OfflineTTSSettings
from agent.speech.espeak_tts import EspeakTTS
from payment_tools.dtmf.tones import dtmf_tone

Pcm = npt.NDArray[np.int16]
TONE_S = 0.07
GAP_S = 0.07
TONE_LEVEL_DBM0 = -8.0
TONE_TWIST_DB = 2.0
CALLER_WORDS_PER_MINUTE = 120
_FULL_SCALE = 32767.0
_DIGIT_BY_DIGIT = re.compile(r"\b\d(?: \d\b)+")
_GROUP = 4


def to_pcm(samples: npt.NDArray[np.floating], sample_rate: int, line_rate: int) -> Pcm:
    """Float samples (full scale 1.0) at ``sample_rate`` as 16-bit PCM at ``line_rate``."""
    if sample_rate != line_rate:
        from voice_auth.audio import resample

        samples = resample(np.asarray(samples, dtype=np.float32), sample_rate, line_rate)
    scaled = np.round(np.asarray(samples, dtype=np.float64) * _FULL_SCALE)
    return np.clip(scaled, -32768, 32767).astype(np.int16)


def key_tones(keys: str, sample_rate: int) -> Pcm:
    """``keys`` as in-band DTMF: each key a tone then a gap."""
    tone = int(TONE_S * sample_rate)
    gap = np.zeros(int(GAP_S * sample_rate))
    parts: list[npt.NDArray[np.float64]] = []
    for key in keys:
        burst = dtmf_tone(
            key, tone, sample_rate, level_dbm0=TONE_LEVEL_DBM0, twist_db=TONE_TWIST_DB
        )
        parts += [burst, gap]
    return to_pcm(np.concatenate(parts) if parts else gap, sample_rate, sample_rate)


def _grouped(run: re.Match[str]) -> str:
    digits = run.group().split()
    return ", ".join(" ".join(digits[i : i + _GROUP]) for i in range(0, len(digits), _GROUP))


class CallerVoice:
    """Speaks the caller's lines with espeak-ng.

    Args:
        language: the caller's language.
        settings: the offline TTS settings (the caller speaks a little slower than the agent).
        line_rate: the line's sample rate.
    """

    def __init__(self, language: Language, settings: OfflineTTSSettings, *, line_rate: int) -> None:
        slower = settings.model_copy(update={"words_per_minute": CALLER_WORDS_PER_MINUTE})
        self._tts = EspeakTTS(slower, language=language)
        self._line_rate = line_rate

    async def speak(self, text: str) -> Pcm:
        """``text`` as speech on the line.

        Digits written one by one ("5 0 2 2 3 3 4 4") are read in groups of four with a pause
        between groups, as a caller reading a number from a letter does (and as speech
        recognition hears repeated digits best).
        """
        frames: list[rtc.AudioFrame] = []
        async with self._tts.synthesize(_DIGIT_BY_DIGIT.sub(_grouped, text)) as stream:
            async for event in stream:
                frames.append(event.frame)
        if not frames:
            return np.zeros(0, dtype=np.int16)
        frame = rtc.combine_audio_frames(frames)
        pcm = np.frombuffer(frame.data, dtype=np.int16)
        return to_pcm(pcm.astype(np.float32) / 32768.0, frame.sample_rate, self._line_rate)

    async def aclose(self) -> None:
        """Release the synthesiser."""
        await self._tts.aclose()
