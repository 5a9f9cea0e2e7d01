"""One call in LiveKit text mode: the production agent, tools, workflow and LLM, with typed speech.

A :class:`TextCall` is what the demo, ``voicepay chat``, the evals and the tests drive. Caller
speech goes through the same ingress as STT transcripts; keypad keys arrive as LiveKit
``sip_dtmf_received`` events on a room, exactly as SIP DTMF does in production. After each caller
action the driver waits until the agent has settled: every reply spoken, a tool waiting for keys, or
the call over.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

import numpy as np
import numpy.typing as npt
from livekit import rtc
from livekit.agents import AgentSession, llm

from agent.call_context import CallContext
from agent.call_end import close_call_record
from agent.payment_agent import PaymentAgent
from agent.runtime import build_llm, build_session
from agent.workflow import CallState
from voicepay.logging_setup import call_id_var

_DTMF_CODES = "0123456789*#ABCD"
"""RFC 4733 event codes: 0-9, then *, #, A-D."""


def mask_keys(keys: str) -> str:
    """Keys as the transcript shows them: every digit hidden, ``*`` and ``#`` kept."""
    return "".join(key if key in "*#" else "•" for key in keys)


class TextCall:
    """Drives one call in text mode.

    Args:
        call: the call's context (from :func:`agent.runtime.open_call`).
        model: the LLM to use instead of the configured one (tests and benchmarks).
    """

    def __init__(self, call: CallContext, *, model: llm.LLM[Any] | None = None) -> None:
        self.call = call
        self.session: AgentSession[CallContext] = build_session(call, model or build_llm(call))
        self.agent = PaymentAgent(call)
        self._pending: set[asyncio.Future[Any]] = set()
        self._run: asyncio.Future[None] | None = None
        call.keypad.on_line = self._on_keypad_line
        self._closed = False
        self._room: rtc.Room | None = None

    async def start(self) -> None:
        """Start the session; returns once the greeting has been said."""
        call_id_var.set(self.call.call_id)
        self._room = rtc.Room()
        self.call.keypad.attach_room(self._room)
        await self.session.start(self.agent)
        await self.call.greeted.wait()
        await self.settle()

    async def say(self, text: str) -> None:
        """The caller speaks ``text``."""
        if self._closed:
            return
        accepted = await self.agent.ingress.accept(text)
        if accepted is not None:
            self._reply_to(accepted)
        await self.settle()

    async def speak(self, samples: npt.NDArray[np.float32], sample_rate: int, text: str) -> None:
        """The caller speaks a recorded clip whose transcript is ``text``.

        The audio joins the caller's speech (what voice authentication listens to) unless the
        keypad is in use, exactly as the caller's audio input is shut during keypad entry.
        """
        if not self.call.capturing:
            self.call.caller_audio.add(samples, sample_rate)
        await self.say(text)

    async def press(self, keys: str) -> None:
        """The caller presses ``keys`` on the keypad."""
        if self._closed:
            return
        self.call.events.emit("keypad", keys=len(keys), masked=mask_keys(keys))
        for key in keys:
            self._dtmf(key)
        await self.settle()

    async def wait(self, seconds: float) -> None:
        """The caller stays silent for ``seconds``."""
        await asyncio.sleep(seconds)
        await self.settle()

    async def hang_up(self) -> None:
        """The caller hangs up."""
        await self.close(outcome="caller_hung_up")

    async def close(self, *, outcome: str = "abandoned") -> CallState:
        """End the call (if the agent has not) and return its final workflow state."""
        if not self._closed:
            self._closed = True
            # The line is gone: whatever the agent was still waiting for will not come.
            self.call.caller_left()
            await self.settle()
            await close_call_record(self.call, outcome)
            await self.session.aclose()
            self.call.keypad.detach()
        return await self.call.state()

    @property
    def over(self) -> bool:
        """Whether the agent ended or transferred the call."""
        return self._closed or self.call.hangup.is_set()

    async def settle(self) -> None:
        """Wait until the agent is idle, waiting for keys, or done with the call."""
        keypad = self.call.keypad
        while True:
            await asyncio.sleep(0)
            self._pending = {task for task in self._pending if not task.done()}
            if keypad.waiting_for_key or self.call.listening.is_set():
                return
            if not self._pending:
                if self.session.agent_state in ("listening", "initializing", "idle"):
                    return
                await asyncio.sleep(0.005)
                continue
            waiters = {
                asyncio.ensure_future(keypad.wait_for_key_request()),
                asyncio.ensure_future(self.call.listening.wait()),
            }
            try:
                await asyncio.wait({*self._pending, *waiters}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for waiter in waiters:
                    waiter.cancel()
            for task in [t for t in self._pending if t.done()]:
                task.result()

    def _dtmf(self, key: str) -> None:
        """One key as SIP delivers it: a ``sip_dtmf_received`` event on the call's room."""
        if self._room is None:
            raise RuntimeError("the call has not started")
        code = _DTMF_CODES.index(key)
        self._room.emit("sip_dtmf_received", rtc.SipDTMF(code=code, digit=key, participant=None))

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        self._pending.add(asyncio.ensure_future(work))

    def _reply_to(self, text: str) -> None:
        """Start the agent's reply; a reply during a pending run joins that run."""
        if self._run is not None and not self._run.done():
            self.session.generate_reply(user_input=text)
            return
        self._run = asyncio.ensure_future(self._complete_run(text))
        self._pending.add(self._run)

    async def _complete_run(self, text: str) -> None:
        await self.session.run(user_input=text)

    def _on_keypad_line(self, line: str) -> None:
        self._spawn(self._keypad_line(line))

    async def _keypad_line(self, line: str) -> None:
        accepted = await self.agent.ingress.keypad_line(line)
        if accepted is not None:
            self._reply_to(accepted)
