"""Call recording: caller and agent on separate channels, paused while card data is captured.

The recorder taps the caller's audio after DTMF masking and the agent's audio before it is played,
and writes a stereo WAV (left: caller, right: agent) with a JSON manifest of the pauses. While the
workflow captures card data (or the caller types a security answer), the caller channel is not
recorded at all — silence is written in its place — so no tone and no spoken digit from a capture
window can ever be in a recording.
"""

from __future__ import annotations

import json
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents.voice import io

RECORDING_FILE = "recording.wav"
MANIFEST_FILE = "recording.json"


@dataclass
class _Channel:
    samples: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(0, dtype=np.int16))

    def write(self, at: int, data: npt.NDArray[np.int16]) -> None:
        end = at + len(data)
        if end > len(self.samples):
            grown = np.zeros(max(end, 2 * len(self.samples)), dtype=np.int16)
            grown[: len(self.samples)] = self.samples
            self.samples = grown
        self.samples[at:end] = data


class CallRecorder:
    """Records one call in two channels, with pauses decided by ``is_paused``.

    Args:
        is_paused: whether the caller must not be recorded right now (card capture).
        sample_rate: the recording's rate; frames are resampled to it.
    """

    def __init__(self, *, is_paused: Callable[[], bool], sample_rate: int = 16000) -> None:
        self._is_paused = is_paused
        self.sample_rate = sample_rate
        self._caller = _Channel()
        self._agent = _Channel()
        self._caller_at = 0
        self._agent_at = 0
        self._started = time.monotonic()
        self._pause_started: int | None = None
        self.pauses: list[tuple[float, float]] = []
        self._resamplers: dict[tuple[str, int], rtc.AudioResampler] = {}

    def _pcm(self, frame: rtc.AudioFrame, side: str) -> npt.NDArray[np.int16]:
        data = np.frombuffer(frame.data, dtype=np.int16).reshape(-1, frame.num_channels)[:, 0]
        if frame.sample_rate == self.sample_rate:
            return data.copy()
        key = (side, frame.sample_rate)
        if key not in self._resamplers:
            self._resamplers[key] = rtc.AudioResampler(frame.sample_rate, self.sample_rate)
        mono = rtc.AudioFrame(
            data=data.tobytes(),
            sample_rate=frame.sample_rate,
            num_channels=1,
            samples_per_channel=len(data),
        )
        out = [np.frombuffer(f.data, dtype=np.int16) for f in self._resamplers[key].push(mono)]
        return np.concatenate(out) if out else np.zeros(0, dtype=np.int16)

    def caller(self, frame: rtc.AudioFrame) -> None:
        """One frame of the caller's (masked) audio, in arrival order."""
        data = self._pcm(frame, "caller")
        paused = self._is_paused()
        if paused and self._pause_started is None:
            self._pause_started = self._caller_at
        elif not paused and self._pause_started is not None:
            self._close_pause()
        self._caller.write(self._caller_at, np.zeros_like(data) if paused else data)
        self._caller_at += len(data)

    def agent(self, frame: rtc.AudioFrame) -> None:
        """One frame of the agent's speech, placed when it is played."""
        data = self._pcm(frame, "agent")
        now = int((time.monotonic() - self._started) * self.sample_rate)
        self._agent_at = max(self._agent_at, now)
        self._agent.write(self._agent_at, data)
        self._agent_at += len(data)

    def _close_pause(self) -> None:
        assert self._pause_started is not None
        rate = float(self.sample_rate)
        self.pauses.append((self._pause_started / rate, self._caller_at / rate))
        self._pause_started = None

    def save(self, directory: Path) -> Path:
        """Write the stereo WAV and the manifest of pauses; returns the WAV's path."""
        if self._pause_started is not None:
            self._close_pause()
        length = max(self._caller_at, self._agent_at)
        stereo = np.zeros((length, 2), dtype=np.int16)
        stereo[: min(length, len(self._caller.samples)), 0] = self._caller.samples[:length]
        stereo[: min(length, len(self._agent.samples)), 1] = self._agent.samples[:length]
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / RECORDING_FILE
        with wave.open(str(path), "wb") as out:
            out.setnchannels(2)
            out.setsampwidth(2)
            out.setframerate(self.sample_rate)
            out.writeframes(stereo.tobytes())
        manifest = {
            "file": RECORDING_FILE,
            "sample_rate": self.sample_rate,
            "channels": {"0": "caller (DTMF masked)", "1": "agent"},
            "duration_s": round(length / self.sample_rate, 3),
            "pauses": [{"start_s": round(a, 3), "end_s": round(b, 3)} for a, b in self.pauses],
            "pause_reason": "card data capture: the caller channel is not recorded",
        }
        (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return path


class RecordedAudioInput(io.AudioInput):
    """Passes the caller's frames on unchanged, recording each."""

    def __init__(self, source: io.AudioInput, recorder: CallRecorder) -> None:
        super().__init__(label="recorded-caller", source=source)
        self._recorder = recorder

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await super().__anext__()
        self._recorder.caller(frame)
        return frame


class RecordedAudioOutput(io.AudioOutput):
    """Passes the agent's frames on to the real output, recording each."""

    def __init__(self, next_in_chain: io.AudioOutput, recorder: CallRecorder) -> None:
        super().__init__(
            label="recorded-agent",
            capabilities=io.AudioOutputCapabilities(pause=False),
            next_in_chain=next_in_chain,
        )
        self._recorder = recorder

    @property
    def sample_rate(self) -> int | None:
        """The rate the real output wants."""
        return self.next_in_chain.sample_rate if self.next_in_chain else None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Record then forward one frame."""
        await super().capture_frame(frame)
        self._recorder.agent(frame)
        if self.next_in_chain is not None:
            await self.next_in_chain.capture_frame(frame)

    def flush(self) -> None:
        """Forward the end of an utterance."""
        super().flush()
        if self.next_in_chain is not None:
            self.next_in_chain.flush()

    def clear_buffer(self) -> None:
        """Forward an interruption."""
        if self.next_in_chain is not None:
            self.next_in_chain.clear_buffer()
