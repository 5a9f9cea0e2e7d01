"""Voice-pipeline taps: the caller's speech for voice authentication, and a countable STT.

The STT counts its recognitions under way, so that a driver knows when the caller was heard.
"""

from __future__ import annotations

import asyncio
import contextlib

import numpy as np
from livekit import rtc
from livekit.agents import stt
from livekit.agents.types import (
    DEFAULT_API_CONNECT_OPTIONS,
    NOT_GIVEN,
    APIConnectOptions,
    NotGivenOr,
)
from livekit.agents.utils import AudioBuffer

from agent.call_context import CallContext
from agent.speech.whisper_stt import WhisperSTT

SPEECH_RMS = 300.0
"""A 20 ms frame louder than this (about -40 dBFS) is taken as speech."""
HANGOVER_FRAMES = 10
"""Frames kept after the last loud one, so that word endings and short pauses are kept."""


class SpeechTap:
    """Feeds the caller's (masked) speech to ``call.caller_audio``, never during keypad entry.

    Voice authentication reads that buffer: passive verification on the first seconds of speech,
    and a challenge answer cut from it. Frames quieter than speech are left out, so the buffer's
    length is the caller's speaking time, not the length of the call.

    Args:
        call: the call whose caller is heard.
    """

    def __init__(self, call: CallContext) -> None:
        self._call = call
        self._hangover = 0

    def __call__(self, frame: rtc.AudioFrame) -> None:
        """Take one frame of the caller's line after masking."""
        if self._call.capturing:
            self._hangover = 0
            return
        pcm = np.frombuffer(frame.data, dtype=np.int16).astype(np.float32)
        if pcm.size and float(np.sqrt(np.mean(pcm**2))) > SPEECH_RMS:
            self._hangover = HANGOVER_FRAMES
        elif self._hangover > 0:
            self._hangover -= 1
        else:
            return
        self._call.caller_audio.add(pcm / 32768.0, frame.sample_rate)


class TrackedWhisperSTT(WhisperSTT):
    """The offline Whisper STT, counting the recognitions under way and those done."""

    in_flight = 0
    completed = 0
    _done: asyncio.Event | None = None

    async def heard(self, after: int, timeout_s: float) -> None:
        """Return once more than ``after`` recognitions are done, or after ``timeout_s``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_s):
                while self.completed <= after:
                    self._done = self._done or asyncio.Event()
                    self._done.clear()
                    await self._done.wait()

    async def _recognize_impl(
        self,
        buffer: AudioBuffer,
        *,
        language: NotGivenOr[str] = NOT_GIVEN,
        conn_options: APIConnectOptions = DEFAULT_API_CONNECT_OPTIONS,
    ) -> stt.SpeechEvent:
        self.in_flight += 1
        try:
            return await super()._recognize_impl(
                buffer, language=language, conn_options=conn_options
            )
        finally:
            self.in_flight -= 1
            self.completed += 1
            if self._done is not None:
                self._done.set()
