"""The voice pipeline's taps: voice authentication hears the caller's speech, not keypad entries."""

from __future__ import annotations

from types import SimpleNamespace
from typing import cast

import numpy as np
from livekit import rtc

from agent.call_context import CallContext
from agent.voice_identity import CallerAudio
from agent.voice_pipeline import HANGOVER_FRAMES, SpeechTap

RATE = 16000
FRAME = 320


def frame(level: float, seed: int = 0) -> rtc.AudioFrame:
    rng = np.random.default_rng(seed)
    pcm = rng.normal(0, level, FRAME).clip(-32768, 32767).astype(np.int16)
    return rtc.AudioFrame(pcm.tobytes(), RATE, 1, FRAME)


def tapped_call() -> tuple[SpeechTap, SimpleNamespace]:
    call = SimpleNamespace(capturing=False, caller_audio=CallerAudio(RATE))
    return SpeechTap(cast(CallContext, call)), call


def test_speech_is_kept_with_a_short_hangover_and_the_line_noise_is_not() -> None:
    tap, call = tapped_call()
    for _ in range(50):
        tap(frame(12.0))  # the line's noise floor
    assert call.caller_audio.seconds == 0
    for index in range(25):
        tap(frame(3000.0, index))  # half a second of speech
    for _ in range(50):
        tap(frame(12.0))
    kept = (25 + HANGOVER_FRAMES) * FRAME / RATE
    assert call.caller_audio.seconds == kept


def test_nothing_is_kept_while_the_keypad_is_in_use() -> None:
    tap, call = tapped_call()
    call.capturing = True
    for index in range(25):
        tap(frame(3000.0, index))
    assert call.caller_audio.seconds == 0
    call.capturing = False
    tap(frame(3000.0))
    assert call.caller_audio.seconds == FRAME / RATE
