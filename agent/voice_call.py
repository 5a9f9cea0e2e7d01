"""One call as audio, offline: the production agent behind the full voice pipeline, no room.

A :class:`VoiceCall` has the caller interface of :class:`agent.text_call.TextCall` (``start``,
``say``, ``speak``, ``press``, ``wait``, ``hang_up``, ``close``), but every caller action is audio
on a simulated line (:mod:`agent.voice_line`): speech synthesised with espeak-ng or real
recordings, and keypad keys as in-band DTMF tones. The line's frames go through the same chain as
a SIP caller's track in the worker — the DTMF masking processor (keys heard in-band go to the
keypad through :class:`~payment_tools.dtmf.DualSourceKeys`), the call recorder, voice
authentication's buffer — then to a real ``AgentSession`` with LiveKit's Silero VAD, the offline
Whisper STT (through the agent's redacting ``stt_node``), the LLM, and espeak-ng TTS into a
recorded earpiece. Closing writes ``recording.wav`` and ``recording.json`` to the recording dir.

Timing: the line runs ``speed`` times faster than real time, and the agent's speech is taken as
fast as it is synthesised; the recorder places both on the line clock. The earpiece reports an
utterance played once the line has run past its end, and before each caller action the driver
lets the line run past the end of the agent's speech (fast-forwarding, since the caller is only
listening), so the recording sounds like a real call without the call taking real time. The
agent's own timeouts stay in wall time.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import AgentSession, SpeechCreatedEvent, llm, vad
from livekit.plugins import silero

from agent.call_context import CallContext
from agent.call_end import close_call_record
from agent.payment_agent import PaymentAgent
from agent.recorder import CallRecorder, RecordedAudioOutput, RecordingTap
from agent.runtime import build_llm, build_session
from agent.speech.config import Language
from agent.speech.espeak_tts import EspeakTTS
from agent.speech_language import follow_language
from agent.text_call import mask_keys
from agent.voice_caller import CallerVoice, key_tones, to_pcm
from agent.voice_line import CallerLine, Earpiece
from agent.voice_pipeline import SpeechTap, TrackedWhisperSTT
from agent.workflow import CallState
from payment_tools.dtmf import DtmfMaskingProcessor, DualSourceKeys
from voicepay.logging_setup import call_id_var

LINE_RATE = 16000
DEFAULT_SPEED = 4.0
"""Line seconds per wall second in simulations (1.0 is real time).

