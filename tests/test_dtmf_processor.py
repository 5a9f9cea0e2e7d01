from __future__ import annotations

import numpy as np
import pytest
from dtmf_support import make_sequence
from livekit import rtc

from payment_tools.dtmf.processor import DtmfMaskingProcessor


class Clock:
    def __init__(self) -> None:
        self.now: float = 0.0

    def __call__(self) -> float:
        return self.now


def frames_of(pcm: np.ndarray, rate: int, frame_ms: int) -> list[rtc.AudioFrame]:
    size = rate * frame_ms // 1000
    return [
        rtc.AudioFrame(pcm[i : i + size].tobytes(), rate, 1, size)
        for i in range(0, len(pcm) - size + 1, size)
    ]


@pytest.mark.parametrize(("rate", "frame_ms"), [(8000, 20), (16000, 10), (24000, 50), (48000, 20)])
def test_frames_come_back_delayed_with_tones_muted_and_keys_reported(
    rate: int, frame_ms: int
) -> None:
    seq = make_sequence("19#", rate=rate, tone_ms=70.0, pause_ms=250.0, lead_ms=300.0)
    noise = np.random.default_rng(2).normal(0, 0.001, len(seq.samples))
    pcm = np.round((seq.samples + noise) * 32768).astype(np.int16)
    clock = Clock()
    keys: list[tuple[str, float, float]] = []
    proc = DtmfMaskingProcessor(lambda k, s, e: keys.append((k, s, e)), clock=clock)
    out = []
    for i, frame in enumerate(frames_of(pcm, rate, frame_ms)):
        clock.now = (i + 1) * frame_ms / 1000
        masked = proc.process(frame)
        assert masked.sample_rate == rate and masked.num_channels == 1
        assert masked.samples_per_channel == frame.samples_per_channel
        out.append(np.frombuffer(masked.data, dtype=np.int16))
    y = np.concatenate(out)
    delay = round(proc.lookahead_s * rate)
    assert proc.lookahead_s == 0.02
    aligned = y[delay:]
    assert np.array_equal(
        aligned[: seq.onsets[0] - rate // 100], pcm[: seq.onsets[0] - rate // 100]
    )
    for onset, end in zip(seq.onsets, seq.ends, strict=True):
        assert not np.any(aligned[onset:end])
    assert [k for k, _, _ in keys] == ["1", "9", "#"]
    for (_, start_s, end_s), onset, tone_end in zip(keys, seq.onsets, seq.ends, strict=True):
        assert start_s == pytest.approx(onset / rate, abs=0.003)
        assert end_s == pytest.approx(tone_end / rate, abs=0.003)


def test_keys_are_reported_within_about_70_ms_of_the_tone_end() -> None:
    seq = make_sequence("7", tone_ms=60.0, lead_ms=500.0, pause_ms=500.0)
    pcm = np.round(seq.samples * 32768).astype(np.int16)
    clock = Clock()
    reported: list[float] = []
    proc = DtmfMaskingProcessor(lambda k, s, e: reported.append(clock.now), clock=clock)
    for i, frame in enumerate(frames_of(pcm, 8000, 20)):
        clock.now = (i + 1) * 0.02
        proc.process(frame)
    assert len(reported) == 1
    assert 0 < reported[0] - seq.ends[0] / 8000 <= 0.07


def test_a_change_of_rate_starts_a_new_stream_and_stereo_is_refused() -> None:
    proc = DtmfMaskingProcessor()
    silence = np.zeros(480, dtype=np.int16)
    first = proc.process(rtc.AudioFrame(silence.tobytes(), 24000, 1, 480))
    second = proc.process(rtc.AudioFrame(silence[:160].tobytes(), 8000, 1, 160))
    assert first.samples_per_channel == 480 and second.samples_per_channel == 160
    assert second.sample_rate == 8000
    with pytest.raises(ValueError):
        proc.process(rtc.AudioFrame(silence.tobytes(), 8000, 2, 240))


def test_it_is_a_livekit_frame_processor() -> None:
    proc = DtmfMaskingProcessor()
    assert isinstance(proc, rtc.FrameProcessor)
    assert proc.enabled
    proc.enabled = False
    assert not proc.enabled
