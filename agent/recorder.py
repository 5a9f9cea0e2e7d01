"""Call recording: caller and agent on separate channels, paused while card data is captured.

The recorder taps the caller's audio after DTMF masking and the agent's audio before it is played,
and writes a stereo WAV (left: caller, right: agent) with a JSON manifest of the pauses and
redactions. While the workflow captures card data (or the caller types a security answer), the
caller channel is not recorded at all — exact digital silence is written in its place — so no tone
and no spoken digit from a capture window can ever be in a recording. A caller utterance outside a
capture window whose transcript had card data redacted is blanked too (a redaction).

Both channels sit on one clock (seconds since the call started): the caller tap is a frame
processor that sees every frame of the caller's track, including while the agent's input is
detached for a capture, and the agent's speech is placed where it was played.
"""

from __future__ import annotations

import json
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import AgentSession, UserStateChangedEvent
from livekit.agents.voice import io

from agent.events import CallEvent, CallEvents

RECORDING_FILE = "recording.wav"
MANIFEST_FILE = "recording.json"
SPEECH_LEAD_S = 0.8
"""How far before the VAD's speech start a redaction begins (VAD onset lag plus padding)."""
SPEECH_TAIL_S = 0.2
"""How far after the VAD's speech end (itself after 0.55 s of silence) a redaction ends."""
_SPEECH_RMS = 300.0
"""A 20 ms stretch louder than this (about -40 dBFS) counts as speech when widening a redaction."""
_GAP_S = 0.4
"""Quiet shorter than this inside an utterance does not end it."""
_JUMP_S = 0.2
"""A gap in the caller's frames longer than this (by the clock) is kept as silence."""

Span = tuple[float, float]


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

    def blank(self, start: int, end: int) -> None:
        self.samples[max(0, start) : min(end, len(self.samples))] = 0


