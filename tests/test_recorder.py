"""The call recorder: two channels on one clock, silence for every capture window, redactions."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc

from agent.recorder import MANIFEST_FILE, RECORDING_FILE, CallRecorder, RecordingTap
from evals.recording_scan import read_stereo
from payment_tools.dtmf import DtmfMaskingProcessor, detect
from payment_tools.dtmf.tones import dtmf_tone

RATE = 16000
FRAME = 320  # 20 ms


class LineClock:
    """The line clock: seconds of caller audio sent so far."""

    def __init__(self) -> None:
        self.sent = 0

    def __call__(self) -> float:
        return self.sent / RATE


def voice_like(n: int, seed: int) -> npt.NDArray[np.int16]:
    """Audio that is never exactly zero for long (speech stand-in)."""
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, 2000, n).clip(-30000, 30000).astype(np.int16)
    pcm[pcm == 0] = 1
    return pcm


def frame(pcm: npt.NDArray[np.int16]) -> rtc.AudioFrame:
    return rtc.AudioFrame(pcm.tobytes(), RATE, 1, len(pcm))


def zero_runs(channel: npt.NDArray[np.int16]) -> list[tuple[int, int]]:
    """Every run of exact zeros, as (start, end) sample indices."""
    flags = np.diff(np.concatenate([[0], (channel == 0).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(flags == 1), np.flatnonzero(flags == -1)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def test_the_caller_channel_is_silent_exactly_in_each_capture_window(tmp_path: Path) -> None:
    clock = LineClock()
    capturing = {"now": False}
    recorder = CallRecorder(is_paused=lambda: capturing["now"], sample_rate=RATE, clock=clock)
    windows = [(50, 120), (200, 260)]  # frame indices where the keypad is in use
    for index in range(300):
        capturing["now"] = any(a <= index < b for a, b in windows)
        clock.sent += FRAME
        recorder.caller(frame(voice_like(FRAME, index)))
        if index % 60 == 0:
            recorder.agent(frame(voice_like(FRAME * 10, 1000 + index)))
    recorder.save(tmp_path)

    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    caller, agent, rate = read_stereo(tmp_path / RECORDING_FILE)
    assert rate == RATE
    assert [(p["start_s"], p["end_s"]) for p in manifest["pauses"]] == [
        (a * FRAME / RATE, b * FRAME / RATE) for a, b in windows
    ]
    for pause in manifest["pauses"]:
        start, end = int(pause["start_s"] * RATE), int(pause["end_s"] * RATE)
        assert not caller[start:end].any()
    outside = [(s, e) for s, e in zero_runs(caller) if e - s > 100]
    assert outside == [(a * FRAME, b * FRAME) for a, b in windows]
    # The agent's speech sits on the same clock: each burst starts where the line was.
    for index in range(0, 300, 60):
        at = (index + 1) * FRAME
        assert agent[at : at + 10 * FRAME].any()
    assert not agent[FRAME * 11 : FRAME * 60].any()


def line_noise(n: int, seed: int) -> npt.NDArray[np.int16]:
    """The line's faint noise: never digitally silent, far below speech."""
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, 12, n).astype(np.int16)
    pcm[pcm == 0] = 1
    return pcm


@pytest.mark.parametrize(("speech_from", "vad_start"), [(100, 100), (40, 100)])
def test_a_redacted_utterance_is_blanked_and_listed(
    tmp_path: Path, speech_from: int, vad_start: int
) -> None:
    """The whole utterance goes, also when the VAD marked its start late."""
    clock = LineClock()
    recorder = CallRecorder(is_paused=lambda: False, sample_rate=RATE, clock=clock)
    for index in range(250):
        if index == vad_start:
            recorder.speech_started()
        if index == 180:
            recorder.speech_ended()
        if index == 220:
            recorder.redact_utterance()
        clock.sent += FRAME
        spoken = speech_from <= index < 150
        recorder.caller(frame(voice_like(FRAME, index) if spoken else line_noise(FRAME, index)))
    recorder.save(tmp_path)

    manifest = json.loads((tmp_path / MANIFEST_FILE).read_text())
    caller, _, _ = read_stereo(tmp_path / RECORDING_FILE)
    (redaction,) = manifest["redactions"]
    start, end = int(redaction["start_s"] * RATE), int(redaction["end_s"] * RATE)
    assert start <= speech_from * FRAME and end >= 150 * FRAME
    assert end <= 190 * FRAME  # not everything up to the transcript
    assert not caller[start:end].any()
    assert caller[end : end + FRAME].any() and caller[start - FRAME : start].any()
    assert manifest["pauses"] == []


