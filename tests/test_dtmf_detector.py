from __future__ import annotations

import numpy as np
import pytest
from dtmf_support import digit_speech, harvard_speech, make_sequence
from hypothesis import given, settings
from hypothesis import strategies as st

from payment_tools.dtmf.channel import mulaw_roundtrip, telephone_bandpass
from payment_tools.dtmf.detector import DtmfDetector, DtmfHit, detect
from payment_tools.dtmf.tones import KEYS, dtmf_tone


def keys_of(hits: list[DtmfHit]) -> str:
    return "".join(h.key for h in hits)


def test_every_key_is_detected_with_its_onset() -> None:
    seq = make_sequence(KEYS)
    hits = detect(seq.samples, 8000)
    assert keys_of(hits) == KEYS
    for hit, onset, end in zip(hits, seq.onsets, seq.ends, strict=True):
        assert abs(hit.start_sample - onset) <= 16
        assert abs(hit.end_sample - end) <= 16


@pytest.mark.parametrize(("tone_ms", "expected"), [(40.0, "159#"), (23.0, ""), (15.0, "")])
def test_operates_on_40_ms_and_rejects_23_ms(tone_ms: float, expected: str) -> None:
    seq = make_sequence("159#", tone_ms=tone_ms, pause_ms=40.0)
    assert keys_of(detect(seq.samples, 8000)) == expected


@pytest.mark.parametrize(
    ("row_dev", "col_dev", "expected"),
    [
        (0.015, 0.015, "2580"),
        (-0.015, 0.015, "2580"),
        (0.035, 0.0, ""),
        (-0.035, 0.0, ""),
        (0.0, 0.035, ""),
        (0.0, -0.035, ""),
    ],
)
def test_frequency_tolerance(row_dev: float, col_dev: float, expected: str) -> None:
    seq = make_sequence("2580", row_deviation=row_dev, col_deviation=col_dev)
    assert keys_of(detect(seq.samples, 8000)) == expected


@pytest.mark.parametrize(
    ("level", "twist", "expected"),
    [
        (-25.0, 0.0, "3690"),
        (-3.0, 0.0, "3690"),
        (-25.0, 4.0, "3690"),
        (-17.0, -8.0, "3690"),
        (-55.0, 0.0, ""),
    ],
)
def test_levels_and_twist(level: float, twist: float, expected: str) -> None:
    seq = make_sequence("3690", level_dbm0=level, twist_db=twist)
    assert keys_of(detect(seq.samples, 8000)) == expected


def test_telephone_channel_with_noise() -> None:
    seq = make_sequence(KEYS, level_dbm0=-25.0)
    noise = np.random.default_rng(3).normal(0.0, 0.004, len(seq.samples))
    x = mulaw_roundtrip(telephone_bandpass(seq.samples + noise, 8000))
    assert keys_of(detect(x, 8000)) == KEYS


def test_short_interruption_is_one_digit_but_40_ms_pause_is_two() -> None:
    seq = make_sequence("77", tone_ms=45.0, pause_ms=40.0)
    assert keys_of(detect(seq.samples, 8000)) == "77"
    x = make_sequence("7", tone_ms=100.0).samples
    x[300:380] = 0.0
    assert keys_of(detect(x, 8000)) == "7"


@pytest.mark.parametrize("rate", [16000, 24000, 48000])
def test_other_sample_rates(rate: int) -> None:
    seq = make_sequence("*0#D", rate=rate)
    hits = detect(seq.samples, rate)
    assert keys_of(hits) == "*0#D"
    assert all(
        abs(h.start_sample - o) <= rate // 500 for h, o in zip(hits, seq.onsets, strict=True)
    )


def test_int16_input_matches_float() -> None:
    x = make_sequence("42").samples
    pcm = np.round(x * 32768).astype(np.int16)
    assert keys_of(detect(pcm, 8000)) == "42"
    assert detect(pcm, 8000) == detect(pcm / 32768.0, 8000)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 2000), min_size=1, max_size=40), st.sampled_from([0.0, 100.0]))
