from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shared_speech import LIBRI, SHARED_DATA, needs_shared_data

from voice_auth.audio import (
    TELEPHONE_RATE,
    QualityLimits,
    load_audio,
    prepare_speech,
    resample,
    telephone_band,
)


def tone(freq: float, seconds: float, rate: int, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2)))


def bursts(rate: int, seconds_on: float, gaps: int = 4, level: float = 0.2) -> np.ndarray:
    """Noise bursts (speech-like energy) separated by 0.5 s of near silence."""
    rng = np.random.default_rng(0)
    gap = (rng.standard_normal(round(0.5 * rate)) * 1e-4).astype(np.float32)
    burst = (rng.standard_normal(round(seconds_on / gaps * rate)) * level).astype(np.float32)
    return np.concatenate([gap, *[np.concatenate([burst, gap]) for _ in range(gaps)]])


@needs_shared_data
def test_load_audio_reads_flac_and_8k_wav_as_mono_float() -> None:
    flac, flac_rate = load_audio(next(LIBRI.rglob("*.flac")))
    wav, wav_rate = load_audio(SHARED_DATA / "osr-harvard-8k" / "OSR_us_000_0034_8k.wav")
    assert (flac_rate, wav_rate) == (16000, 8000)
    assert flac.dtype == wav.dtype == np.float32
    assert flac.ndim == wav.ndim == 1
    assert 35 < len(wav) / wav_rate < 36


@settings(max_examples=40, deadline=None)
@given(
    rates=st.sampled_from([(8000, 16000), (16000, 8000), (44100, 16000), (48000, 8000)]),
    n=st.integers(min_value=1, max_value=5000),
)
def test_resample_length_follows_the_rate_ratio(rates: tuple[int, int], n: int) -> None:
    src, dst = rates
    out = resample(np.zeros(n, dtype=np.float32), src, dst)
    assert len(out) == math.ceil(n * dst / src)
    assert out.dtype == np.float32


def test_resample_keeps_a_tone_at_its_frequency() -> None:
    out = resample(tone(440.0, 1.0, 8000), 8000, 16000)
    spectrum = np.abs(np.fft.rfft(out))
    assert np.argmax(spectrum) * 16000 / len(out) == pytest.approx(440.0, abs=2.0)


def test_resample_rejects_non_positive_rates() -> None:
    with pytest.raises(ValueError, match="positive"):
        resample(np.zeros(10, dtype=np.float32), 0, 8000)


@pytest.mark.parametrize(
    ("freq", "passes"), [(1000.0, True), (2500.0, True), (100.0, False), (3900.0, False)]
)
def test_telephone_band_keeps_300_to_3400_hz_at_8k(freq: float, passes: bool) -> None:
    wide = tone(freq, 1.0, 16000)
    phone = telephone_band(wide, 16000)
    assert len(phone) == TELEPHONE_RATE
    gain_db = 20 * np.log10(rms(phone[2000:]) / rms(wide))
    assert (gain_db > -3.0) if passes else (gain_db < -20.0)


def test_prepare_speech_trims_silence_and_counts_net_speech() -> None:
    audio = bursts(8000, seconds_on=3.0)
    prepared = prepare_speech(audio, 8000)
    assert prepared.quality.ok
    assert prepared.quality.speech_seconds == pytest.approx(3.0, abs=0.1)
    # Speech plus at most 0.1 s kept on each side of each of the four bursts.
    assert 3.0 <= len(prepared.samples) / 8000 <= 3.9
    assert len(audio) / 8000 == pytest.approx(5.5, abs=0.01)


@needs_shared_data
def test_prepare_speech_keeps_nearly_all_of_continuous_speech() -> None:
    audio, rate = load_audio(LIBRI / "1688" / "1688-142285-0000.flac")
    once = prepare_speech(telephone_band(audio, rate), TELEPHONE_RATE).samples
    twice = prepare_speech(once, TELEPHONE_RATE).samples
    # The file's leading and trailing silences go; speech that is already trimmed mostly stays.
    assert len(once) / TELEPHONE_RATE < 0.85 * len(audio) / rate
    assert len(twice) / len(once) > 0.85


@needs_shared_data
def test_real_recording_passes_the_gates() -> None:
    audio, rate = load_audio(LIBRI / "3080" / "3080-5032-0001.flac")
    quality = prepare_speech(telephone_band(audio, rate), TELEPHONE_RATE).quality
    assert quality.ok, quality.reason
    assert 3.0 < quality.speech_seconds < len(audio) / rate
    assert -40 < quality.level_dbfs < -10


def test_silence_is_refused_as_no_speech() -> None:
    quality = prepare_speech(np.zeros(16000, dtype=np.float32), 8000).quality
    assert not quality.ok
    assert quality.reason == "no speech detected"


def test_short_speech_is_refused_with_the_amount_heard() -> None:
    quality = prepare_speech(bursts(8000, seconds_on=1.0), 8000).quality
    assert not quality.ok
    assert quality.reason is not None
    assert quality.reason.startswith("too little speech: 1.0 s heard, 1.5 s needed")


def test_clipped_audio_is_refused() -> None:
    clipped = np.clip(bursts(8000, seconds_on=3.0, level=2.0), -1.0, 1.0)
    quality = prepare_speech(clipped, 8000).quality
    assert quality.clipped_fraction > 0.1
    assert quality.reason is not None and quality.reason.startswith("audio is clipped")


def test_quiet_audio_is_refused_and_the_limit_is_configurable() -> None:
    quiet = bursts(8000, seconds_on=3.0, level=0.002)
    quality = prepare_speech(quiet, 8000).quality
    assert quality.level_dbfs == pytest.approx(-54, abs=1)
    assert quality.reason is not None and quality.reason.startswith("speech is too quiet")
    assert prepare_speech(quiet, 8000, QualityLimits(min_level_dbfs=-60.0)).quality.ok
