"""A simulated phone line for voice-mode calls: the caller's audio in, the agent's audio out.

:class:`CallerLine` is the caller's side of the line. It sends 20 ms frames on its own clock (the
line clock, seconds of audio sent so far) at ``speed`` times real time: queued clips (speech,
keypad tones) over a faint line noise, and the noise alone between them. Each frame goes through
the caller-side frame processor (DTMF masking and recording) whether or not the agent listens, as
a room's audio track does, then to the listeners (voice authentication), and then to the agent's
input, :class:`LineInput`, which drops frames while the session has detached it. While the caller
only waits for the agent to finish speaking, the line fast-forwards: the noise still goes through
the processor (so the recording keeps its timing) but not to the agent, which hears nothing then.
:class:`Earpiece` is the caller's ear: it consumes the agent's speech at once and reports it
played, so the agent never waits on playout; the recorder places that speech on the line clock.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents.voice import io

FRAME_S = 0.02
FAST_SPEED = 40.0
"""Line seconds per wall second while fast-forwarding over the agent's speech."""
_FAST_BATCH = 10
NOISE_RMS = 12.0
"""The line's noise floor in 16-bit units (about -68 dBFS): a phone line is never digitally mute."""

Pcm = npt.NDArray[np.int16]
FrameListener = Callable[[rtc.AudioFrame], None]


class LineInput(io.AudioInput):
    """The agent's audio input: frames from the line while attached, none while detached."""

    def __init__(self) -> None:
        super().__init__(label="caller-line")
        self._frames: asyncio.Queue[rtc.AudioFrame | None] = asyncio.Queue()
        self._attached = True

    def push(self, frame: rtc.AudioFrame) -> None:
        """One frame from the line; dropped while the session has the input detached."""
        if self._attached:
            self._frames.put_nowait(frame)

    def end(self) -> None:
        """The line is closed: end the stream."""
        self._frames.put_nowait(None)

    async def __anext__(self) -> rtc.AudioFrame:
        frame = await self._frames.get()
        if frame is None:
            raise StopAsyncIteration
        return frame

    def on_attached(self) -> None:
        """The session listens again."""
        self._attached = True

    def on_detached(self) -> None:
        """The session stopped listening (keypad capture): drop what is already queued too."""
        self._attached = False
        while not self._frames.empty():
            if self._frames.get_nowait() is None:
                self._frames.put_nowait(None)
                break