def test_a_gap_in_the_callers_frames_is_kept_as_silence(tmp_path: Path) -> None:
    clock = LineClock()
    recorder = CallRecorder(is_paused=lambda: False, sample_rate=RATE, clock=clock)
    for index in range(100):
        clock.sent += FRAME
        if 40 <= index < 70:
            continue  # frames the recorder never saw (a detached input)
        recorder.caller(frame(voice_like(FRAME, index)))
    recorder.save(tmp_path)
    caller, _, _ = read_stereo(tmp_path / RECORDING_FILE)
    assert len(caller) == 100 * FRAME
    assert not caller[40 * FRAME : 70 * FRAME].any()
    assert caller[70 * FRAME : 71 * FRAME].any()


def test_the_tap_records_the_maskers_output_so_no_tone_is_kept(tmp_path: Path) -> None:
    keys: list[str] = []
    clock = LineClock()
    recorder = CallRecorder(is_paused=lambda: False, sample_rate=RATE, clock=clock)
    tap = RecordingTap(DtmfMaskingProcessor(on_key=lambda key, *_: keys.append(key)), recorder)
    tone, gap = int(0.07 * RATE), np.zeros(int(0.07 * RATE))
    parts = [np.zeros(RATE // 2)]
    for key in "4921#":
        parts += [dtmf_tone(key, tone, RATE, level_dbm0=-8.0, twist_db=2.0), gap]
    parts.append(np.zeros(RATE // 2))
    line = (np.concatenate(parts) * 32767).astype(np.int16) + voice_like(
        sum(len(p) for p in parts), 7
    ) // 200
    assert [hit.key for hit in detect(line, RATE)] == list("4921#")
    for start in range(0, len(line) - FRAME + 1, FRAME):
        clock.sent += FRAME
        out = tap.process(frame(line[start : start + FRAME]))
        assert out.samples_per_channel == FRAME
    recorder.save(tmp_path)
    caller, _, _ = read_stereo(tmp_path / RECORDING_FILE)
    assert keys == list("4921#")
    assert detect(caller, RATE) == []
    assert caller.any()


@pytest.mark.parametrize("transcribed", [False, True])
def test_speech_cut_off_by_a_capture_window_is_blanked_unless_it_was_transcribed(
    tmp_path: Path, transcribed: bool
) -> None:
    clock = LineClock()
    capturing = {"now": False}
    recorder = CallRecorder(is_paused=lambda: capturing["now"], sample_rate=RATE, clock=clock)
    for index in range(150):
        if index == 80:
            recorder.speech_started()  # the caller starts reading digits over the prompt
        if index == 95 and transcribed:
            recorder.utterance_heard()
        capturing["now"] = index >= 100
        clock.sent += FRAME
        quiet = index < 78
        recorder.caller(frame(line_noise(FRAME, index) if quiet else voice_like(FRAME, index)))
    recorder.save(tmp_path)
    caller, _, _ = read_stereo(tmp_path / RECORDING_FILE)
    redactions = json.loads((tmp_path / MANIFEST_FILE).read_text())["redactions"]
    speech = caller[80 * FRAME : 100 * FRAME]
    if transcribed:
        assert speech.all() and redactions == []
    else:
        assert not speech.any() and len(redactions) == 1
        assert redactions[0]["end_s"] == pytest.approx(100 * FRAME / RATE)
    assert caller[: 30 * FRAME].all(), "speech before the utterance is kept"
