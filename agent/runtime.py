"""Wiring: services from settings, one call's context, its LLM and its ``AgentSession``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from livekit.agents import (
    AgentSession,
    ConversationItemAddedEvent,
    FunctionToolsExecutedEvent,
    llm,
)
from livekit.agents import stt as stt_module
from livekit.agents import tts as tts_module
from livekit.agents import vad as vad_module
from livekit.agents.types import NOT_GIVEN, NotGivenOr
from livekit.agents.utils import is_given
from livekit.agents.voice.turn import TurnHandlingOptions
from redis.asyncio import Redis

from agent.call_context import CallContext, CallServices
from agent.call_store import CallStateStore
from agent.escalation import EscalationTracker, LiveKitLLMClassifier
from agent.events import CallEvents
from agent.handoff import HandoffQueue
from agent.human_desk import ConsoleDesk, HumanDesk
from agent.lockout import AuthLockout
from agent.offline_llm import DirectedDialogLLM
from agent.one_time_code import OneTimeCodes
from agent.voice_identity import VoiceAuth
from agent.workflow import CallState
from payment_tools.capture import CaptureOptions
from payment_tools.cards import CardBrand
from payment_tools.desk import PaymentDesk
from payment_tools.gateway import (
    CheckoutGateway,
    PaymentGateway,
    SandboxCheckout,
    SandboxGateway,
    StripeGateway,
)
from payment_tools.ids import random_hex
from payment_tools.keypad import KeypadRouter
from payment_tools.redaction import mask_card_numbers
from prompts import PromptBook
from voicepay.accounts import AccountRepository
from voicepay.call_records import CallRecordStore
from voicepay.email_sender import make_email_sender
from voicepay.metrics import CallMetrics, latency_fields
from voicepay.plans import PlanStore
from voicepay.promises import PromiseStore
from voicepay.receipts import ReceiptSender
from voicepay.saved_cards import SavedCardStore
from voicepay.settings import Settings
from voicepay.sms import TwilioSmsSender, make_sms_sender
from voicepay.webhooks import WebhookReceiver

MAX_TOOL_STEPS = 6


def make_gateway(settings: Settings) -> PaymentGateway:
    """The configured processor: Stripe with a key, else the offline sandbox."""
    if settings.gateway == "stripe":
        key = settings.stripe_key
        return StripeGateway(
            api_key=key.get_secret_value() if key else None,
            api_base=settings.payments.stripe_api_base,
            max_network_retries=settings.payments.network_retries,
            timeout_s=settings.payments.request_timeout_s,
        )
    return SandboxGateway()


def capture_options(settings: Settings) -> CaptureOptions:
    """Keypad capture options from the configuration."""
    capture = settings.capture
    return CaptureOptions(
        accepted_brands=frozenset(CardBrand(brand) for brand in capture.accepted_brands),
        timeout_s=capture.timeout_s,
        max_attempts=capture.max_attempts,
        security_code=capture.security_code,
        postal_code=capture.postal_code,
        min_postal_code_length=capture.min_postal_code_length,
        require_matching_inputs=capture.require_matching_inputs,
    )


@asynccontextmanager
async def open_services(
    settings: Settings,
    redis: Redis,
    *,
    outbox_dir: Path,
    gateway: PaymentGateway | None = None,
    humans: HumanDesk | None = None,
) -> AsyncIterator[CallServices]:
    """Process-wide services; the gateway is closed on exit.

    Args:
        settings: the configuration.
        redis: the shared Redis.
        outbox_dir: the one outbox folder of the offline text-message and e-mail senders.
        gateway: the processor; by default the configured one.
        humans: who takes transferred calls; by default people in the console.
    """
    processor = gateway or make_gateway(settings)
    desk = PaymentDesk(processor, capture_options(settings))
    lockout = AuthLockout(
        redis, max_failures=settings.auth.knowledge_max_attempts, window_s=settings.auth.lockout_s
    )
    model = configured_llm(settings)
    # The classifier gets its own client: its failures must not count against the call's LLM.
    classifier_model = configured_llm(settings) if settings.escalation.llm_classifier else None
    sms = make_sms_sender(settings.sms, outbox_dir)
    email = make_email_sender(settings.email, outbox_dir)
    codes = OneTimeCodes(
        redis,
        sms,
        settings.auth.pepper.get_secret_value().encode(),
        ttl_s=settings.auth.one_time_code_ttl_s,
        per_hour=settings.auth.one_time_codes_per_hour,
    )
    try:
        yield CallServices(
            settings=settings,
            calls=CallStateStore(redis, ttl_s=settings.call_ttl_s),
            accounts=AccountRepository(redis, settings.auth.pepper),
            handoffs=HandoffQueue(redis),
            desk=desk,
            receipts=ReceiptSender(sms, email),
            lockout=lockout,
            humans=humans or ConsoleDesk(redis),
            plans=PlanStore(redis),
            promises=PromiseStore(redis),
            saved_cards=SavedCardStore(redis),
            voice=VoiceAuth(settings.voice_auth, settings.environment, redis, lockout),
            records=CallRecordStore(redis, ttl_s=settings.metrics.record_ttl_s),
            codes=codes,
            sms=sms,
            email=email,
            checkout=_checkout(processor, settings, redis),
            llm=model,
            classifier=(
                LiveKitLLMClassifier(classifier_model, timeout_s=settings.escalation.llm_timeout_s)
                if classifier_model is not None
                else None
            ),
        )
    finally:
        await desk.aclose()
        if isinstance(sms, TwilioSmsSender):
            await sms.aclose()
        for client in (model, classifier_model):
            if client is not None:
                await client.aclose()


def _checkout(gateway: PaymentGateway, settings: Settings, redis: Redis) -> CheckoutGateway | None:
    """The gateway's payment links; the sandbox's local page posts its events to the receiver."""
    if isinstance(gateway, SandboxGateway):
        if gateway.checkout is None:
            receiver = WebhookReceiver.from_settings(redis, settings, cards=gateway)

            async def deliver(payload: bytes, signature: str) -> int:
                return (await receiver.handle(payload, signature)).status

            gateway.checkout = SandboxCheckout(
                gateway,
                webhook_secret=settings.links.webhook_secret.get_secret_value(),
                sink=deliver,
                webhook_url=settings.links.sandbox_webhook_url,
                merchant=settings.payments.merchant_name,
            )
        return gateway
    return gateway if isinstance(gateway, StripeGateway) else None


async def open_call(
    services: CallServices, *, language: str, call_id: str | None = None
) -> CallContext:
    """Create a new call's workflow state and context."""
    call_id = call_id or f"call_{random_hex(8)}"
    await services.calls.create(CallState(call_id=call_id, language=language))
    events = CallEvents(call_id)
    events.subscribe(CallMetrics(), details=False)
    return CallContext(
        call_id=call_id,
        services=services,
        prompts=PromptBook.load(language),
        keypad=KeypadRouter(),
        events=events,
        escalation=EscalationTracker(services.settings.escalation),
    )