def test_chunking_and_batching_do_not_change_results(chunks: list[int], batch_ms: float) -> None:
    x = np.concatenate(
        [
            np.zeros(123),
            dtmf_tone("8", 400, 8000),
            np.zeros(500),
            dtmf_tone("D", 330, 8000),
            np.zeros(333),
        ]
    )
    det = DtmfDetector(8000, batch_ms=batch_ms)
    hits, pos = [], 0
    for size in chunks * (len(x) // sum(chunks) + 1):
        hits += det.process(x[pos : pos + size])
        pos += size
        if pos >= len(x):
            break
    hits += det.flush()
    assert hits == detect(x, 8000)


def test_frames_are_batched_but_a_key_is_reported_soon_after_its_tone() -> None:
    x = np.concatenate([np.zeros(4000), dtmf_tone("5", 560, 8000), np.zeros(4000)])
    pcm = np.round(x * 32768).astype(np.int16)
    det = DtmfDetector(8000, batch_ms=200.0)
    reported_at = None
    for start in range(0, len(pcm), 160):
        if det.process(pcm[start : start + 160]) and reported_at is None:
            reported_at = start + 160
    assert reported_at is not None
    tone_end = 4000 + 560
    # The tone is seen within one batch of starting, and its key right after it ends.
    assert 0 < reported_at - tone_end <= 8000 * 0.08


def test_a_long_press_is_one_key_with_its_whole_extent() -> None:
    seq = make_sequence("6", tone_ms=900.0, lead_ms=300.0)
    for chunk in (160, 8000, len(seq.samples)):
        det = DtmfDetector(8000)
        hits = []
        for start in range(0, len(seq.samples), chunk):
            hits += det.process(seq.samples[start : start + chunk])
        hits += det.flush()
        assert keys_of(hits) == "6"
        assert abs(hits[0].start_sample - seq.onsets[0]) <= 16
        assert abs(hits[0].end_sample - seq.ends[0]) <= 16


def test_fast_dialling_gives_the_same_keys_in_frames_seconds_or_at_once() -> None:
    seq = make_sequence(KEYS * 3, tone_ms=45.0, pause_ms=45.0, level_dbm0=-20.0)
    noise = np.random.default_rng(9).normal(0.0, 0.002, len(seq.samples))
    x = mulaw_roundtrip(telephone_bandpass(seq.samples + noise, 8000))
    expected = detect(x, 8000)
    assert keys_of(expected) == KEYS * 3
    for chunk in (160, 8000, 80000):
        det = DtmfDetector(8000)
        hits = []
        for start in range(0, len(x), chunk):
            hits += det.process(x[start : start + chunk])
        hits += det.flush()
        assert keys_of(hits) == KEYS * 3
        assert all(
            abs(a.start_sample - b.start_sample) <= 1 for a, b in zip(hits, expected, strict=True)
        )


def test_drain_reports_without_waiting_for_a_full_batch() -> None:
    x = np.concatenate([dtmf_tone("9", 480, 8000), np.zeros(800)])
    det = DtmfDetector(8000, batch_ms=10_000.0)
    assert det.process(x) == []
    assert keys_of(det.drain()) == "9"


def test_flush_starts_a_new_stream() -> None:
    det = DtmfDetector(8000)
    x = make_sequence("9").samples
    first = det.process(x) + det.flush()
    second = det.process(x) + det.flush()
    assert first == second and keys_of(first) == "9"


def test_no_talk_off_on_real_speech() -> None:
    for speech in (harvard_speech(), digit_speech()):
        x = mulaw_roundtrip(telephone_bandpass(speech, 8000))
        assert detect(x, 8000) == []


def test_keys_are_found_between_real_speech() -> None:
    speech = mulaw_roundtrip(telephone_bandpass(harvard_speech()[: 8000 * 6], 8000))
    tone = dtmf_tone("#", 400, 8000, level_dbm0=-15.0)
    x = np.concatenate([speech, np.zeros(400), tone, np.zeros(400), speech])
    hits = detect(x, 8000)
    assert keys_of(hits) == "#"
    assert abs(hits[0].start_sample - (len(speech) + 400)) <= 16


def test_rejects_low_sample_rate() -> None:
    with pytest.raises(ValueError):
        DtmfDetector(4000)
