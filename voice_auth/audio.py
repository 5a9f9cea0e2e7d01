"""Audio preparation for speaker verification: loading, resampling, phone band, VAD, quality."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from math import gcd
from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf
from scipy import signal

Audio = npt.NDArray[np.float32]

TELEPHONE_RATE = 8000
TELEPHONE_BAND_HZ = (300.0, 3400.0)

_FRAME_S = 0.02
# Speech must rise this far above the quietest fifth of the recording (the noise floor) ...
_NOISE_MARGIN_DB = 8.0
# ... and lie within this range of the loudest frames, so breaths and hum stay out ...
_DYNAMIC_RANGE_DB = 40.0
# ... but never be required closer than this to them: in speech with no pauses the "floor" is
# quiet speech, which must survive.
_MAX_BELOW_PEAK_DB = 25.0
_ABSOLUTE_FLOOR_DBFS = -60.0
# Kept around each speech frame so word onsets and pauses inside phrases survive trimming.
_HANGOVER_S = 0.1
_FULL_SCALE = 0.98


def load_audio(path: Path) -> tuple[Audio, int]:
    """Read a WAV/FLAC file as mono float32 in [-1, 1] and its sample rate."""
    data, rate = sf.read(str(path), dtype="float32", always_2d=True)
    return np.ascontiguousarray(data.mean(axis=1), dtype=np.float32), int(rate)


def resample(audio: Audio, from_rate: int, to_rate: int) -> Audio:
    """Resample with a polyphase anti-aliasing filter."""
    if from_rate <= 0 or to_rate <= 0:
        raise ValueError("sample rates must be positive")
    if from_rate == to_rate:
        return np.asarray(audio, dtype=np.float32)
    g = gcd(from_rate, to_rate)
    out = signal.resample_poly(np.asarray(audio, dtype=np.float64), to_rate // g, from_rate // g)
    return np.asarray(out, dtype=np.float32)


@cache
def _telephone_filter() -> npt.NDArray[np.float64]:
    sos = signal.butter(4, TELEPHONE_BAND_HZ, btype="bandpass", fs=TELEPHONE_RATE, output="sos")
    return np.asarray(sos, dtype=np.float64)


def telephone_band(audio: Audio, sample_rate: int) -> Audio:
    """Make audio sound like a narrowband call: resampled to 8 kHz and band-passed 300-3400 Hz."""
    narrow = resample(audio, sample_rate, TELEPHONE_RATE)
    return np.asarray(signal.sosfilt(_telephone_filter(), narrow), dtype=np.float32)


class UnusableAudioError(ValueError):
    """Audio too poor to enrol or verify with; the message is safe to tell the caller's agent."""


@dataclass(frozen=True)
class QualityLimits:
    """Thresholds below which audio is refused for enrolment or verification."""

    min_speech_seconds: float = 1.5
    max_clipped_fraction: float = 0.01
    min_level_dbfs: float = -50.0


@dataclass(frozen=True)
class QualityReport:
    """Measured quality of one recording, and why it is unusable if it is."""

    speech_seconds: float
    clipped_fraction: float
    level_dbfs: float
    reason: str | None

    @property
    def ok(self) -> bool:
        """True when the audio passed every gate."""
        return self.reason is None


@dataclass(frozen=True)
class PreparedSpeech:
    """Speech with silences removed, plus the quality verdict of the input."""

    samples: Audio
    sample_rate: int
    quality: QualityReport


def _frame_energies_db(audio: Audio, frame: int) -> npt.NDArray[np.float64]:
    n = len(audio) // frame
    frames = np.asarray(audio[: n * frame], dtype=np.float64).reshape(n, frame)
    return np.asarray(10.0 * np.log10(np.mean(frames**2, axis=1) + 1e-12), dtype=np.float64)


def speech_frames(audio: Audio, sample_rate: int) -> npt.NDArray[np.bool_]:
    """Mark 20 ms frames as speech with an energy threshold adapted to the recording."""
    frame = max(1, round(sample_rate * _FRAME_S))
    energy = _frame_energies_db(audio, frame)
    if energy.size == 0:
        return np.zeros(0, dtype=np.bool_)
    noise = float(np.percentile(energy, 20))
    peak = float(np.percentile(energy, 99))
    threshold = max(noise + _NOISE_MARGIN_DB, peak - _DYNAMIC_RANGE_DB, _ABSOLUTE_FLOOR_DBFS)
    threshold = min(threshold, max(peak - _MAX_BELOW_PEAK_DB, _ABSOLUTE_FLOOR_DBFS))
    return np.asarray(energy > threshold, dtype=np.bool_)


def _dilate(mask: npt.NDArray[np.bool_], width: int) -> npt.NDArray[np.bool_]:
    if width <= 0 or mask.size == 0:
        return mask
    spread = np.convolve(mask.astype(np.float64), np.ones(2 * width + 1), mode="full")
    return np.asarray(spread[width : width + mask.size] > 0.5)


def _reason(speech_s: float, clipped: float, level: float, limits: QualityLimits) -> str | None:
    if speech_s == 0.0:
        return "no speech detected"
    if speech_s < limits.min_speech_seconds:
        return (
            f"too little speech: {speech_s:.1f} s heard, {limits.min_speech_seconds:.1f} s needed"
        )
    if clipped > limits.max_clipped_fraction:
        return (
            f"audio is clipped: {clipped:.1%} of samples at full scale, "
            f"at most {limits.max_clipped_fraction:.1%} allowed"
        )
    if level < limits.min_level_dbfs:
        return (
            f"speech is too quiet: {level:.0f} dBFS, at least {limits.min_level_dbfs:.0f} dBFS "
            "needed"
        )
    return None


def prepare_speech(
    audio: Audio, sample_rate: int, limits: QualityLimits | None = None
) -> PreparedSpeech:
    """Trim silences from one recording and judge whether it is usable.

    Args:
        audio: Mono samples in [-1, 1], as received (before any filtering, so clipping shows).
        sample_rate: Sample rate of ``audio`` in Hz.
        limits: Quality gates; defaults suit a single verification utterance.

    Returns:
        The speech-only samples at the input rate and the quality report.
    """
    limits = limits or QualityLimits()
    samples = np.asarray(audio, dtype=np.float32)
    frame = max(1, round(sample_rate * _FRAME_S))
    voiced = speech_frames(samples, sample_rate)
    kept = np.repeat(_dilate(voiced, round(_HANGOVER_S / _FRAME_S)), frame)
    speech = samples[: kept.size][kept]
    speech_s = float(voiced.sum()) * frame / sample_rate
    clipped = float(np.mean(np.abs(samples) >= _FULL_SCALE)) if samples.size else 0.0
    voiced_samples = np.asarray(samples[: voiced.size * frame][np.repeat(voiced, frame)])
    power = float(np.mean(voiced_samples.astype(np.float64) ** 2)) if voiced_samples.size else 0.0
    level = 10.0 * np.log10(power) if power > 0.0 else -np.inf
    report = QualityReport(
        speech_seconds=speech_s,
        clipped_fraction=clipped,
        level_dbfs=float(level),
        reason=_reason(speech_s, clipped, float(level), limits),
    )
    return PreparedSpeech(samples=speech, sample_rate=sample_rate, quality=report)