Two Silero VAD streams (turn taking, and the STT's segmentation) must keep up with the line on a
busy two-core machine, or the caller's speech would be heard late."""
TURN_GAP_S = 0.4
"""Line time the caller leaves after the agent's speech before acting."""
KEYS_TAIL_S = 0.3
"""Line time after the last tone for the receiver to confirm the key."""
SPEECH_TAIL_S = 0.8
"""Line time after an utterance for the VAD to end it (its silence threshold is 0.55 s)."""
_POLL_S = 0.02
_QUIET_S = 0.3
_REPLY_WAIT_S = 5.0
_HEARD_WAIT_S = 30.0

_VAD: vad.VAD | None = None


def shared_vad() -> vad.VAD:
    """LiveKit's Silero VAD, loaded once per process."""
    global _VAD
    if _VAD is None:
        _VAD = silero.VAD.load()
    return _VAD


class VoiceCall:
    """Drives one call through the full audio pipeline.

    Args:
        call: the call's context (from :func:`agent.runtime.open_call`).
        model: the LLM to use instead of the configured one.
        recording_dir: where :meth:`close` writes the recording (none written without it).
        speed: line seconds per wall second.
    """

    def __init__(
        self,
        call: CallContext,
        *,
        model: llm.LLM[Any] | None = None,
        recording_dir: Path | None = None,
        speed: float = DEFAULT_SPEED,
    ) -> None:
        self.call = call
        self.recording_dir = recording_dir
        settings = call.settings
        language: Language = "fr" if call.language == "fr" else "en"
        self.recorder = CallRecorder(
            is_paused=lambda: call.capturing, sample_rate=LINE_RATE, clock=self._line_clock
        )
        self.keys = DualSourceKeys(call.keypad.press, clock=self._line_clock)
        masking = DtmfMaskingProcessor(on_key=self.keys.inband, clock=self._line_clock)
        self.line = CallerLine(RecordingTap(masking, self.recorder), speed=speed)
        self.line.listeners.append(SpeechTap(call))
        self.earpiece = Earpiece(lambda: self.line.wait_until(self.recorder.agent_end_s, fast=True))
        self._stt = TrackedWhisperSTT(settings.speech.offline_stt, language=language)
        self.session: AgentSession[CallContext] = build_session(
            call,
            model or build_llm(call),
            stt=self._stt,
            tts=EspeakTTS(settings.speech.offline_tts, language=language),
            vad=shared_vad(),
        )
        self.agent = PaymentAgent(call)
        self._voice = CallerVoice(language, settings.speech.offline_tts, line_rate=LINE_RATE)
        self._room = rtc.Room()
        self._speeches: set[Any] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._reply_expected_at: float | None = None
        self._closed = False
        call.keypad.on_line = self._on_keypad_line
        call.events.subscribe(self._on_call_event, details=False)
        follow_language(call, self.session)
        self.session.on("speech_created", self._on_speech)
        self.recorder.follow(self.session, call.events)

    def _line_clock(self) -> float:
        return self.line.position_s

    async def start(self) -> None:
        """Open the line and the session; returns once the greeting has been said."""
        call_id_var.set(self.call.call_id)
        self.call.keypad.attach_room(self._room, sip_keys=False)
        self.keys.attach_room(self._room)
        self.session.input.audio = self.line.input
        self.session.output.audio = RecordedAudioOutput(self.earpiece, self.recorder)
        self.line.start()
        await self.session.start(self.agent)
        await self.call.greeted.wait()
        await self.settle()

    async def say(self, text: str) -> None:
        """The caller says ``text`` (synthesised with espeak-ng)."""
        if not self.over:
            await self._speak(await self._voice.speak(text))

    async def speak(self, samples: npt.NDArray[np.float32], sample_rate: int, text: str) -> None:
        """The caller plays a recorded clip; ``text`` is unused (the STT hears the audio)."""
        del text
        if not self.over:
            await self._speak(to_pcm(samples, sample_rate, LINE_RATE))

    async def press(self, keys: str) -> None:
        """The caller types ``keys``: in-band DTMF tones on the line."""
        if self.over:
            return
        await self._caller_turn()
        self.call.events.emit("keypad", keys=len(keys), masked=mask_keys(keys))
        end = await self.line.play(key_tones(keys, LINE_RATE))
        await self.line.wait_until(end + KEYS_TAIL_S)
        await self.settle()

    async def wait(self, seconds: float) -> None:
        """The caller stays silent for ``seconds`` of wall time (the agent's timeouts are)."""
        await asyncio.sleep(seconds)
        await self.settle()

    async def hang_up(self) -> None:
        """The caller hangs up."""
        self.call.keypad.hang_up()
        await self.settle()
        await self.close(outcome="caller_hung_up")

    async def close(self, *, outcome: str = "abandoned") -> CallState:
        """End the call (if the agent has not), write the recording, return the final state."""
        if not self._closed:
            self._closed = True
            await self.settle()
            await close_call_record(self.call, outcome)
            await self.session.aclose()
            await self.line.close()
            self.call.keypad.detach()
            self.keys.detach()
            await self._voice.aclose()
            if self.recording_dir is not None:
                self.recorder.save(self.recording_dir)
        return await self.call.state()

    @property
    def over(self) -> bool:
        """Whether the agent ended or transferred the call."""
        return self._closed or self.call.hangup.is_set()

    async def _caller_turn(self) -> None:
        """Let the agent's speech play out on the line before the caller acts."""
        await self.line.wait_until(self.recorder.agent_end_s + TURN_GAP_S, fast=True)

    async def _speak(self, pcm: npt.NDArray[np.int16]) -> None:
        await self._caller_turn()
        heard = self._stt.completed
        listened = not self.call.capturing
        end = await self.line.play(pcm)
        await self.line.wait_until(end + SPEECH_TAIL_S)
        if listened and not self.call.capturing:
            # The utterance is over on the line; wait for the recogniser to have heard it.
            await self._stt.heard(heard, _HEARD_WAIT_S)
        await self.settle()

    async def settle(self) -> None:
        """Wait until the agent is idle, waiting for keys or an answer, or done with the call."""
        keypad = self.call.keypad
        quiet_since: float | None = None
        while True:
            await asyncio.sleep(_POLL_S)
            now = time.monotonic()
            if self._reply_expected_at is not None and now - self._reply_expected_at > (
                _REPLY_WAIT_S
            ):
                self._reply_expected_at = None
            self._speeches = {s for s in self._speeches if not s.done()}
            self._tasks = {t for t in self._tasks if not t.done()}
            hearing = self.session.user_state == "speaking" or self._stt.in_flight > 0
            if self.call.hangup.is_set() and not self._speeches:
                return
            if not hearing and (keypad.waiting_for_key or self.call.listening.is_set()):
                return
            busy = (
                hearing
                or bool(self._speeches)
                or bool(self._tasks)
                or self._reply_expected_at is not None
                or self.session.agent_state in ("thinking", "speaking")
                or (keypad.busy and not keypad.waiting_for_key)
            )
            if busy:
                quiet_since = None
            elif quiet_since is None:
                quiet_since = now
            elif now - quiet_since >= _QUIET_S:
                return

    def _on_speech(self, event: SpeechCreatedEvent) -> None:
        self._speeches.add(event.speech_handle)
        self._reply_expected_at = None

    def _on_call_event(self, event: Any) -> None:
        if event.kind == "caller_said" and not ({"ignored", "taken_by"} & set(event.data)):
            self._reply_expected_at = time.monotonic()

    def _on_keypad_line(self, line: str) -> None:
        task = asyncio.ensure_future(self._keypad_line(line))
        self._tasks.add(task)

    async def _keypad_line(self, line: str) -> None:
        accepted = await self.agent.ingress.keypad_line(line)
        if accepted is not None:
            self.session.generate_reply(user_input=accepted)