def configured_llm(settings: Settings) -> llm.LLM[Any] | None:
    """The configured real LLM (LiveKit's OpenAI plugin), or ``None`` when running offline."""
    if settings.llm_provider == "offline":
        return None
    from livekit.plugins import openai

    key = settings.openai_key
    return openai.LLM(
        model=settings.llm.model,
        base_url=settings.llm.base_url or NOT_GIVEN,
        api_key=key.get_secret_value() if key else NOT_GIVEN,
    )


def build_llm(call: CallContext, *, primary: llm.LLM[Any] | None = None) -> llm.LLM[Any]:
    """The call's LLM: the primary model falling back to the directed dialog, or the dialog alone.

    The directed dialog also takes over a reply the primary model cut off mid-stream: a caller
    hearing half a sentence and then silence is worse than hearing the sentence restarted.

    Args:
        call: the call the directed dialog serves.
        primary: the model to use first; by default the process's configured one (none offline).
    """
    offline = DirectedDialogLLM(call)
    settings = call.settings
    primary = primary or call.services.llm
    if primary is None:
        return offline
    adapter = llm.FallbackAdapter(
        [primary, offline],
        attempt_timeout=settings.llm.attempt_timeout_s,
        max_retry_per_llm=0,
        retry_on_chunk_sent=True,
    )

    def report(event: llm.AvailabilityChangedEvent) -> None:
        call.events.emit("llm_fallback", model=event.llm.model, available=event.available)

    adapter.on("llm_availability_changed", report)
    return adapter