class CallRecorder:
    """Records one call in two channels, with pauses decided by ``is_paused``.

    Args:
        is_paused: whether the caller must not be recorded right now (card capture).
        sample_rate: the recording's rate; frames are resampled to it.
        clock: seconds since the call started; by default the monotonic clock from now.
    """

    def __init__(
        self,
        *,
        is_paused: Callable[[], bool],
        sample_rate: int = 16000,
        clock: Callable[[], float] | None = None,
    ) -> None:
        started = time.monotonic()
        self._clock = clock or (lambda: time.monotonic() - started)
        self._is_paused = is_paused
        self.sample_rate = sample_rate
        self._caller = _Channel()
        self._agent = _Channel()
        self._caller_at = 0
        self._agent_at = 0
        self._pause_started: int | None = None
        self._speech_started: int | None = None
        self._speech_ended: int | None = None
        self._unheard = False
        self.pauses: list[Span] = []
        self.redactions: list[Span] = []
        self._resamplers: dict[tuple[str, int], rtc.AudioResampler] = {}

    @property
    def agent_end_s(self) -> float:
        """When the agent's speech recorded so far ends, in seconds since the call started."""
        return self._agent_at / self.sample_rate

    def _now(self) -> int:
        return int(self._clock() * self.sample_rate)

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
        lag = self._now() - len(data) - self._caller_at
        if lag > _JUMP_S * self.sample_rate:
            self._caller_at += lag
        paused = self._is_paused()
        if paused and self._pause_started is None:
            self._pause_started = self._caller_at
            if self._unheard:
                # An utterance still unrecognised when capture began will never be transcribed
                # (the input is shut): it may be card digits said over the prompt, so it goes.
                self.redact_utterance()
        elif not paused and self._pause_started is not None:
            self._close_pause()
        self._caller.write(self._caller_at, np.zeros_like(data) if paused else data)
        self._caller_at += len(data)

    def agent(self, frame: rtc.AudioFrame) -> None:
        """One frame of the agent's speech, placed when it is played."""
        data = self._pcm(frame, "agent")
        self._agent_at = max(self._agent_at, self._now())
        self._agent.write(self._agent_at, data)
        self._agent_at += len(data)

    def speech_started(self) -> None:
        """The caller started speaking (VAD): where a redaction of this utterance would begin."""
        self._speech_started = max(0, self._caller_at - int(SPEECH_LEAD_S * self.sample_rate))
        self._speech_ended = None
        self._unheard = True

    def utterance_heard(self) -> None:
        """The caller's latest utterance was transcribed (and screened for card data)."""
        self._unheard = False

    def speech_ended(self) -> None:
        """The caller stopped speaking (VAD): where a redaction of this utterance would end."""
        self._speech_ended = self._caller_at + int(SPEECH_TAIL_S * self.sample_rate)

    def redact_utterance(self) -> None:
        """Blank the caller's latest utterance: its transcript held card data.

        The transcript comes after the utterance, so the blank runs from the VAD's start of speech
        to its end of speech (or to now, when no end was seen), with a margin either side.
        """
        start = self._speech_started if self._speech_started is not None else self._caller_at
        end = min(self._speech_ended or self._caller_at, self._caller_at)
        start, end = self._widen(start, -1), self._widen(end, 1)
        self._caller.blank(start, end)
        self._unheard = False
        rate = float(self.sample_rate)
        self.redactions.append((start / rate, end / rate))

    def follow(self, session: AgentSession[Any], events: CallEvents) -> None:
        """Mark the caller's utterances from the session's VAD, and redact when the ingress does."""

        def on_user_state(event: UserStateChangedEvent) -> None:
            if event.new_state == "speaking":
                self.speech_started()
            elif event.old_state == "speaking":
                self.speech_ended()

        def on_event(event: CallEvent) -> None:
            if event.kind == "card_data_redacted" and event.data.get("source") == "caller_speech":
                self.redact_utterance()
            elif event.kind == "caller_said":
                self.utterance_heard()

        session.on("user_state_changed", on_user_state)
        events.subscribe(on_event, details=False)

    def _widen(self, edge: int, step: int) -> int:
        """Move a redaction edge outwards while speech goes on (VAD marks can lag the audio)."""
        hop = step * (self.sample_rate // 50)
        samples = self._caller.samples[: self._caller_at]
        quiet, at = 0, edge
        while quiet < _GAP_S * 50 and 0 <= at + hop <= len(samples):
            stretch = samples[min(at, at + hop) : max(at, at + hop)]
            at += hop
            if float(np.sqrt(np.mean(stretch.astype(np.float64) ** 2))) > _SPEECH_RMS:
                quiet, edge = 0, at
            else:
                quiet += 1
        return edge

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
            "pauses": _spans(self.pauses),
            "pause_reason": "card data capture: the caller channel is not recorded",
            "redactions": _spans(self.redactions),
            "redaction_reason": (
                "card data in the caller's speech, or speech still unrecognised when a capture "
                "began: the utterance is blanked"
            ),
        }
        (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        return path


def _spans(spans: list[Span]) -> list[dict[str, float]]:
    return [{"start_s": round(a, 6), "end_s": round(b, 6)} for a, b in spans]


class RecordingTap(rtc.FrameProcessor[rtc.AudioFrame]):
    """A caller frame processor that records what another processor (the DTMF masker) outputs.

    Installed where the masker would be (LiveKit's ``noise_cancellation`` slot), it sees every
    frame of the caller's track, also while the agent's input is detached during a capture, so
    the caller channel keeps its timing and a pause is written as silence.

    Args:
        inner: the processor whose output is recorded (and passed on).
        recorder: where the caller's frames go.
    """

    def __init__(self, inner: rtc.FrameProcessor[rtc.AudioFrame], recorder: CallRecorder) -> None:
        self._inner = inner
        self._recorder = recorder

    @property
    def enabled(self) -> bool:
        """Whether LiveKit passes frames through this processor."""
        return self._inner.enabled

    @enabled.setter
    def enabled(self, value: bool) -> None:
        self._inner.enabled = value

    def process(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        """Run the inner processor on ``frame`` and record its output."""
        out = self._inner._process(frame)
        self._recorder.caller(out)
        return out

    def _process(self, frame: rtc.AudioFrame) -> rtc.AudioFrame:
        return self.process(frame)

    def _close(self) -> None:
        self._inner._close()


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
