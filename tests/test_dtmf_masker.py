from __future__ import annotations

import numpy as np
import pytest
from dtmf_support import harvard_speech, make_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from payment_tools.dtmf.channel import mulaw_roundtrip, telephone_bandpass
from payment_tools.dtmf.detector import detect
from payment_tools.dtmf.masker import DtmfMasker, mask_signal
from payment_tools.dtmf.tones import KEYS, dtmf_tone


def test_every_tone_is_muted_from_its_first_sample() -> None:
    seq = make_sequence(KEYS, tone_ms=45.0, pause_ms=45.0)
    y = mask_signal(seq.samples, 8000)
    assert len(y) == len(seq.samples)
    for onset, end in zip(seq.onsets, seq.ends, strict=True):
        assert not np.any(y[onset:end])
    assert detect(y, 8000) == []


@pytest.mark.parametrize(
    ("level", "twist", "row_deviation"),
    [(-40.0, 0.0, 0.0), (-10.0, -10.0, 0.0), (-10.0, 6.0, 0.0), (-10.0, 0.0, -0.035)],
)
def test_weak_twisted_and_off_frequency_tones_are_muted(
    level: float, twist: float, row_deviation: float
) -> None:
    seq = make_sequence("14*D", level_dbm0=level, twist_db=twist, row_deviation=row_deviation)
    y = mask_signal(seq.samples, 8000)
    for onset, end in zip(seq.onsets, seq.ends, strict=True):
        assert not np.any(y[onset:end])


def test_speech_passes_bit_exact_and_aligned() -> None:
    x = mulaw_roundtrip(telephone_bandpass(harvard_speech(), 8000))
    assert np.array_equal(mask_signal(x, 8000), x)


def test_speech_around_key_presses_is_untouched() -> None:
    speech = harvard_speech()[: 8000 * 3]
    tone = dtmf_tone("5", 560, 8000, level_dbm0=-12.0)
    gap = np.zeros(480)
    x = np.concatenate([speech, gap, tone, gap, speech])
    y = mask_signal(x, 8000)
    t0 = len(speech) + len(gap)
    assert not np.any(y[t0 : t0 + len(tone)])
    assert np.array_equal(y[: len(speech)], speech)
    assert np.array_equal(y[t0 + len(tone) + len(gap) :], speech)


def test_16_bit_pcm_comes_back_as_16_bit_pcm() -> None:
    seq = make_sequence("0#", lead_ms=200.0)
    noise = np.random.default_rng(5).normal(0, 0.002, len(seq.samples))
    pcm = np.round((seq.samples + noise) * 32768).astype(np.int16)
    y = mask_signal(pcm, 8000)
    assert y.dtype == np.int16 and len(y) == len(pcm)
    assert np.array_equal(y[: seq.onsets[0] - 100], pcm[: seq.onsets[0] - 100])
    for onset, end in zip(seq.onsets, seq.ends, strict=True):
        assert not np.any(y[onset:end])


def test_stream_output_is_delayed_by_the_declared_lookahead() -> None:
    masker = DtmfMasker(8000, lookahead_ms=20.0)
    assert masker.delay == 160
    x = np.random.default_rng(0).normal(0, 0.01, 1000)
    out = np.concatenate([masker.process(x[:333]), masker.process(x[333:]), masker.flush()])
    assert np.array_equal(out[:160], np.zeros(160))
    assert np.array_equal(out[160:], x)


def test_muting_is_reported_while_a_tone_is_followed() -> None:
    masker = DtmfMasker(8000)
    x = np.concatenate([np.zeros(800), dtmf_tone("3", 800, 8000), np.zeros(1600)])
    states = []
    for start in range(0, len(x), 160):
        masker.process(x[start : start + 160])
        states.append(masker.muting)
    assert not states[0] and any(states) and not states[-1]


@settings(max_examples=20, deadline=None)
@given(st.lists(st.integers(1, 700), min_size=1, max_size=30))
def test_chunking_does_not_change_output(chunks: list[int]) -> None:
    x = np.concatenate([np.zeros(77), dtmf_tone("6", 400, 8000), np.zeros(300)])
    x = x + np.random.default_rng(1).normal(0, 0.001, len(x))
    masker = DtmfMasker(8000)
    out, pos = [], 0
    while pos < len(x):
        for size in chunks:
            out.append(masker.process(x[pos : pos + size]))
            pos += size
    out.append(masker.flush())
    y = np.concatenate(out)[masker.delay : masker.delay + len(x)]
    assert np.array_equal(y, mask_signal(x, 8000))


@pytest.mark.parametrize("rate", [16000, 24000, 48000])
def test_other_sample_rates(rate: int) -> None:
    seq = make_sequence("0A", rate=rate)
    y = mask_signal(seq.samples, rate)
    for onset, end in zip(seq.onsets, seq.ends, strict=True):
        assert not np.any(y[onset:end])


def test_rejects_a_lookahead_too_short_for_its_windows() -> None:
    with pytest.raises(ValueError):
        DtmfMasker(8000, lookahead_ms=10.0)
