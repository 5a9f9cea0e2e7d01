"""Per-call state reachable from every tool through ``RunContext[CallContext]``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from livekit.agents import llm

from agent.call_store import CallStateStore
from agent.escalation import EscalationTracker, LLMClassifier, Trigger
from agent.events import CallEvents
from agent.voice_identity import CallerAudio
from agent.workflow import CallState
from payment_tools.capture import KeySource
from payment_tools.desk import PaymentDesk
from payment_tools.keypad import KeypadRouter
from prompts import PromptBook
from voicepay.accounts import Account, AccountRepository
from voicepay.settings import Settings

if TYPE_CHECKING:
    from livekit.agents import AgentSession

    from agent.handoff import HandoffQueue
    from agent.human_desk import HumanDesk
    from agent.lockout import AuthLockout
    from agent.one_time_code import OneTimeCodes
    from agent.voice_identity import VoiceAuth
    from payment_tools.gateway import CheckoutGateway
    from voicepay.call_records import CallRecordStore
    from voicepay.email_sender import EmailSender
    from voicepay.plans import PlanStore
    from voicepay.promises import PromiseStore
    from voicepay.receipts import ReceiptSender
    from voicepay.saved_cards import SavedCardStore
    from voicepay.sms import SmsSender

T = TypeVar("T")


@dataclass
class CallServices:
    """Process-wide services shared by every call a worker handles."""

    settings: Settings
    calls: CallStateStore
    accounts: AccountRepository
    handoffs: HandoffQueue
    desk: PaymentDesk
    receipts: ReceiptSender
    lockout: AuthLockout
    humans: HumanDesk
    plans: PlanStore
    promises: PromiseStore
    saved_cards: SavedCardStore
    llm: llm.LLM[Any] | None = None
    classifier: LLMClassifier | None = None
    voice: VoiceAuth | None = None
    records: CallRecordStore | None = None
    codes: OneTimeCodes | None = None
    sms: SmsSender | None = None
    email: EmailSender | None = None
    checkout: CheckoutGateway | None = None


@dataclass
class CallContext:
    """Everything one call's tools need; the ``userdata`` of its ``AgentSession``."""

    call_id: str
    services: CallServices
    prompts: PromptBook
    keypad: KeypadRouter
    events: CallEvents
    session: AgentSession[CallContext] | None = None
    capturing: bool = field(default=False)
    hangup: asyncio.Event = field(default_factory=asyncio.Event)
    greeted: asyncio.Event = field(default_factory=asyncio.Event)
    escalation: EscalationTracker = field(default_factory=EscalationTracker)
    pending_transfer: Trigger | None = None
    keypad_interrupt: str | None = None
    caller_audio: CallerAudio = field(default_factory=CallerAudio)
    listening: asyncio.Event = field(default_factory=asyncio.Event)
    verifying: asyncio.Lock = field(default_factory=asyncio.Lock)
    voice_checked: str | None = None
    factors_passed: set[str] = field(default_factory=set)
    _utterance: asyncio.Future[str | None] | None = field(default=None, repr=False)
    speech_ignored_said: bool = False
    caller_gone: bool = False
    ending: bool = False
    _latest: CallState | None = field(default=None, repr=False)
    _latest_json: str | None = field(default=None, repr=False)

    @property
    def settings(self) -> Settings:
        """The process configuration."""
        return self.services.settings

    @property
    def language(self) -> str:
        """The language prompts are spoken in."""
        return self.prompts.language

    def interrupt_keypad(self, reason: str) -> bool:
        """Call off the keypad entry in progress (e.g. the caller asked for a person).

        The tool holding the keypad sees the entry end and reads ``keypad_interrupt`` to say
        why. Returns whether an entry was in progress.
        """
        if not self.keypad.cancel_session():
            return False
        self.keypad_interrupt = reason
        return True

    async def next_utterance(self, timeout_s: float) -> str | None:
        """The caller's next utterance, taken by a tool instead of the LLM (``None`` on silence)."""
        self._utterance = asyncio.get_running_loop().create_future()
        self.listening.set()
        try:
            return await asyncio.wait_for(self._utterance, timeout_s)
        except TimeoutError:
            return None
        finally:
            self.listening.clear()
            self._utterance = None

    def caller_left(self) -> None:
        """The caller hung up: keypad reads end and a tool awaiting an utterance gets ``None``."""
        self.caller_gone = True
        self.keypad.hang_up()
        if self._utterance is not None and not self._utterance.done():
            self._utterance.set_result(None)

    def take_utterance(self, text: str) -> bool:
        """Hand an utterance to the tool waiting for one; whether one was waiting."""
        if self._utterance is None or self._utterance.done():
            return False
        self.listening.clear()
        self._utterance.set_result(text)
        return True

    def request_hangup(self) -> None:
        """Ask the runtime to hang up once the agent has finished speaking."""
        self.hangup.set()

    async def state(self) -> CallState:
        """The call's current workflow state.

        One process owns a call, so the context keeps the latest state it read or wrote. The
        object returned is that copy: read it, and change it only through :meth:`update`.
        """
        if self._latest is None:
            self._latest = await self.services.calls.load(self.call_id)
        return self._latest

    async def refresh(self) -> CallState:
        """Reload the call's state from Redis (another process, a webhook, may have moved it)."""
        before = (await self.state()).step
        self._latest_json = await self.services.calls.raw(self.call_id)
        self._latest = CallState.model_validate_json(self._latest_json)
        if self._latest.step is not before:
            self.events.emit("step", source=before.value, target=self._latest.step.value)
        return self._latest

    async def account(self) -> Account | None:
        """The account the caller identified, if any."""
        number = (await self.state()).account_number
        return await self.services.accounts.get(number) if number else None

    async def update(self, change: Callable[[CallState], T]) -> tuple[CallState, T]:
        """Apply a workflow transition atomically and report any step change."""
        before = (await self.state()).step
        state, result, self._latest_json = await self.services.calls.update(
            self.call_id, change, known=self._latest_json
        )
        self._latest = state
        if state.step is not before:
            self.events.emit("step", source=before.value, target=state.step.value)
        return state, result

    async def say(self, text: str, *, in_context: bool) -> None:
        """Speak ``text`` to the caller; ``in_context`` adds it to the LLM's chat context.

        Speech added to the context reaches the transcript through the session's conversation
        items; speech kept out of it (keypad prompts) is reported here.
        """
        if not in_context:
            self.events.emit("agent_said", text=text, in_context=False)
        if self.session is not None:
            await self.session.say(text, add_to_chat_ctx=in_context)

    @asynccontextmanager
    async def keypad_only(self) -> AsyncIterator[KeySource]:
        """Hold the keypad exclusively with the caller's speech shut out.

        While inside, the caller's audio input is disabled (nothing reaches VAD, STT, the LLM or the
        recorder) and text-mode speech is dropped by the ingress.
        """
        async with self.keypad.exclusive() as keys:
            session = self.session
            audio = session is not None and session.input.audio is not None
            self.capturing = True
            self.keypad_interrupt = None
            self.speech_ignored_said = False
            if audio and session is not None:
                session.input.set_audio_enabled(False)
            try:
                yield keys
            finally:
                self.capturing = False
                if audio and session is not None:
                    session.input.set_audio_enabled(True)