class CallerLine:
    """The caller's side of a simulated line.

    Args:
        processor: the caller-side frame processor (masking, recording).
        sample_rate: the line's rate.
        speed: how many seconds of line audio are sent per second of wall time.
        seed: seeds the line noise, for reproducible recordings.
    """

    def __init__(
        self,
        processor: rtc.FrameProcessor[rtc.AudioFrame],
        *,
        sample_rate: int = 16000,
        speed: float = 1.0,
        seed: int = 0,
    ) -> None:
        self.sample_rate = sample_rate
        self.speed = speed
        self.input = LineInput()
        self.listeners: list[FrameListener] = []
        self._processor = processor
        self._step = int(FRAME_S * sample_rate)
        self._rng = np.random.default_rng(seed)
        self._clips: deque[tuple[Pcm, asyncio.Future[float]]] = deque()
        self._offset = 0
        self._sent = 0
        self._task: asyncio.Task[None] | None = None
        self._tick = asyncio.Event()
        self._fast_until = 0.0

    @property
    def position_s(self) -> float:
        """The line clock: seconds of audio sent so far."""
        return self._sent / self.sample_rate

    def start(self) -> None:
        """Start sending frames."""
        self._task = asyncio.create_task(self._run(), name="caller-line")

    async def close(self) -> None:
        """Stop sending and end the agent's input."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        for _, done in self._clips:
            done.cancel()
        self._clips.clear()
        self.input.end()

    def play(self, pcm: Pcm) -> asyncio.Future[float]:
        """Queue ``pcm`` (at the line's rate); the future gets the line time its end was sent."""
        done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._clips.append((pcm, done))
        return done

    async def wait_until(self, position_s: float, *, fast: bool = False) -> None:
        """Return once the line clock reaches ``position_s``.

        Args:
            position_s: the line time to wait for.
            fast: fast-forward to it while no clip is queued (the caller is only listening).
        """
        if fast:
            self._fast_until = max(self._fast_until, position_s)
        while self.position_s < position_s:
            if self._task is None or self._task.done():
                return
            self._tick.clear()
            await self._tick.wait()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_at = loop.time()
        while True:
            fast = not self._clips and self.position_s < self._fast_until
            batch = _FAST_BATCH if fast else 1
            for _ in range(batch):
                self._send(self._next_chunk(), to_agent=not fast)
            period = batch * FRAME_S / (FAST_SPEED if fast else self.speed)
            next_at = max(next_at + period, loop.time() - FRAME_S)
            await asyncio.sleep(max(0.0, next_at - loop.time()))

    def _next_chunk(self) -> npt.NDArray[np.float64]:
        chunk = self._rng.normal(0.0, NOISE_RMS, self._step)
        filled = 0
        while self._clips and filled < self._step:
            pcm, done = self._clips[0]
            take = min(self._step - filled, len(pcm) - self._offset)
            chunk[filled : filled + take] += pcm[self._offset : self._offset + take]
            filled += take
            self._offset += take
            if self._offset >= len(pcm):
                self._clips.popleft()
                self._offset = 0
                if not done.done():
                    done.set_result((self._sent + filled) / self.sample_rate)
        return chunk

    def _send(self, chunk: npt.NDArray[np.float64], *, to_agent: bool) -> None:
        pcm = np.clip(np.round(chunk), -32768, 32767).astype(np.int16)
        frame = rtc.AudioFrame(pcm.tobytes(), self.sample_rate, 1, len(pcm))
        self._sent += len(pcm)
        out = self._processor._process(frame)
        for listener in self.listeners:
            listener(out)
        if to_agent:
            self.input.push(out)
        self._tick.set()


class Earpiece(io.AudioOutput):
    """The caller's ear: takes the agent's speech as fast as it comes, plays it on the line clock.

    An utterance counts as played once ``played`` returns (the line has run past its end in the
    recording), so the agent's own timers (a keypad entry's timeout after its prompt) start when
    the caller has heard the prompt, as on a real line.

    Args:
        played: waits until everything taken so far has been heard.
    """

    def __init__(self, played: Callable[[], Awaitable[None]]) -> None:
        super().__init__(label="earpiece", capabilities=io.AudioOutputCapabilities(pause=False))
        self._played = played
        self._segment_s: float | None = None
        self._finishing: asyncio.Task[None] | None = None

    async def capture_frame(self, frame: rtc.AudioFrame) -> None:
        """Take one frame of the agent's speech."""
        await super().capture_frame(frame)
        if self._segment_s is None:
            self._segment_s = 0.0
            self.on_playback_started(created_at=time.time())
        self._segment_s += frame.duration

    def flush(self) -> None:
        """The utterance is complete: report it played once the line has played it."""
        super().flush()
        played, self._segment_s = self._segment_s, None
        if played is not None:
            self._finishing = asyncio.create_task(self._finish(played))

    async def _finish(self, played: float) -> None:
        await self._played()
        self.on_playback_finished(playback_position=played, interrupted=False)

    def clear_buffer(self) -> None:
        """An interruption: report the utterance stopped now."""
        played, self._segment_s = self._segment_s, None
        if self._finishing is not None and not self._finishing.done():
            self._finishing.cancel()
            self.on_playback_finished(playback_position=0.0, interrupted=True)
        elif played is not None:
            self.on_playback_finished(playback_position=played, interrupted=True)