def build_session(
    call: CallContext,
    model: llm.LLM[Any],
    *,
    stt: NotGivenOr[stt_module.STT[Any]] = NOT_GIVEN,
    tts: NotGivenOr[tts_module.TTS[Any]] = NOT_GIVEN,
    vad: NotGivenOr[vad_module.VAD] = NOT_GIVEN,
) -> AgentSession[CallContext]:
    """An ``AgentSession`` for the call, with its context as userdata.

    Text mode passes no ``stt``/``tts``/``vad``; its turns are explicit, so it runs no end-of-turn
    model. Preemptive generation stays off so that nothing reaches the LLM before the ingress has
    screened the caller's final transcript; IVR detection stays off so that no DTMF tool is ever
    handed to the LLM.
    """
    turn_handling: TurnHandlingOptions = {"preemptive_generation": {"enabled": False}}
    if not is_given(stt):
        turn_handling["turn_detection"] = "manual"
    session = AgentSession[CallContext](
        userdata=call,
        llm=model,
        stt=stt,
        tts=tts,
        vad=vad,
        max_tool_steps=MAX_TOOL_STEPS,
        ivr_detection=False,
        turn_handling=turn_handling,
    )
    call.session = session
    _bridge_events(call, session)
    return session


def _bridge_events(call: CallContext, session: AgentSession[CallContext]) -> None:
    """Report the session's assistant messages and tool calls on the call's event stream."""

    def on_item(event: ConversationItemAddedEvent) -> None:
        # Read per item: the caller may switch the call's language at the greeting.
        not_understood = tuple(
            call.prompts.text(key)
            for key in ("fallback.not_understood", "amount.error.unclear", "confirm.unclear")
        )
        item = event.item
        if item.type == "message" and item.metrics:
            latencies = latency_fields(item.metrics)
            if latencies:
                call.events.emit("turn_metrics", role=item.role, **latencies)
        if item.type == "message" and item.role == "assistant" and item.text_content:
            call.events.emit("agent_said", text=item.text_content, in_context=True)
            if item.text_content.startswith(not_understood):
                trigger = call.escalation.observe_misunderstanding()
                if trigger is not None and call.pending_transfer is None:
                    call.pending_transfer = trigger
                    call.events.emit("trigger", reason=trigger.reason.value, detail=trigger.detail)

    def on_tools(event: FunctionToolsExecutedEvent) -> None:
        call.escalation.observe_understood()
        for fnc_call, output in event.zipped():
            call.events.emit(
                "tool_call",
                name=fnc_call.name,
                arguments=mask_card_numbers(fnc_call.arguments),
                output=mask_card_numbers(output.output) if output else None,
                is_error=output.is_error if output else None,
                duration_s=round(output.created_at - fnc_call.created_at, 3) if output else None,
            )

    session.on("conversation_item_added", on_item)
    session.on("function_tools_executed", on_tools)
    session.on("close", lambda _: call.hangup.set())


async def wait_for_hangup(call: CallContext, session: AgentSession[CallContext]) -> None:
    """Close the session once a tool asked to hang up and the goodbye has been said."""
    await call.hangup.wait()
    await asyncio.sleep(0)
    await session.aclose()
